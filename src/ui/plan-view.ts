/** Renders a plan (or the changes an apply made) for people, Terraform-style. */
import type { ChalkInstance } from 'chalk';
import type { Change, Plan } from '../realm/plan.js';

const SIGN = { create: '+', update: '~', delete: '-' } as const;

function show(value: unknown): string {
  if (value === null || value === undefined) return '(none)';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return String(value);
}

export function renderChange(change: Change, color: ChalkInstance): string[] {
  const paint = change.action === 'create' ? color.green : change.action === 'update' ? color.yellow : color.red;
  const lines = [paint(`  ${SIGN[change.action]} ${change.action} ${change.kind} ${change.name}`)];
  if (change.reason) lines.push(color.dim(`      why: ${change.reason}`));
  for (const field of change.fields) {
    const arrow = change.action === 'delete' ? `${show(field.from)} → (deleted)` : field.from === null ? `→ ${show(field.to)}` : `${show(field.from)} → ${show(field.to)}`;
    lines.push(color.dim(`      ${field.field}: `) + arrow);
  }
  return lines;
}

export function renderPlan(plan: Plan, color: ChalkInstance): string[] {
  const header = `Realm ${color.bold(plan.realm)} at ${plan.keycloakUrl}:`;
  if (plan.changes.length === 0) return [header, color.green('  No changes. The realm matches the configuration.')];
  const { create, update, delete: del } = plan.summary;
  return [header, ...plan.changes.flatMap((change) => renderChange(change, color)), `Plan: ${create} to create, ${update} to update, ${del} to delete.`];
}
