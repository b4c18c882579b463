/** The shipped JSON Schema must be the one generated from the zod schema (regenerate: npm run schema). */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { schemaText } from '../../src/init/schema-document.js';

it('schema/mcp-keycloak.schema.json equals the schema generated from src/config/schema.ts', () => {
  const committed = readFileSync(new URL('../../schema/mcp-keycloak.schema.json', import.meta.url), 'utf8');
  expect(committed, 'stale schema file: run `npm run schema` and commit the result').toBe(schemaText());
});

it('accepts what init writes and names every top-level field', () => {
  const schema = JSON.parse(schemaText()) as { properties: Record<string, unknown>; additionalProperties?: boolean };
  expect(Object.keys(schema.properties).sort()).toEqual([
    '$schema',
    'admin',
    'cimd',
    'clients',
    'dcr',
    'keycloakFeatures',
    'keycloakUrl',
    'machineClients',
    'realm',
    'requireDpop',
    'resources',
    'server',
    'testUser',
  ]);
  expect(schema.additionalProperties).toBe(false);
});
