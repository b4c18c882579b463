/** The result types of one write of apply (executor.ts, and the writers it delegates to such as machine-write.ts). */

/**
 * What became of one change: `done` (we wrote it), `already` (someone else did: nothing to report) or
 * `replan` (the realm is not what the plan was computed from: read it again before going on).
 */
export type Outcome = 'done' | 'already' | 'replan';

/** A write that succeeded with its value, or met a status the caller expected from another writer. */
export type Written<T> = { ok: true; value: T } | { ok: false; status: number };
