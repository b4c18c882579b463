/**
 * Executes a plan against Keycloak, change by change, in the plan's order (realm → scopes → mappers →
 * default scopes → registration policies → user), then reads the realm back and goes on until the plan
 * is empty. Another writer (a second apply, an administrator) is not an error: a create that meets 409
 * or an update that meets 404 means the realm moved, so apply reads it again and plans afresh; a delete
 * that meets 404 is done already. A write whose outcome is unknown (a 5xx, a reset, no answer) is
 * settled by reading the realm back: made (by anyone) is done, not made is the write's worded error.
 * Every step is idempotent, so an interrupted run is completed by the next. The writes themselves are in
 * executor.ts.
 */
import { KeycloakError } from '../errors.js';
import { outcomeUnknown } from '../keycloak/errors.js';
import type { AdminSession } from '../keycloak/session.js';
import type { Change } from './change.js';
import type { DesiredRealm } from './desired.js';
import { Executor, type Outcome } from './executor.js';
import { narrowToServer } from './server-version.js';
import { readLiveRealm, type LiveRealm } from './live.js';
import { planRealm, type Plan } from './plan.js';

export interface ComputedPlan {
  plan: Plan;
  live: LiveRealm;
}

/** Reads the live realm and diffs it against `desired` (reads only). */
export async function computePlan(session: AdminSession, desired: DesiredRealm): Promise<ComputedPlan> {
  const live = await readLiveRealm(session, desired);
  let plan = planRealm(desired, live, session.baseUrl);
  // Which executors the anonymous-clients profile may hold depends on the server: asked only when that
  // profile is about to be written, so a no-op apply of the default configuration reads no serverinfo.
  if (await narrowToServer(session, desired, plan)) plan = planRealm(desired, live, session.baseUrl);
  return { plan, live };
}

/** Passes (execute, read back) before apply gives up on a realm that keeps changing under it. */
const MAX_PASSES = 5;

/**
 * Applies `computed` and returns the changes this run made, in order. Changes found done by another
 * writer are not among them. Throws when the realm still differs after MAX_PASSES passes.
 */
export async function applyPlan(
  session: AdminSession,
  desired: DesiredRealm,
  computed: ComputedPlan,
  onChange?: (change: Change) => void,
): Promise<Change[]> {
  const done: Change[] = [];
  let { plan, live } = computed;
  for (let pass = 1; ; pass++) {
    const moved = await executePass(session, desired, live, plan.changes, (change) => {
      done.push(change);
      onChange?.(change);
    });
    if (!moved) return done;
    ({ plan, live } = await computePlan(session, desired));
    if (plan.changes.length === 0) return done;
    if (pass === MAX_PASSES) {
      const pending = plan.changes.map((c) => `${c.action} ${c.kind} ${c.name}`).join(', ');
      throw new KeycloakError(
        `Realm "${desired.realm}" kept changing while apply ran: after ${MAX_PASSES} passes it still needs ${pending}. ` +
          'Another apply or an administrator may be editing it; run apply again once they are done.',
      );
    }
  }
}

/** Executes `changes` until one needs a fresh plan; returns whether the realm may differ from `live` now. */
async function executePass(
  session: AdminSession,
  desired: DesiredRealm,
  live: LiveRealm,
  changes: Change[],
  record: (change: Change) => void,
): Promise<boolean> {
  const executor = new Executor(session, desired, live);
  let moved = false;
  for (const change of changes) {
    let outcome: Outcome;
    try {
      outcome = await executor.execute(change);
    } catch (error) {
      if (!outcomeUnknown(error)) throw error;
      outcome = await settle(session, desired, change, error);
    }
    if (outcome === 'done') {
      moved = true;
      record(change);
    }
    // The rest of a plan for a missing realm was made against policies Keycloak creates with the realm.
    if (outcome === 'replan' || change.kind === 'realm') return true;
  }
  return moved;
}

/**
 * Settles a write whose outcome is unknown (a 5xx, a reset after sending, no answer in time) by reading
 * the realm back: if a fresh plan still holds the change, it was not made and `error` stands; otherwise
 * it was made, by this run or by another writer (Keycloak answers the loser of two concurrent deletes
 * 500 at times, not 404). Which of them cannot be told, so, as for a 404, it is not listed as ours,
 * and the pass goes on from the realm as it now is.
 */
async function settle(session: AdminSession, desired: DesiredRealm, change: Change, error: unknown): Promise<Outcome> {
  let fresh: ComputedPlan;
  try {
    fresh = await computePlan(session, desired);
  } catch {
    // Keycloak cannot be read either: the write's own error says what happened first.
    throw error;
  }
  if (fresh.plan.changes.some((planned) => sameChange(planned, change))) throw error;
  return 'replan';
}

/** Whether two changes are the same write: kind, action, object (name, scope, id when it has one). */
function sameChange(a: Change, b: Change): boolean {
  const idOf = (change: Change) => ('id' in change ? change.id : undefined);
  const scopeOf = (change: Change) => ('scope' in change ? change.scope : undefined);
  return (
    a.kind === b.kind && a.action === b.action && a.name === b.name && scopeOf(a) === scopeOf(b) && idOf(a) === idOf(b)
  );
}
