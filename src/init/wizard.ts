/**
 * Collects init's answers. Each has a flag and an env variable (flags > env > existing config file);
 * what is still open is asked on a terminal with the recipe's defaults, taken silently with --yes, and
 * defaulted without a terminal, where only the admin password is truly required.
 */
import { randomBytes } from 'node:crypto';
import type { ZodType } from 'zod';
import { ENV, mergeSources, type ConfigFlags, type Origin } from '../config/load.js';
import { DEFAULTS, dcrModes, realmName, scopeName, type DcrMode } from '../config/schema.js';
import { SECRET_ENV } from '../config/secrets.js';
import { UsageError } from '../errors.js';
import { ask, askHidden, confirm } from '../ui/prompt.js';
import type { Ui } from '../ui/output.js';
import type { InitAnswers } from './files.js';

export interface WizardFlags extends Omit<ConfigFlags, 'testUser'> {
  yes?: boolean;
  /** commander: `--test-user NAME` is a string, `--no-test-user` is false. */
  testUser?: string | false;
  adminUser?: string;
}

export interface WizardContext {
  flags: WizardFlags;
  ui: Ui;
  env: NodeJS.ProcessEnv;
  /** The existing config file's object, when there is one. */
  fromFile: Record<string, unknown>;
  /** The test user password kept in an existing .env. */
  storedTestUserPassword?: string;
}

const url = (value: string): string | undefined => {
  try {
    const parsed = new URL(value);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:'
      ? undefined
      : 'must start with http:// or https://';
  } catch {
    return 'must be an absolute URL, e.g. http://localhost:8080';
  }
};
/** Keycloak compares the browser's Origin header with each entry: a path or trailing slash never matches. */
function originProblem(value: string): string | undefined {
  const problem = url(value);
  if (problem) return problem;
  const { origin } = new URL(value);
  return origin === value
    ? undefined
    : `is not an origin: use scheme://host[:port] with nothing after it, e.g. ${origin}`;
}
const fromZod = (schema: ZodType) => (value: string) => {
  const result = schema.safeParse(value);
  return result.success ? undefined : result.error.issues[0]?.message;
};

/** Asks until the answer is valid (a typo should not cost the whole wizard). */
async function askValid(
  question: string,
  fallback: string,
  check: (value: string) => string | undefined,
  ui: Ui,
): Promise<string> {
  for (;;) {
    const answer = await ask(question, fallback);
    const problem = check(answer);
    if (!problem) return answer;
    ui.warn(ui.color.red(`  ${answer}: ${problem}`));
  }
}

export interface Prompter {
  /** True when questions may be asked (a terminal, and no --yes). */
  asking: boolean;
  text(
    question: string,
    given: string | undefined,
    fallback: string,
    check?: (value: string) => string | undefined,
  ): Promise<string>;
}

/** Asks in a terminal (without --yes); otherwise takes the given value or the default, checked alike. */
export function prompter(ui: Ui, yes: boolean): Prompter {
  const asking = ui.interactive && !yes;
  return {
    asking,
    async text(question, given, fallback, check = () => undefined) {
      if (given !== undefined) {
        const problem = check(given);
        if (problem) throw new UsageError(`${question}: "${given}" ${problem}.`);
        return given;
      }
      return asking ? askValid(question, fallback, check, ui) : fallback;
    },
  };
}

/** Keycloak URL first: init checks it answers (and may offer a local Keycloak) before asking more. */
export async function askKeycloakUrl(context: WizardContext, p: Prompter): Promise<string> {
  const raw = mergeSources(context.fromFile, context.env, { keycloakUrl: context.flags.keycloakUrl });
  const given = typeof raw.keycloakUrl === 'string' ? raw.keycloakUrl : undefined;
  const value = await p.text('Keycloak URL', given, DEFAULTS.keycloakUrl, url);
  return value.replace(/\/+$/, '');
}

/** The Keycloak admin user (flag, env, config file, default) and password (env, else the one a local Keycloak recorded, else a hidden prompt). */
export async function askAdmin(
  context: WizardContext,
  p: Prompter,
  knownPassword: string | undefined,
): Promise<{ username: string; password: string; typed: boolean }> {
  const { env, flags, fromFile } = context;
  const fileAdmin = (fromFile.admin ?? {}) as { username?: string };
  const given = flags.adminUser ?? env[ENV.adminUsername] ?? fileAdmin.username;
  const username = await p.text('Keycloak admin user', given, DEFAULTS.adminUsername);
  const password = env[SECRET_ENV.adminPassword] ?? knownPassword;
  if (password) return { username, password, typed: false };
  if (context.ui.interactive)
    return { username, password: await askHidden(`Password of Keycloak admin "${username}"`), typed: true };
  throw new UsageError(
    `${SECRET_ENV.adminPassword} is not set and there is no terminal to ask: export the password of Keycloak admin "${username}" (nothing was written).`,
  );
}

