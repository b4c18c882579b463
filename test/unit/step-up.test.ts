/** Step-up authorization without a network: which calls need more scopes, the 403 challenge, the metadata, the settings. */
import { describe, expect, it } from 'vitest';
import { mergeSources } from '../../src/config/load.js';
import { checkConsistency } from '../../src/server/index.js';
import { bearerChallenge, protectedResourceMetadata } from '../../src/server/metadata.js';
import { calledTools, describeStepUp, stepUpFor, stepUpScopes } from '../../src/server/step-up.js';

const RESOURCE = 'http://localhost:8000/mcp';
const PRM = 'http://localhost:8000/.well-known/oauth-protected-resource/mcp';
const TOOL_SCOPES = { divide_numbers: ['mcp:admin'], multiply_numbers: ['mcp:admin', 'mcp:math'] };
const call = (name: unknown) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name, arguments: { a: 1, b: 2 } },
});

describe('calledTools', () => {
  it('finds the tool of a tools/call, in single requests and in each element of a batch', () => {
    expect(calledTools(call('divide_numbers'))).toEqual(['divide_numbers']);
    expect(
      calledTools([
        call('add_numbers'),
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        call('divide_numbers'),
      ]),
    ).toEqual(['add_numbers', 'divide_numbers']);
  });

  it('finds nothing in other methods, responses and junk', () => {
    for (const body of [
      undefined,
      null,
      'tools/call',
      42,
      [],
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { method: 'tools/call' },
      { method: 'tools/call', params: ['divide_numbers'] },
      call(7),
      call(undefined),
      { id: 1, result: {} },
    ]) {
      expect(calledTools(body)).toEqual([]);
    }
  });
});

describe('stepUpFor', () => {
  it('lets calls through when the token has the extra scopes, or the tool needs none', () => {
    expect(
      stepUpFor(call('divide_numbers'), ['openid', 'mcp:run', 'mcp:admin'], ['mcp:run'], TOOL_SCOPES),
    ).toBeUndefined();
    expect(stepUpFor(call('add_numbers'), ['mcp:run'], ['mcp:run'], TOOL_SCOPES)).toBeUndefined();
    expect(
      stepUpFor({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, ['mcp:run'], ['mcp:run'], TOOL_SCOPES),
    ).toBeUndefined();
    expect(stepUpFor(call('divide_numbers'), ['mcp:run'], ['mcp:run'], {})).toBeUndefined();
  });

  it('names the matched base scope(s) and every extra scope the call needs', () => {
    expect(stepUpFor(call('divide_numbers'), ['openid', 'mcp:run'], ['mcp:run'], TOOL_SCOPES)).toEqual({
      tools: ['divide_numbers'],
      missing: ['mcp:admin'],
      needed: ['mcp:run', 'mcp:admin'],
    });
    // Two base scopes: only the one the token matched is repeated.
    expect(stepUpFor(call('multiply_numbers'), ['mcp:admin', 'b'], ['a', 'b'], TOOL_SCOPES)).toEqual({
      tools: ['multiply_numbers'],
      missing: ['mcp:math'],
      needed: ['b', 'mcp:admin', 'mcp:math'],
    });
    // No base scope matched (a caller without the bearer check): all of them.
    expect(stepUpFor(call('divide_numbers'), [], ['a', 'b'], TOOL_SCOPES)?.needed).toEqual(['a', 'b', 'mcp:admin']);
  });

  it('asks once for everything a batch needs', () => {
    const batch = [call('add_numbers'), call('divide_numbers'), call('multiply_numbers'), call('divide_numbers')];
    expect(stepUpFor(batch, ['mcp:run'], ['mcp:run'], TOOL_SCOPES)).toEqual({
      tools: ['divide_numbers', 'multiply_numbers'],
      missing: ['mcp:admin', 'mcp:math'],
      needed: ['mcp:run', 'mcp:admin', 'mcp:math'],
    });
  });

  it('never reads inherited properties as tool scopes', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(stepUpFor(call(name), ['mcp:run'], ['mcp:run'], TOOL_SCOPES)).toBeUndefined();
    }
  });
});

