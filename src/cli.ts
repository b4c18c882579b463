/**
 * Command wiring only. Each command module is imported lazily (so `--help` stays fast) and returns an
 * exit code; this file is the one place that turns errors into a line on stderr and an exit code.
 */
import { Command, CommanderError, Help, Option } from 'commander';
import { collect, PLAN_TEST_USER, refuseTogether, REALM_ROLE, TOOL_SCOPE, withConfigOptions } from './cli-options.js';
import { CliError, ExitCode } from './errors.js';
import type { Ui } from './ui/output.js';
// Inlined into dist/cli.js by the build: --version reads no file.
import pkg from '../package.json' with { type: 'json' };

/** One text for plan, apply and serve: the flag names the same config entry (machineClients) in all three. */
const MACHINE_CLIENT =
  'a machine client (OAuth client credentials, no user) that calls the MCP server, repeatable; auth private_key_jwt (default) or client_secret_basic, credentials in a 0600 file (config machineClients)';

/**
 * The global options a command's help lists: all of them, except --timeout for `keycloak start|status|stop`,
 * which wait for the local Keycloak by clocks of their own and send nothing that --timeout bounds.
 */
function globalOptionsTaken(this: Help, command: Command): Option[] {
  const all = Help.prototype.visibleGlobalOptions.call(this, command);
  const local = command.parent?.name() === 'keycloak';
  return local ? all.filter((option) => option.long !== '--timeout') : all;
}

type Handler = (flags: any, ui: Ui) => Promise<number>;

