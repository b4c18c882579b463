/** The end-to-end flow as a library: the e2e tests and doctor's e2e check (src/doctor/checks/e2e.ts) both use it. */
export { captureRegistration, deleteRegistration } from './cleanup.js';
export { runE2e, summarizeToken, type E2eOptions, type E2eReport, type TokenSummary } from './flow.js';
export { ClientStore, E2eOAuthProvider, REDIRECT_URI, vscodeClientMetadata } from './provider.js';
export { loadSdk, SDK_LINES, type SdkLine } from './sdk.js';
export { STEP } from './steps.js';
