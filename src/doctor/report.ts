/**
 * The two renderings of a doctor run: the versioned JSON document (`--json`, documented in
 * docs/commands/doctor.md) and the checklist for people, with the fix for every failure at the end.
 */
import type { ChalkInstance } from 'chalk';
import { verdictLine, type ClientVerdict } from '../clients/verdict.js';
import type { Change } from '../realm/plan.js';
import { summarize, type Finding, type Status, type Summary } from '../findings.js';
import { escapeStrings } from '../ui/terminal-text.js';
import type { DoctorInput, DoctorState, TokenSource } from './types.js';

const DOCTOR_FORMAT_VERSION = 1;

export interface DoctorReport {
  formatVersion: typeof DOCTOR_FORMAT_VERSION;
  /** False when any check failed (exit code 1). */
  ok: boolean;
  target: { resource: string; scopes: string[]; keycloakUrl: string; realm: string; issuer: string };
  summary: Summary;
  checks: Finding[];
  /** The per-client matrix (client × identity, registration, sign-in scope, step-up, verdict): the clients.* findings' facts. */
  clients?: ClientMatrixRow[];
  /** Decoded header and claims of the analysed token (never the token or its signature). */
  token?: { source: TokenSource; header: Record<string, unknown>; claims: Record<string, unknown> };
  /** With --fix: what apply changed, and the findings before the repair. */
  fix?: { applied: Change[]; before: Summary };
  /** When some failures are realm-side: the `doctor --fix` command that repairs them. */
  repair?: string;
  durationMs: number;
}

/** The `--json` document of a run: target, summary, every finding, the decoded token (never the token itself). */
export function buildReport(
  input: DoctorInput,
  findings: Finding[],
  state: DoctorState,
  durationMs: number,
): DoctorReport {
  const summary = summarize(findings);
  const report: DoctorReport = {
    formatVersion: DOCTOR_FORMAT_VERSION,
    ok: summary.fail === 0,
    target: {
      resource: input.resource.url,
      scopes: input.resource.scopes,
      keycloakUrl: input.config.keycloakUrl,
      realm: input.config.realm,
      issuer: input.expectedIssuer,
    },
    summary,
    checks: findings,
    durationMs,
  };
  if (state.clientVerdicts) report.clients = state.clientVerdicts.map(matrixRow);
  if (state.decodedToken && state.token) report.token = { source: state.token.source, ...state.decodedToken };
  return report;
}

export interface ClientMatrixRow {
  client: string;
  name: string;
  identity: string;
  registration: string;
  signInScope: string;
  stepUp: string;
  verdict: ClientVerdict['verdict'];
  /** The verdict line, as the checklist shows it. */
  line: string;
  /** What --e2e lived through as this client; absent: derived. */
  simulated?: string;
  unconfirmed: string[];
}

function matrixRow(verdict: ClientVerdict): ClientMatrixRow {
  const { client, name, identity, registration, signInScope, stepUp, simulated, unconfirmed } = verdict;
  return {
    client,
    name,
    identity,
    registration,
    signInScope,
    stepUp,
    verdict: verdict.verdict,
    line: verdictLine(verdict),
    ...(simulated ? { simulated } : {}),
    unconfirmed,
  };
}

const GROUPS: [prefix: string, heading: string][] = [
  ['challenge', 'MCP server without a token'],
  ['prm', 'Protected Resource Metadata'],
  ['keycloak', 'Keycloak'],
  ['as', 'Authorization server metadata'],
  ['realm', 'Realm'],
  ['registration', 'Client registration (live probe)'],
  ['cimd', 'Client ID Metadata Documents (live probe)'],
  ['token', 'Token'],
  ['mcp', 'MCP call with the token'],
  ['clients', 'MCP clients, one verdict each'],
  ['deadline', 'Not run: the deadline passed'],
];

