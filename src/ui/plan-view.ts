/**
 * The one renderer for plans, Terraform-style: what `plan` and `apply` would change in a realm, and what
 * `destroy` would remove, share a header and one line per change. It reads the plans through the small
 * shapes below, not through the realm's own types, so the terminal layer stays below the engine that
 * makes the plans (the compiler still checks that a realm plan fits them).
 */
import type { ChalkInstance } from 'chalk';

/** What happens to one object, as people read it: `+ create client-scope mcp:tools`. */
export interface PlannedChange {
  action: 'create' | 'update' | 'delete';
  kind: string;
  name: string;
  /** Field by field, for a change `apply` makes. */
  fields?: { field: string; from: unknown; to: unknown }[];
  /** Why, when the action alone does not say it (e.g. a duplicate `apply` deletes). */
  reason?: string;
  /** One sentence, for a removal `destroy` makes. */
  detail?: string;
}

/** A realm plan: its target, its changes and their count per action. */
export interface RealmPlanView {
  realm: string;
  keycloakUrl: string;
  changes: PlannedChange[];
  summary: { create: number; update: number; delete: number };
}

const SIGN = { create: '+', update: '~', delete: '-' } as const;

function show(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- plan fields hold scalars and arrays of them (realm/plan.ts, cimd-plan.ts): String() is what is meant
  return String(value);
}

function header(realm: string, keycloakUrl: string, color: ChalkInstance): string {
  return `Realm ${color.bold(realm)} at ${keycloakUrl}:`;
}

/** One change: a coloured headline (with its detail, if any), its reason, then one dimmed line per field. */
export function renderChange(change: PlannedChange, color: ChalkInstance): string[] {
  const paint = change.action === 'create' ? color.green : change.action === 'update' ? color.yellow : color.red;
  const headline = paint(`  ${SIGN[change.action]} ${change.action} ${change.kind} ${change.name}`);
  const lines = [change.detail === undefined ? headline : headline + color.dim(`: ${change.detail}`)];
  if (change.reason) lines.push(color.dim(`      why: ${change.reason}`));
  for (const field of change.fields ?? []) {
    const arrow =
      change.action === 'delete'
        ? `${show(field.from)} → (deleted)`
        : field.from === null
          ? `→ ${show(field.to)}`
          : `${show(field.from)} → ${show(field.to)}`;
    lines.push(color.dim(`      ${field.field}: `) + arrow);
  }
  return lines;
}

/** What `plan` prints and `apply` shows before it asks: every change, then the count per action. */
export function renderPlan(plan: RealmPlanView, color: ChalkInstance): string[] {
  const head = header(plan.realm, plan.keycloakUrl, color);
  if (plan.changes.length === 0) return [head, color.green('  No changes. The realm matches the configuration.')];
  const { create, update, delete: del } = plan.summary;
  return [
    head,
    ...plan.changes.flatMap((change) => renderChange(change, color)),
    `Plan: ${create} to create, ${update} to update, ${del} to delete.`,
  ];
}

/** What `destroy` shows before it asks: the realm, then each removal with its one-sentence detail. */
export function renderRemovals(
  realm: string,
  keycloakUrl: string,
  removals: PlannedChange[],
  color: ChalkInstance,
): string[] {
  return [header(realm, keycloakUrl, color), ...removals.flatMap((removal) => renderChange(removal, color))];
}
