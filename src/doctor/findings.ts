/** Small constructors so checks read as a list of verdicts, and the summary every reporter shares. */
import type { Finding, Status } from './types.js';

type Details = Omit<Finding, 'id' | 'title' | 'status'>;

export const pass = (id: string, title: string, details: Details = {}): Finding => ({ id, title, status: 'pass', ...details });
export const warn = (id: string, title: string, details: Details = {}): Finding => ({ id, title, status: 'warn', ...details });
export const fail = (id: string, title: string, details: Details = {}): Finding => ({ id, title, status: 'fail', ...details });
export const skip = (id: string, title: string, why: string, fix?: string): Finding =>
  fix ? { id, title, status: 'skip', why, fix } : { id, title, status: 'skip', why };

export type Summary = Record<Status, number>;

export function summarize(findings: Finding[]): Summary {
  const summary: Summary = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const finding of findings) summary[finding.status]++;
  return summary;
}
