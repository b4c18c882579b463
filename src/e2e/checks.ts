/**
 * Each step of the end-to-end chain is reported as a finding, the same shape `doctor` prints: what was
 * expected, what happened, why it matters and how to fix it. A step after a failed one is `skip`, so a
 * user sees the first broken link, not a cascade.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  expected: string;
  actual: string;
  why: string;
  fix?: string;
  durationMs?: number;
}

export interface CheckSpec {
  id: string;
  title: string;
  expected: string;
  why: string;
  fix?: string;
}

export function pass(spec: CheckSpec, actual: string, durationMs?: number): CheckResult {
  return finding(spec, 'pass', actual, durationMs);
}

export function warn(spec: CheckSpec, actual: string, fix?: string): CheckResult {
  const result = finding(spec, 'warn', actual);
  return fix ? { ...result, fix } : result;
}

export function fail(spec: CheckSpec, actual: string, fix?: string): CheckResult {
  const result = finding(spec, 'fail', actual);
  return fix ?? spec.fix ? { ...result, fix: fix ?? spec.fix } : result;
}

export function skip(spec: CheckSpec, actual = 'not run: an earlier step failed'): CheckResult {
  const { fix: _fix, ...rest } = finding(spec, 'skip', actual);
  return rest;
}

function finding(spec: CheckSpec, status: CheckStatus, actual: string, durationMs?: number): CheckResult {
  const { id, title, expected, why, fix } = spec;
  const result: CheckResult = { id, title, status, expected, actual, why };
  if (fix && status !== 'pass') result.fix = fix;
  if (durationMs !== undefined) result.durationMs = durationMs;
  return result;
}