/** The checklist for people, grouped by link of the chain, then the fix for each failure and the verdict. */
export function renderReport(unescaped: DoctorReport, color: ChalkInstance): string[] {
  // Findings quote what servers said: their control characters are shown, never acted on by the terminal.
  const report = escapeStrings(unescaped);
  const icon: Record<Status, string> = {
    pass: color.green('✔'),
    warn: color.yellow('⚠'),
    fail: color.red('✖'),
    skip: color.dim('-'),
  };
  const lines = [`${color.bold('mcp-keycloak doctor')} ${report.target.resource} → ${report.target.issuer}`];
  let group: string | undefined;
  const checks = report.checks;
  for (let i = 0; i < checks.length; i++) {
    const f = checks[i]!;
    const prefix = f.id.split('.')[0]!;
    const heading = GROUPS.find(([p]) => p === prefix)?.[1] ?? prefix;
    if (heading !== group) {
      group = heading;
      lines.push('', color.bold(heading));
    }
    if (f.status === 'skip') {
      // Consecutive skips for the same reason (all token checks without a token) print as one line.
      let j = i;
      while (
        j + 1 < checks.length &&
        checks[j + 1]!.status === 'skip' &&
        checks[j + 1]!.why === f.why &&
        checks[j + 1]!.blockedBy === f.blockedBy &&
        checks[j + 1]!.id.split('.')[0] === prefix
      )
        j++;
      const what =
        j > i
          ? `${j - i + 1} checks (${checks
              .slice(i, j + 1)
              .map((c) => c.id)
              .join(', ')})`
          : f.title;
      lines.push(...skipLines(f, what, color));
      i = j;
      continue;
    }
    lines.push(`  ${icon[f.status]} ${f.title}${f.status === 'pass' && f.actual ? color.dim(`  ${f.actual}`) : ''}`);
    if (f.status === 'warn' || f.status === 'fail') {
      if (f.expected) lines.push(`      expected: ${f.expected}`);
      if (f.actual) lines.push(`      actual:   ${f.actual}`);
      if (f.why) lines.push(`      ${f.why}`);
      // Failures get their fix in the "How to fix" list below; warnings get it here.
      if (f.status === 'warn' && f.fix) lines.push(`      fix: ${color.cyan(f.fix)}`);
    }
  }
  if (report.token) {
    const c = report.token.claims;
    lines.push('', color.bold('Decoded token') + color.dim(` (from ${report.token.source}; signature not shown)`));
    for (const key of ['iss', 'aud', 'azp', 'scope', 'sub', 'preferred_username', 'exp', 'iat', 'typ']) {
      if (c[key] !== undefined)
        lines.push(`  ${key}: ${Array.isArray(c[key]) ? (c[key] as unknown[]).join(', ') : String(c[key])}`);
    }
  }
  const failures = report.checks.filter((f) => f.status === 'fail' && f.fix);
  if (failures.length) {
    lines.push('', color.bold('How to fix'));
    const seen = new Set<string>();
    for (const f of failures) {
      if (seen.has(f.fix!)) continue;
      seen.add(f.fix!);
      const ids = failures.filter((g) => g.fix === f.fix).map((g) => g.id);
      lines.push(`  ${color.red('✖')} ${ids.join(', ')}:`, `      ${color.cyan(f.fix!)}`);
    }
  }
  const s = report.summary;
  if (report.repair)
    lines.push('', `  Or let doctor repair the realm-side failures and check again: ${color.cyan(report.repair)}`);
  const verdict = !report.ok
    ? color.red(`${s.fail} check(s) failed`)
    : s.warn
      ? color.yellow('No failures')
      : color.green('All checks passed');
  const skipped = s.skip ? `${s.skip} skipped (${skipReasons(report.checks)})` : '0 skipped';
  lines.push(
    '',
    `${verdict}: ${s.pass} passed, ${s.warn} warning(s), ${s.fail} failed, ${skipped} in ${(report.durationMs / 1000).toFixed(1)} s.`,
  );
  if (report.fix)
    lines.push(
      color.dim(
        `--fix applied ${report.fix.applied.length} change(s); before the repair: ${report.fix.before.fail} failed.`,
      ),
    );
  return lines;
}

/**
 * A skip as the checklist shows it: dim when the user gave no means to run the check; in plain sight, with
 * the finding that stopped it, when it did not run because of another finding (`blockedBy`).
 */
function skipLines(f: Finding, what: string, color: ChalkInstance): string[] {
  const why = (f.why ?? '').replace(/\.$/, '');
  if (f.blockedBy)
    return [`  ${color.yellow('⊘')} ${what} ${color.bold(`not run because of ${f.blockedBy}`)}`, `      ${why}`];
  return [`  ${color.dim('-')} ${color.dim(`${what} skipped: ${why}${f.fix ? `. ${f.fix}` : ''}`)}`];
}

/** The most common reasons checks were skipped, with counts, for the summary line: "12 no admin credentials, 3 not run because of keycloak.admin". */
/** A reason's first clause, at most 60 characters, cut at a word with "…" (never mid-word, never a dangling "which"). */
function firstClause(reason: string): string {
  const clause = (reason.split(/ ?[(;]|, /)[0] ?? '').replace(/\.$/, '').trim();
  if (clause.length <= 60) return clause;
  const cut = clause.slice(0, 60);
  return `${cut.slice(0, cut.lastIndexOf(' ') > 20 ? cut.lastIndexOf(' ') : 60).trimEnd()}…`;
}

export function skipReasons(findings: Finding[], shown = 3): string {
  const counts = new Map<string, number>();
  for (const f of findings) {
    if (f.status !== 'skip') continue;
    // The reason's first clause: "no admin credentials (KEYCLOAK_ADMIN_PASSWORD or …)" → "no admin credentials".
    const reason = f.blockedBy
      ? `not run because of ${f.blockedBy}`
      : firstClause(f.why ?? f.actual ?? 'no reason given');
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const listed = sorted.slice(0, shown).map(([reason, n]) => `${n} ${reason}`);
  return sorted.length > shown ? `${listed.join(', ')}, …` : listed.join(', ');
}