/** The whole command tree; `run` loads a command's handler lazily and runs it with the parsed flags. */
export function buildProgram(
  run: (handler: () => Promise<Handler>, flags: Record<string, unknown>) => Promise<void>,
): Command {
  const program = new Command('mcp-keycloak')
    .description('Turn a Keycloak realm into a working OAuth authorization server for MCP servers, and prove it.')
    .version(pkg.version, '-v, --version')
    .option('--json', 'machine-readable output on stdout')
    .option('--debug', 'print stack traces on errors')
    .option(
      '--timeout <seconds>',
      'seconds Keycloak gets to answer each request (env MCP_KEYCLOAK_TIMEOUT; default 10)',
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExamples:\n  mcp-keycloak init --yes        # a local Keycloak if none answers, realm, files, doctor\n  mcp-keycloak serve             # the reference MCP server\n  mcp-keycloak doctor            # what is wrong, and the fix\nExit codes: 0 ok, 1 failure, 2 changes pending (plan --detailed-exitcode), 3 not running (keycloak status), 64 usage error, 130 interrupted.',
    )
    // Every subcommand's --help lists the global options it takes (they may follow the command name).
    .configureHelp({ showGlobalOptions: true, visibleGlobalOptions: globalOptionsTaken })
    // Commander's own usage errors (unknown option, missing argument) throw instead of exiting 1, so that
    // reportError gives them the usage exit code (64), like ours.
    .exitOverride();

  withConfigOptions(program.command('plan'), {
    realm: REALM_ROLE.plan,
    target: true,
    registration: 'full',
    testUser: PLAN_TEST_USER,
  })
    .description('show what apply would change in the realm; change nothing')
    .option('--tool-scope <tool=scope>', TOOL_SCOPE, collect)
    .option('--machine-client <clientId[:auth]>', MACHINE_CLIENT, collect)
    .option('--detailed-exitcode', 'exit 0 with no changes, 2 with changes pending, 1 on error (64 on a usage error)')
    .option('--summary <file>', 'also write the plan as Markdown to this file, for CI (e.g. "$GITHUB_STEP_SUMMARY")')
    .addHelpText(
      'after',
      '\nExample:\n  KEYCLOAK_ADMIN_PASSWORD=… mcp-keycloak plan --realm mcp-demo --resource http://localhost:8000/mcp',
    )
    .action((flags) => run(() => import('./commands/plan.js').then((m) => m.plan), flags));

  withConfigOptions(program.command('apply'))
    .description('create or repair the realm, scope, audience mapper, default scopes and registration policies')
    .option('--tool-scope <tool=scope>', TOOL_SCOPE, collect)
    .option('--machine-client <clientId[:auth]>', MACHINE_CLIENT, collect)
    .option('-y, --yes', 'do not ask for confirmation on a terminal')
    .option('--save', 'also write the realm-shaping flags (--cimd, --tool-scope, --dcr, …) into the config file')
    .addHelpText('after', '\nExample:\n  KEYCLOAK_ADMIN_PASSWORD=… mcp-keycloak apply --yes --test-user alice')
    .action((flags) => run(() => import('./commands/apply.js').then((m) => m.apply), flags));

  withConfigOptions(program.command('doctor'), {
    realm: REALM_ROLE.check,
    target: true,
    registration: 'full',
    testUser:
      'sign in as this user to obtain a real token; password from env MCP_KEYCLOAK_TEST_USER_PASSWORD (env MCP_KEYCLOAK_TEST_USER)',
  })
    .description('check every iss/aud/scope/registration link a client depends on, and say how to fix each failure')
    .option(
      '--token <->',
      'analyse a token read from stdin ("-" only; or env MCP_KEYCLOAK_TOKEN); never pass it in argv',
    )
    .option('--fix', 'repair the realm-side failures with the apply engine, then check again (needs admin credentials)')
    .option('-y, --yes', 'with --fix: do not ask for confirmation on a terminal')
    .option(
      '--e2e',
      'also sign the test user in with a real MCP client and call a tool, step by step (needs --test-user and MCP_KEYCLOAK_TEST_USER_PASSWORD)',
    )
    .option(
      '--machine-client <clientId>',
      'also get a token as this machine client (its 0600 credentials file from apply) and call a tool, repeatable',
      collect,
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 no failures (warnings allowed), 1 a check failed, 64 usage error.\nExamples:\n  mcp-keycloak doctor --resource http://localhost:8000/mcp\n  pbpaste | mcp-keycloak doctor --token -\n  KEYCLOAK_ADMIN_PASSWORD=… MCP_KEYCLOAK_TEST_USER_PASSWORD=… mcp-keycloak doctor --test-user alice --fix',
    )
    .action((flags) => run(() => import('./commands/doctor.js').then((m) => m.doctor), flags));

  withConfigOptions(program.command('serve'), { realm: REALM_ROLE.serve, target: true })
    .description('run the reference MCP server: validates Keycloak tokens for the resource, serves calculator tools')
    .option('--host <host>', 'interface to listen on (env MCP_KEYCLOAK_HOST; default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (env MCP_KEYCLOAK_PORT; default: the --resource URL port)')
    .option('--tool-scope <tool=scope>', TOOL_SCOPE, collect)
    .option('--machine-client <clientId[:auth]>', MACHINE_CLIENT, collect)
    .addOption(
      new Option(
        '--auth <mode>',
        'jwt: validate locally (default); introspection: ask Keycloak (env MCP_KEYCLOAK_INTROSPECTION_CLIENT_ID/_SECRET); off: loopback only',
      )
        .choices(['jwt', 'introspection', 'off'])
        .default('jwt'),
    )
    .addOption(
      new Option(
        '--dpop <mode>',
        'DPoP-bound tokens (RFC 9449): off (default), allowed beside Bearer, required (env MCP_KEYCLOAK_DPOP)',
      ).choices(['off', 'allowed', 'required']),
    )
    .option('--dpop-nonce', 'ask DPoP proofs for a server nonce (RFC 9449 §8)')
    .addHelpText(
      'after',
      '\nExample:\n  mcp-keycloak serve --realm mcp-demo --resource http://localhost:8000/mcp --scope mcp:run',
    )
    .action((flags) => run(() => import('./commands/serve.js').then((m) => m.serve), flags));

  refuseTogether(
    withConfigOptions(program.command('init')),
    'test-user',
    'no-test-user',
    '--test-user and --no-test-user contradict each other: keep one.',
  )
    .description('set up a realm, write mcp-keycloak.json, .vscode/mcp.json and .env, then prove it with doctor')
    .option('-y, --yes', 'take the defaults for everything not given; start a local Keycloak if none answers')
    .option('-f, --force', 'overwrite existing files that differ, without asking')
    .option('--dir <path>', 'folder to set up (default: the current one)')
    .option(
      '--admin-user <name>',
      'Keycloak admin user (env KEYCLOAK_ADMIN_USERNAME; password: env KEYCLOAK_ADMIN_PASSWORD or a hidden prompt)',
    )
    .option('--no-test-user', 'do not create a test user')
    .option('--start-keycloak', 'start a local Keycloak when nothing answers at the URL (see `keycloak start`)')
    .option('--no-start-keycloak', 'never start a local Keycloak')
    .option('--no-doctor', 'skip the final doctor run')
    .addHelpText(
      'after',
      '\nExamples:\n  mcp-keycloak init                       # wizard on a terminal\n  mcp-keycloak init --yes                 # recipe defaults; starts a local Keycloak if none answers\n  KEYCLOAK_ADMIN_PASSWORD=… mcp-keycloak init --yes --keycloak-url https://sso.example.com --realm mcp --resource https://mcp.example.com/mcp',
    )
    .action((flags) => run(() => import('./commands/init.js').then((m) => m.init), flags));

  const local = program
    .command('keycloak')
    .description('a local dev Keycloak (Docker if an engine answers, else the server distribution)')
    .addHelpText(
      'after',
      '\nExample:\n  mcp-keycloak keycloak start && mcp-keycloak keycloak status && mcp-keycloak keycloak stop',
    );
  local
    .command('start')
    .description(
      'start it (or report the one already running); the admin password goes to a 0600 file, never to the terminal',
    )
    .option('--port <port>', 'HTTP port on 127.0.0.1', '8080')
    .addOption(
      new Option('--runtime <runtime>', 'where to run it').choices(['auto', 'docker', 'distribution']).default('auto'),
    )
    .option(
      '--keycloak-version <version>',
      'Keycloak version to run, e.g. 26.0.8 (default: the newest this release is tested with)',
    )
    .option(
      '--features <list>',
      'Keycloak features to enable, comma-separated, e.g. cimd,resource-indicators, or none (env MCP_KEYCLOAK_FEATURES)',
    )
    .addHelpText(
      'after',
      '\nExample:\n  mcp-keycloak keycloak start --port 8080 && mcp-keycloak init --yes\n  mcp-keycloak keycloak start --port 8081 --keycloak-version 26.0.8\n  mcp-keycloak keycloak start --features cimd,resource-indicators\nKEYCLOAK_HOME: use an unpacked distribution instead of downloading one (cache: MCP_KEYCLOAK_CACHE).',
    )
    .action((flags) => run(() => import('./commands/keycloak.js').then((m) => m.keycloakStart), flags));
  local
    .command('status')
    .description('is it running? (exit 0 running, 3 not running)')
    .addHelpText('after', '\nExample:\n  mcp-keycloak keycloak status --json')
    .action((flags) => run(() => import('./commands/keycloak.js').then((m) => m.keycloakStatus), flags));
  local
    .command('stop')
    .description('stop it (only the process group or container it started); realms are kept')
    .option('--delete-data', 'also delete its database and admin password')
    .addHelpText('after', '\nExample:\n  mcp-keycloak keycloak stop --delete-data')
    .action((flags) => run(() => import('./commands/keycloak.js').then((m) => m.keycloakStop), flags));

  withConfigOptions(program.command('destroy'), {
    realm: REALM_ROLE.destroy,
    target: true,
    registration: 'undo',
    testUser: 'also delete this test user (env MCP_KEYCLOAK_TEST_USER)',
  })
    .description(
      'remove what apply created for this configuration (scopes, mappers, test user, policy changes), or the whole realm',
    )
    .option('--tool-scope <tool=scope>', `${TOOL_SCOPE}: the step-up scopes an apply --tool-scope created`, collect)
    .option(
      '--machine-client <clientId[:auth]>',
      'a machine client an apply --machine-client created: removed with its credentials file, repeatable',
      collect,
    )
    .option('-y, --yes', 'do not ask (required without a terminal)')
    .option('--dry-run', 'show what would be removed; change nothing')
    .option('--whole-realm', 'delete the entire realm instead (asks you to type its name)')
    .addHelpText(
      'after',
      '\nExamples:\n  mcp-keycloak destroy --dry-run\n  mcp-keycloak destroy --whole-realm --realm mcp-demo --yes',
    )
    .action((flags) => run(() => import('./commands/destroy.js').then((m) => m.destroy), flags));

  const clients = program
    .command('clients')
    .description('clients that Dynamic Client Registration created (every VS Code install registers one)')
    .addHelpText('after', '\nExample:\n  mcp-keycloak clients list && mcp-keycloak clients prune --days 30 --dry-run');
  withConfigOptions(clients.command('list'), { realm: REALM_ROLE.clients })
    .description('list DCR-created clients with their sessions and last use')
    .option('--days <n>', 'the unused-for window shown in the verdict column', '30')
    .addHelpText('after', '\nExample:\n  mcp-keycloak clients list --json')
    .action((flags) => run(() => import('./commands/clients.js').then((m) => m.clientsList), flags));
  withConfigOptions(clients.command('prune'), { realm: REALM_ROLE.clients })
    .description('delete DCR-created clients unused for N days (see docs: how "unused" is decided)')
    .option('--days <n>', 'unused for at least this many days', '30')
    .option('-y, --yes', 'do not ask (required without a terminal)')
    .option('--dry-run', 'only list what would be deleted')
    .addHelpText('after', '\nExample:\n  mcp-keycloak clients prune --days 30 --dry-run')
    .action((flags) => run(() => import('./commands/clients.js').then((m) => m.clientsPrune), flags));

  withConfigOptions(program.command('export'), { realm: REALM_ROLE.export })
    .description("print the realm's MCP configuration as realm JSON (for kc.sh import or a Git review)")
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .addHelpText('after', '\nExample:\n  mcp-keycloak export --realm mcp-demo -o realm-mcp-demo.json')
    .action((flags) => run(() => import('./commands/export.js').then((m) => m.exportCommand), flags));

  return program;
}

