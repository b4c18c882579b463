#!/usr/bin/env node
// Writes schema/mcp-keycloak.schema.json from the zod schema (src/config/schema.ts, through the build),
// so editors validate mcp-keycloak.json. test/unit/schema.test.ts fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { schemaText } from '../dist/init/schema-document.js';

const target = new URL('../schema/mcp-keycloak.schema.json', import.meta.url);
writeFileSync(target, schemaText());
process.stdout.write(`wrote ${target.pathname}\n`);
