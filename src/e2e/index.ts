/** The end-to-end flow as a library: the e2e tests and doctor's e2e check (src/doctor/checks/e2e.ts) both use it. */
export { deleteRegistration } from './cleanup.js';
export { runE2e, summarizeToken, type E2eOptions, type E2eReport, type RegistrationStrategy } from './flow.js';
export type { DpopChoice } from './dpop.js';
export { ClientStore, REDIRECT_URI, vscodeClientMetadata } from './provider.js';
export { SDK_LINES } from './sdk.js';
export { MAX_REAUTHORIZATIONS, type StepUpSummary, type StepUpTool } from './step-up.js';
export { signIn } from '../oauth/sign-in.js';
