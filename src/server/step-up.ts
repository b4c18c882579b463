/**
 * Step-up authorization (MCP 2025-11-25 "scope challenge handling", RFC 6750 §3.1): some tools need
 * scopes beyond the resource's. The bearer check lets a token in with one of the resource's scopes;
 * this decides, from the JSON-RPC body, whether a `tools/call` also has the tool's extra scopes, and
 * if not, which scopes the client must ask for. Pure functions: no HTTP, no logging.
 */

/** Tool name → the scopes it needs beside the resource's, all of them. */
export type ToolScopes = Readonly<Record<string, readonly string[]>>;

/** A refused call: the tools that lack scopes, the scopes missing, and every scope the call needs. */
export interface StepUp {
  tools: string[];
  missing: string[];
  /** For the challenge's `scope`: the base scopes the token matched (else all of them), then the tools' extra scopes. */
  needed: string[];
}

/**
 * The tool names a JSON-RPC body calls: one request, or each element of a batch (the SDK still
 * serves 2025-era batches, so skipping them would let a batched call bypass the check).
 * Anything else (other methods, notifications, responses, junk) calls no tool.
 */
export function calledTools(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  const names: string[] = [];
  for (const message of messages) {
    if (!isObject(message) || message.method !== 'tools/call' || !isObject(message.params)) continue;
    if (typeof message.params.name === 'string') names.push(message.params.name);
  }
  return names;
}

/**
 * Whether the token's `granted` scopes cover every tool the body calls; undefined when they do.
 * `baseScopes` are the resource's (the token has one of them, or it would not have got this far).
 */
export function stepUpFor(
  body: unknown,
  granted: readonly string[],
  baseScopes: readonly string[],
  toolScopes: ToolScopes,
): StepUp | undefined {
  const tools: string[] = [];
  const extra: string[] = [];
  for (const tool of calledTools(body)) {
    // Own properties only: a call of a tool named "constructor" must not find Object's.
    const scopes = Object.hasOwn(toolScopes, tool) ? toolScopes[tool]! : [];
    if (scopes.length === 0) continue;
    extra.push(...scopes);
    if (scopes.some((scope) => !granted.includes(scope)) && !tools.includes(tool)) tools.push(tool);
  }
  if (tools.length === 0) return undefined;
  const matched = baseScopes.filter((scope) => granted.includes(scope));
  const needed = unique([...(matched.length > 0 ? matched : baseScopes), ...extra]);
  return { tools, missing: needed.filter((scope) => !granted.includes(scope)), needed };
}

/** The `error_description` of the 403: which tool needs which scope, with no token content. */
export function describeStepUp(stepUp: StepUp): string {
  const which = stepUp.tools.length === 1 ? `tool ${stepUp.tools[0]} needs` : `tools ${stepUp.tools.join(', ')} need`;
  const scopes =
    stepUp.missing.length === 1 ? `the scope ${stepUp.missing[0]}` : `the scopes ${stepUp.missing.join(' ')}`;
  return `${which} ${scopes}`;
}

/** Every scope a tool can require, in configuration order, without repeats. */
export function stepUpScopes(toolScopes: ToolScopes): string[] {
  return unique(Object.values(toolScopes).flat());
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