/**
 * The keys askRest reads from flags, env and file merged, before the schema has checked them: the shapes the
 * sources are meant to have (the answers are validated when the config file is written).
 */
interface UnvalidatedAnswers {
  realm?: string;
  resources?: Array<{ url?: string; scopes?: string[] } | undefined>;
  dcr?: { mode?: string; trustedHosts?: string[]; webOrigins?: string[] };
  cimd?: unknown;
  clients?: unknown;
  testUser?: { username?: string };
}

/** The remaining answers (realm, resource, scopes, test user…) from flags, env, an existing config file and prompts. */
export async function askRest(
  context: WizardContext,
  p: Prompter,
  keycloakUrl: string,
  adminUsername: string,
): Promise<InitAnswers> {
  const { flags, env, fromFile } = context;
  const origins: Origin[] = [];
  const raw = mergeSources(fromFile, env, { ...flags, testUser: undefined }, origins) as UnvalidatedAnswers;
  const firstResource = Array.isArray(raw.resources) ? raw.resources[0] : undefined;

  const realm = await p.text('Realm', raw.realm, DEFAULTS.realm, fromZod(realmName));
  const resource = await p.text('MCP server URL (the token audience)', firstResource?.url, DEFAULTS.resource, url);
  const givenScope = Array.isArray(firstResource?.scopes) ? firstResource.scopes.join(' ') : undefined;
  // Several scopes are space-separated, as in an OAuth `scope` parameter.
  const scopeCheck = (value: string) => value.split(/\s+/).filter(Boolean).map(fromZod(scopeName)).find(Boolean);
  const scopes = (await p.text('Scope the MCP server requires', givenScope, DEFAULTS.scope, scopeCheck))
    .split(/\s+/)
    .filter(Boolean);
  const dcrCheck = (value: string) =>
    (dcrModes as readonly string[]).includes(value) ? undefined : `must be one of ${dcrModes.join(', ')}`;
  const dcr = (await p.text(
    'Dynamic Client Registration: anonymous | trusted-hosts | off',
    raw.dcr?.mode,
    'anonymous',
    dcrCheck,
  )) as DcrMode;
  let trustedHosts: string[] = Array.isArray(raw.dcr?.trustedHosts) ? raw.dcr.trustedHosts : [];
  if (dcr === 'trusted-hosts' && trustedHosts.length === 0) {
    const hosts = await p.text('Trusted hosts (space-separated)', undefined, 'localhost 127.0.0.1');
    trustedHosts = hosts.split(/[\s,]+/).filter(Boolean);
  }

  const answers: InitAnswers = { keycloakUrl, realm, resource, scopes, dcr, trustedHosts, adminUsername, origins };
  // --web-origin / MCP_KEYCLOAK_WEB_ORIGINS / the file: not asked (a browser origin that may register is opt-in).
  const webOrigins = Array.isArray(raw.dcr?.webOrigins) ? raw.dcr.webOrigins : undefined;
  if (webOrigins) {
    for (const origin of webOrigins) {
      const problem = originProblem(origin);
      if (problem) throw new UsageError(`--web-origin "${origin}" ${problem}. Nothing was written.`);
    }
    answers.webOrigins = webOrigins;
  }
  // --cimd and its companions: not asked (CIMD needs a Keycloak started with --features=cimd, an opt-in).
  if (raw.cimd && typeof raw.cimd === 'object') answers.cimd = raw.cimd as Record<string, unknown>;
  // --client: not asked either; the schema checks the ids when the config file is written.
  if (Array.isArray(raw.clients)) answers.clients = raw.clients.map(String);
  const testUser = await askTestUser(context, p, raw);
  if (testUser) answers.testUser = testUser;
  return answers;
}

async function askTestUser(
  context: WizardContext,
  p: Prompter,
  raw: UnvalidatedAnswers,
): Promise<InitAnswers['testUser']> {
  const { flags, env } = context;
  let username: string;
  if (flags.testUser === false) return undefined;
  const given = flags.testUser ?? env[ENV.testUser] ?? raw.testUser?.username;
  if (given) username = given;
  else if (p.asking) {
    if (!(await confirm('Create a test user to sign in with?', true))) return undefined;
    username = await p.text('Test user name', undefined, 'alice', (v) =>
      /^[A-Za-z0-9._@-]+$/.test(v) ? undefined : 'letters, digits, ".", "_", "@", "-" only',
    );
  } else if (flags.yes) username = 'alice';
  else return undefined; // without a terminal or --yes, no demo user appears unasked
  const known = env[SECRET_ENV.testUserPassword] ?? context.storedTestUserPassword;
  if (known) return { username, password: known, generated: false };
  if (p.asking) {
    const typed = await askHidden(`Password for "${username}" (empty: generate one, kept in .env)`);
    if (typed) return { username, password: typed, generated: false };
  }
  return { username, password: randomBytes(12).toString('base64url'), generated: true };
}