describe('the step-up challenge (RFC 6750 §3.1)', () => {
  it('is a 403 challenge with every scope the call needs, the metadata URL and a reason', () => {
    const stepUp = stepUpFor(call('divide_numbers'), ['mcp:run'], ['mcp:run'], TOOL_SCOPES)!;
    const description = describeStepUp(stepUp);
    expect(description).toBe('tool divide_numbers needs the scope mcp:admin');
    expect(
      bearerChallenge({ resourceMetadata: PRM, scopes: stepUp.needed, error: 'insufficient_scope', description }),
    ).toBe(
      `Bearer resource_metadata="${PRM}", scope="mcp:run mcp:admin", error="insufficient_scope", error_description="tool divide_numbers needs the scope mcp:admin"`,
    );
    expect(describeStepUp({ tools: ['a', 'b'], missing: ['x', 'y'], needed: ['r', 'x', 'y'] })).toBe(
      'tools a, b need the scopes x y',
    );
  });
});

describe('metadata and settings', () => {
  it('lists the base scopes, then the step-up scopes, each once, in scopes_supported', () => {
    expect(stepUpScopes(TOOL_SCOPES)).toEqual(['mcp:admin', 'mcp:math']);
    expect(
      protectedResourceMetadata(RESOURCE, 'http://kc/realms/r', ['mcp:run'], stepUpScopes(TOOL_SCOPES))
        .scopes_supported,
    ).toEqual(['mcp:run', 'mcp:admin', 'mcp:math']);
    expect(protectedResourceMetadata(RESOURCE, 'http://kc/realms/r', ['mcp:run']).scopes_supported).toEqual([
      'mcp:run',
    ]);
  });

  it('refuses tools the server does not have, naming the ones it has, and malformed scopes', () => {
    const base = { resource: RESOURCE, host: '127.0.0.1', port: 8000, scopes: ['mcp:run'] };
    expect(() => checkConsistency({ ...base, toolScopes: TOOL_SCOPES })).not.toThrow();
    expect(() => checkConsistency({ ...base, toolScopes: { divide: ['mcp:admin'] } })).toThrow(
      'toolScopes names the tool "divide", which this server does not have: its tools are add_numbers, multiply_numbers, divide_numbers.',
    );
    expect(() => checkConsistency({ ...base, toolScopes: { constructor: ['x'] } })).toThrow(
      /"constructor", which this server does not have/,
    );
    expect(() => checkConsistency({ ...base, toolScopes: { divide_numbers: ['a b'] } })).toThrow(
      /toolScopes of divide_numbers: "a b" is not an OAuth scope/,
    );
  });

  it("merges --tool-scope flags over the config: a flagged tool gets exactly the flags' scopes", () => {
    const merged = (fromFile: Record<string, unknown>, toolScope: string[]) =>
      (mergeSources(fromFile, {}, { toolScope }).resources as { toolScopes: unknown }[])[0]!.toolScopes;
    const file = { resources: [{ url: RESOURCE, toolScopes: { divide_numbers: ['mcp:admin'], add_numbers: ['x'] } }] };
    expect(
      merged(file, [
        'divide_numbers=mcp:root',
        'divide_numbers=mcp:ops',
        'multiply_numbers=m',
        'divide_numbers=mcp:ops',
      ]),
    ).toEqual({
      divide_numbers: ['mcp:root', 'mcp:ops'],
      add_numbers: ['x'],
      multiply_numbers: ['m'],
    });
    expect(merged({}, ['a=b=c'])).toEqual({ a: ['b=c'] });
    for (const flag of ['divide_numbers', '=mcp:admin', 'divide_numbers='])
      expect(() => merged({}, [flag])).toThrow(/--tool-scope must be TOOL=SCOPE|the scope must be/);
    expect(() => merged({}, ['divide_numbers=a b'])).toThrow(
      '--tool-scope divide_numbers=…: the scope must be a non-empty OAuth scope token: no spaces, quotes or backslashes.',
    );
  });
});
