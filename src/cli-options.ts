/**
 * The options several commands share, and their texts: each command shows only the ones it honours,
 * worded for what that command does with them (doctor reads a realm, apply configures it).
 */
import { Command, Option } from 'commander';
import { UsageError } from './errors.js';

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface OptionGroups {
  /** What the command does with the realm, for `--realm`'s text: one of REALM_ROLE. */
  realm: string;
  /** `--resource` and `--scope`: for commands whose work depends on the MCP server and its scopes. */
  target?: boolean;
  /**
   * Registration-policy options: `full` (`--dcr`, `--trusted-host`, `--web-origin`) for commands that plan
   * the realm; `undo` (`--dcr`, `--web-origin`) for destroy, which resets Trusted Hosts to Keycloak's
   * default whatever the hosts were, so a `--trusted-host` there would be accepted and ignored.
   */
  registration?: 'full' | 'undo';
  /** What `--test-user` means for this command; no flag when absent. */
  testUser?: string;
}

/** `--client` (config `clients`) as each command uses it: apply, plan and init provision for the clients, doctor judges them. */
export const CLIENT_ROLE = {
  provision:
    'the MCP clients in use, comma-separated catalogue ids or all (docs/clients.md): provision what they need, refuse what cannot work (config clients)',
  judge:
    'judge these MCP clients against the realm, comma-separated catalogue ids or all (default: config clients, else all)',
} as const;

/** One text for plan, apply and serve: the flag means the same config value (resources[].toolScopes) in all three. */
/**
 * `--realm` as each command uses it: a read-only command must not say "realm to configure" (a user then
 * fears that doctor or plan changes it).
 */
export const REALM_ROLE = {
  configure: 'realm to configure',
  plan: 'realm to compare with the configuration; read only',
  check: 'realm to check; read only unless --fix',
  serve: 'realm whose tokens the server accepts',
  destroy: 'realm to clean up (what apply created in it)',
  clients: 'realm whose registered clients to list or prune',
  export: 'realm to read and export',
} as const;

export const TOOL_SCOPE =
  'step-up: a scope a tool needs beside --scope, repeatable, e.g. divide_numbers=mcp:admin (config resources[].toolScopes)';

export const CREATE_TEST_USER =
  'create a test user; password from env MCP_KEYCLOAK_TEST_USER_PASSWORD (env MCP_KEYCLOAK_TEST_USER)';

/** plan reads only: the same user, as what apply would create. */
export const PLAN_TEST_USER =
  'the test user apply would create (and whose password plan checks); password from env MCP_KEYCLOAK_TEST_USER_PASSWORD (env MCP_KEYCLOAK_TEST_USER)';

/** Options shared by every command that reads the configuration; each command shows only the ones it uses. */
export function withConfigOptions(
  command: Command,
  groups: OptionGroups = {
    realm: REALM_ROLE.configure,
    target: true,
    registration: 'full',
    testUser: CREATE_TEST_USER,
  },
): Command {
  command
    .option('-c, --config <file>', 'config file (default: ./mcp-keycloak.json when present; env MCP_KEYCLOAK_CONFIG)')
    .option('--keycloak-url <url>', 'Keycloak base URL (env KEYCLOAK_URL; default http://localhost:8080)')
    .option('--realm <name>', `${groups.realm} (env MCP_KEYCLOAK_REALM; default mcp-demo)`);
  if (groups.target) {
    command
      .option(
        '--resource <url>',
        'MCP server URL, the token audience (env MCP_KEYCLOAK_RESOURCE; default http://localhost:8000/mcp)',
      )
      .option(
        '--scope <name>',
        'scope required by the MCP server, repeatable (env MCP_KEYCLOAK_SCOPE; default mcp:run)',
        collect,
      );
  }
  if (groups.registration) withRegistrationOptions(command, groups.registration);
  if (groups.testUser) command.option('--test-user <name>', groups.testUser);
  // The commands that shape or judge the registration setup (plan, apply, init, doctor) take the clients in use too.
  if (groups.registration === 'full') {
    const role = groups.realm === REALM_ROLE.check ? CLIENT_ROLE.judge : CLIENT_ROLE.provision;
    command.option('--client <ids>', role, collect);
  }
  return command;
}

/** The registration-policy options, and with `full` the realm-shaping ones that go with them (CIMD, DPoP). */
function withRegistrationOptions(command: Command, registration: 'full' | 'undo'): void {
  command.addOption(
    new Option(
      '--dcr <mode>',
      'anonymous registration: anonymous | trusted-hosts | off (env MCP_KEYCLOAK_DCR)',
    ).choices(['anonymous', 'trusted-hosts', 'off']),
  );
  if (registration === 'full') {
    command.option(
      '--trusted-host <host>',
      'with --dcr trusted-hosts: a trusted host, repeatable (env MCP_KEYCLOAK_TRUSTED_HOSTS)',
      collect,
    );
  }
  command.option(
    '--web-origin <origin>',
    'allowed registration web origin, repeatable (env MCP_KEYCLOAK_WEB_ORIGINS)',
    collect,
  );
  if (registration !== 'full') return;
  command
    .option(
      '--cimd',
      'with Client ID Metadata Documents (CIMD) for the known clients (Keycloak 26.6+ with --features=cimd; env MCP_KEYCLOAK_CIMD)',
    )
    .option(
      '--cimd-domain <host>',
      'a further permitted client_id domain, repeatable; implies --cimd (env MCP_KEYCLOAK_CIMD_DOMAINS)',
      collect,
    )
    .option('--cimd-allow-http', 'accept http:// client_id URLs (local test realms only); implies --cimd')
    .option(
      '--require-dpop',
      'with DPoP-bound tokens required of anonymously created clients (Keycloak 26.4+; env MCP_KEYCLOAK_REQUIRE_DPOP)',
    );
}

/**
 * Refuses two flags that contradict each other but share one value, so that commander would silently
 * let the later one win (`--no-test-user --test-user bob`): which one the user meant is a guess.
 */
export function refuseTogether(command: Command, first: string, second: string, message: string): Command {
  const seen = new Set<string>();
  command.on(`option:${first}`, () => seen.add(first));
  command.on(`option:${second}`, () => seen.add(second));
  return command.hook('preAction', () => {
    if (seen.size === 2) throw new UsageError(message);
  });
}
