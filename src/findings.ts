/**
 * Findings are data: every doctor check and every step of the end-to-end chain yields `Finding`s, one
 * formatter prints them, `--json` serialises them as they are, and the exit code is computed from their
 * statuses. Nothing in a finding may hold a secret (token, password, client secret, registration access token).
 */

/**
 * A finding's verdict. Green means tried: `skip` only when the user gave no means to run a check (no admin
 * credentials, no token, no --e2e) or when another finding's failure kept it from running (`blockedBy`
 * names that finding); when the user gave the means and it did not work, the check fails (doctor's cases:
 * src/doctor/verdicts.ts).
 */
export type Status = 'pass' | 'warn' | 'fail' | 'skip';

/** One verdict about one link of the chain, with what was expected, what was seen, why it matters and the fix. */
export interface Finding {
  /** Stable identifier, e.g. `prm.resource`; documented in docs/commands/doctor.md. */
  id: string;
  title: string;
  status: Status;
  expected?: string;
  actual?: string;
  /** One sentence: why this matters or what exactly differs. */
  why?: string;
  /** The command or step that repairs it. */
  fix?: string;
  /** True when `doctor --fix` (the `apply` engine) repairs it. */
  fixable?: boolean;
  /** On a skip: the id of the finding that kept this check from running (it failed, or names why not). */
  blockedBy?: string;
}

type Details = Omit<Finding, 'id' | 'title' | 'status'>;

/** A passed finding. */
export const pass = (id: string, title: string, details: Details = {}): Finding => ({
  id,
  title,
  status: 'pass',
  ...details,
});
/** A warning: works, but not everywhere or not as the spec says. */
export const warn = (id: string, title: string, details: Details = {}): Finding => ({
  id,
  title,
  status: 'warn',
  ...details,
});
/** A failure: this link of the chain is broken. */
export const fail = (id: string, title: string, details: Details = {}): Finding => ({
  id,
  title,
  status: 'fail',
  ...details,
});
/** Not run, and why (with the way to provide what was missing, if any). */
export const skip = (id: string, title: string, why: string, fix?: string): Finding =>
  fix ? { id, title, status: 'skip', why, fix } : { id, title, status: 'skip', why };

/** Not run because of another finding (`blockedBy`): reported as such, never as a plain skip or a pass. */
export const blocked = (id: string, title: string, blockedBy: string, why: string, fix?: string): Finding => ({
  ...skip(id, title, why, fix),
  blockedBy,
});

/** How many findings have each status. */
export type Summary = Record<Status, number>;

/** Counts the findings per status (the report's summary and the exit code come from it). */
export function summarize(findings: Finding[]): Summary {
  const summary: Summary = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const finding of findings) summary[finding.status]++;
  return summary;
}
