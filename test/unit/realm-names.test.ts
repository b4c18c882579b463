/** "Did you mean" picks the one realm a name is a typo of, and nothing when the name is new or ambiguous. */
import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/keycloak/realm-names.js';

describe('closestName', () => {
  const realms = ['master', 'mcp-demo', 'mcp-prod', 'team-a'];

  it('finds swapped, dropped, doubled and mistyped letters, and another case', () => {
    expect(closestName('mcp-dmeo', realms)).toBe('mcp-demo');
    expect(closestName('mcp-dem', realms)).toBe('mcp-demo');
    expect(closestName('mcp-demmo', realms)).toBe('mcp-demo');
    expect(closestName('mcp-dema', realms)).toBe('mcp-demo');
    expect(closestName('MCP-Demo', realms)).toBe('mcp-demo');
  });

  it('says nothing for an existing name, a new one, or a tie', () => {
    expect(closestName('mcp-demo', realms)).toBeUndefined();
    expect(closestName('payments', realms)).toBeUndefined();
    expect(closestName('mcp-prmo', ['mcp-demo', 'mcp-prod'])).toBeUndefined();
    // Short names: one edit at most, or every short name would be "close".
    expect(closestName('team-b', realms)).toBe('team-a');
    expect(closestName('ab', ['xy', 'cd'])).toBeUndefined();
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('demo', 'dmeo')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
