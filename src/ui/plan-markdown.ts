/**
 * The plan as Markdown, for a CI step to post (GitHub's step summary, a pull-request comment): a heading
 * naming the realm, one line with the count per action, and the changes as the terminal shows them, in a
 * `diff` block so that GitHub colours creations green and deletions red.
 *
 * Field values come from the live realm, which anyone with admin rights can edit: they stay inside a
 * code fence (or a code span) longer than any backtick run they hold, so a value can neither close the
 * block nor become a link, an image or an @mention in the comment (CommonMark 4.5 and 6.1).
 */
import { Chalk } from 'chalk';
import { renderChange, type RealmPlanView } from './plan-view.js';

/** What a comment-posting step can search for to update its earlier comment instead of adding one. */
export const SUMMARY_MARKER = '<!-- mcp-keycloak:plan -->';

const PLAIN = new Chalk({ level: 0 });

/** The longest run of backticks in `text` (0 when there is none). */
function longestBacktickRun(text: string): number {
  return Math.max(0, ...Array.from(text.matchAll(/`+/g), (match) => match[0].length));
}

/** `text` as a code span that nothing in it can end (CommonMark 6.1: a longer backtick string, padded). */
function codeSpan(text: string): string {
  const ticks = '`'.repeat(longestBacktickRun(text) + 1);
  const padded = text.startsWith('`') || text.endsWith('`') ? ` ${text} ` : text;
  return `${ticks}${padded}${ticks}`;
}

/** `lines` in a fenced block that nothing in them can close (a fence longer than any backtick run). */
function fencedBlock(info: string, lines: string[]): string[] {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(lines.join('\n')) + 1));
  return [`${fence}${info}`, ...lines, fence];
}

/** "1 to create, 2 to update, 0 to delete", as the terminal's `Plan:` line says it. */
function counts(summary: RealmPlanView['summary']): string {
  return `${summary.create} to create, ${summary.update} to update, ${summary.delete} to delete`;
}

/** The whole summary, one Markdown line per entry (join with "\n"). */
export function renderPlanMarkdown(plan: RealmPlanView): string[] {
  const head = [SUMMARY_MARKER, `### mcp-keycloak plan: realm ${codeSpan(plan.realm)}`, ''];
  const where = `Keycloak ${codeSpan(plan.keycloakUrl)}`;
  if (plan.changes.length === 0) return [...head, `${where}: **no changes**, the realm matches the configuration.`];
  const total = plan.changes.length;
  // The terminal indents every line by two spaces; a diff block colours a line only when `+` or `-` starts it.
  const lines = plan.changes.flatMap((change) => renderChange(change, PLAIN)).map((line) => line.replace(/^ {2}/, ''));
  return [
    ...head,
    `${where}: **${total} change${total === 1 ? '' : 's'} pending** (${counts(plan.summary)}).`,
    '',
    ...fencedBlock('diff', lines),
    '',
    'A change that no edit of the configuration explains is drift: someone changed the realm by hand. ' +
      '`mcp-keycloak apply` makes the realm match the configuration again.',
  ];
}
