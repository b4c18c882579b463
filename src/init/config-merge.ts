/**
 * How `init` updates an existing config file: it sets the keys it manages (the answers) and keeps
 * everything else the user wrote, in the user's order, so that re-running init (even with --force)
 * never silently loses an edit such as the README's `toolScopes` step-up, while the realm would
 * still have the step-up scope and nothing would show that `serve` stopped protecting the tool.
 */
import { CIMD_CLIENT_KEYS } from '../config/schema.js';
import type { InitAnswers } from './answers.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A section to spread: the object itself, or nothing (spreading undefined adds no keys either). */
const keysOf = (value: unknown): Json => (isObject(value) ? value : {});

/**
 * The `cimd` section init writes: what it sets up, spelled out. A bare `{}` (what init wrote for a
 * Keycloak running with --features=cimd) reads as "nothing" although it means every known client.
 */
export function cimdSection(cimd: Json): Json {
  if (cimd.enabled === false || cimd.clients !== undefined) return cimd;
  return { ...cimd, clients: [...CIMD_CLIENT_KEYS] };
}

/** The first resource: the user's entry (toolScopes and anything else) with init's url and scopes over it. */
function mergedResources(existing: unknown, filled: unknown): unknown {
  const ours = (Array.isArray(filled) ? filled[0] : undefined) as Json;
  if (!Array.isArray(existing) || existing.length === 0) return filled;
  const [userFirst, ...userRest] = existing as unknown[];
  const first = isObject(userFirst) ? { ...userFirst, ...ours } : ours;
  return [first, ...userRest];
}

/** `existing`'s keys first, in its order, then the keys only `merged` has: a re-run does not reorder the file. */
function inExistingOrder(existing: Json, merged: Json): Json {
  const ordered: Json = {};
  for (const key of Object.keys(existing)) if (key in merged) ordered[key] = merged[key];
  for (const [key, value] of Object.entries(merged)) if (!(key in ordered)) ordered[key] = value;
  return ordered;
}

/**
 * The config file init writes: `filled` (the template with the answers) merged into `existing`.
 * Removed are only what an answer removes: `dcr.trustedHosts` outside trusted-hosts mode, and
 * `testUser` with --no-test-user.
 */
export function mergeConfigFile(existing: Json, filled: Json, answers: InitAnswers): Json {
  const merged: Json = { ...existing, ...filled };
  merged.resources = mergedResources(existing.resources, filled.resources);
  if (isObject(existing.dcr)) merged.dcr = { ...existing.dcr, ...keysOf(filled.dcr) };
  if (answers.dcr !== 'trusted-hosts' && isObject(merged.dcr)) delete merged.dcr.trustedHosts;
  if (isObject(existing.admin)) merged.admin = { ...existing.admin, ...keysOf(filled.admin) };
  if (answers.testUser)
    merged.testUser = {
      ...keysOf(existing.testUser),
      username: answers.testUser.username,
    };
  else delete merged.testUser;
  if (answers.cimd) merged.cimd = cimdSection(answers.cimd);
  if (answers.clients) merged.clients = answers.clients;
  return inExistingOrder(existing, merged);
}
