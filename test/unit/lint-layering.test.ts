/**
 * The layering rules of eslint.config.js (issue 22) hold for code that breaks them: each import below is one a
 * future change could add, and lint must refuse it in that file and accept it where the house allows it.
 * Type information is not needed for import rules, so this lints without it (fast, no tsconfig program).
 */
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({
  overrideConfig: [{ files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked }],
});

/** The ids of the import rules that `code` breaks as the file `filePath`. */
async function importFindings(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === '@typescript-eslint/no-restricted-imports' || message.fatal)
    .map((message) => message.message);
}

describe('the layering lint rules', () => {
  it.each([
    [
      'a command importing a command',
      'src/commands/plan.ts',
      "import { apply } from './apply.js';",
      /imports no command/,
    ],
    [
      'an engine importing a command',
      'src/realm/plan.ts',
      "import { init } from '../commands/init.js';",
      /Only src\/cli\.ts/,
    ],
    [
      'the admin client outside src/keycloak/',
      'src/realm/live.ts',
      "import KcAdminClient from '@keycloak/keycloak-admin-client';",
      /Only src\/keycloak\//,
    ],
    [
      'an engine importing connect.ts',
      'src/doctor/runner.ts',
      "import { openAdmin } from '../connect.js';",
      /Only commands/,
    ],
    [
      'the server importing doctor',
      'src/server/http.ts',
      "import { runDoctor } from '../doctor/runner.js';",
      /below doctor/,
    ],
    [
      'ui importing the realm pipeline',
      'src/ui/plan-view.ts',
      "import { planRealm } from '../realm/plan.js';",
      /realm\//,
    ],
    ['the verify core importing node:http', 'src/server/verify.ts', "import { request } from 'node:http';", /no HTTP/],
    ['the verify core importing undici', 'src/server/dpop.ts', "import { fetch } from 'undici';", /no HTTP/],
    [
      'the verify core importing the MCP SDK',
      'src/server/authenticate.ts',
      "import { McpServer } from '@modelcontextprotocol/server';",
      /no HTTP/,
    ],
  ])('refuses %s', async (_what, filePath, code, message) => {
    const findings = await importFindings(
      filePath,
      `${code}\nexport const used = [${code.match(/import \{? ?(\w+)/)![1]}];\n`,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatch(message);
  });

  it.each([
    [
      'the admin client inside src/keycloak/',
      'src/keycloak/session.ts',
      "import KcAdminClient from '@keycloak/keycloak-admin-client';",
    ],
    [
      "the admin client's types anywhere",
      'src/realm/live.ts',
      "import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';",
    ],
    ['a command importing connect.ts', 'src/commands/plan.ts', "import { openRealmContext } from '../connect.js';"],
    ['a command importing an engine', 'src/commands/doctor.ts', "import { runDoctor } from '../doctor/runner.js';"],
    ['the HTTP adapter importing node:http', 'src/server/http.ts', "import { createServer } from 'node:http';"],
    [
      'doctor importing the realm pipeline',
      'src/doctor/checks/realm.ts',
      "import { planRealm } from '../../realm/plan.js';",
    ],
  ])('accepts %s', async (_what, filePath, code) => {
    expect(await importFindings(filePath, `${code}\nexport {};\n`)).toEqual([]);
  });
});