/** Runs the CLI and returns the exit code; never calls process.exit itself. */
export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let debug = argv.includes('--debug');
  const program = buildProgram(async (load, flags) => {
    const globals = program.opts<{ json?: boolean; debug?: boolean; timeout?: string }>();
    debug = Boolean(globals.debug);
    // ./.env (written by init) fills in what the environment leaves unset. Read here, before the command
    // loads, not on every start: nothing up to the action reads the environment (an option default taken
    // from env would not see .env), and --help / --version stay free of it.
    const [{ loadDotenv }, { setRequestTimeout }] = await Promise.all([
      import('./init/dotenv.js'),
      import('./keycloak/http.js'),
    ]);
    loadDotenv();
    setRequestTimeout(globals.timeout); // after .env, which may set MCP_KEYCLOAK_TIMEOUT
    // Colour (chalk) comes with the command, never for --help or --version.
    const [{ createUi }, handler] = await Promise.all([import('./ui/output.js'), load()]);
    const ui = createUi({ json: Boolean(globals.json) });
    exitCode = await handler(flags, ui);
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    exitCode = await reportError(error, debug);
  }
  return exitCode;
}

async function reportError(error: unknown, debug: boolean): Promise<number> {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  const { redact, secretsFromEnv } = await import('./config/secrets.js');
  const secrets = secretsFromEnv();
  // Messages may quote what a server said: one line, its control characters shown (src/ui/terminal-text.ts).
  const { escapeControl } = await import('./ui/terminal-text.js');
  const line = (text: string) => escapeControl(redact(text, secrets));
  const lines = (text: string) => redact(text, secrets).split('\n').map(escapeControl).join('\n');
  if (error instanceof CliError) {
    process.stderr.write(`error: ${line(error.message)}\n`);
    if (debug && error.cause) process.stderr.write(`${lines(String((error.cause as Error).stack ?? error.cause))}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `error: unexpected failure: ${line(message)}${debug ? '' : ' (run with --debug for the stack trace)'}\n`,
  );
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${lines(error.stack)}\n`);
  return ExitCode.failure;
}
