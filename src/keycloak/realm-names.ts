/**
 * "Did you mean" for a realm that does not exist: `mcp-dmeo` is far more often a typo of the realm next
 * to it than a new realm. The names come from the realm list (admin credentials); without them callers
 * may offer names from elsewhere (doctor: the realm the MCP server's PRM names).
 */
import type { AdminSession } from './session.js';

/** The realm names of this Keycloak, or [] when they cannot be read: a hint must never turn into a failure of its own. */
export async function realmNames(session: AdminSession): Promise<string[]> {
  const realms = await session
    .readAdmin<{ realm?: unknown }[]>('realms', 'listing realms', { briefRepresentation: 'true' })
    .catch(() => undefined);
  if (!Array.isArray(realms)) return [];
  return realms.flatMap((realm) => (typeof realm?.realm === 'string' ? [realm.realm] : []));
}

/** Edit distance counting a swap of two neighbours as one edit (`dmeo` → `demo`): optimal string alignment. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = rows[i]!;
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The one name among `candidates` that `name` most likely meant: the same name in another case, else the
 * closest within two edits (one for names of up to four characters, where two edits make any name
 * "close"). Undefined when none is that close, when two are equally close, or when `name` is among them.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  if (candidates.includes(name)) return undefined;
  const sameLetters = candidates.filter((candidate) => candidate.toLowerCase() === name.toLowerCase());
  if (sameLetters.length === 1) return sameLetters[0];
  const limit = name.length <= 4 ? 1 : 2;
  let best: string[] = [];
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [[candidate], distance];
    else if (distance === bestDistance) best.push(candidate);
  }
  return best.length === 1 ? best[0] : undefined;
}

/** " Did you mean "mcp-demo"?" (with a leading space) for a realm that does not exist, or "" when no realm is that close. */
export async function didYouMeanRealm(session: AdminSession, realm: string): Promise<string> {
  const meant = closestName(realm, await realmNames(session));
  return meant ? ` Did you mean "${meant}"?` : '';
}
