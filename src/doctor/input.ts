/**
 * What doctor examines, assembled before any check runs: the validated config, the token to analyse
 * (stdin or env, never argv), the secrets, an admin session when credentials work, and the realm's issuer
 * as Keycloak announces it. Nothing here fails for a missing optional input: those checks are skipped.
 */
import { applyOverrideArgs, loadConfig, type ConfigFlags } from '../config/load.js';
import { envOrLocalSecrets } from '../config/resolve-secrets.js';
import type { Config } from '../config/schema.js';
import { SECRET_ENV, type Secrets } from '../config/secrets.js';
import { UsageError } from '../errors.js';
import { connectAdmin, NotKeycloakError, probeKeycloak, RealmMissingError } from '../keycloak/session.js';
import { KeycloakUnreachableError } from '../keycloak/unreachable.js';
import { realmIssuer } from '../keycloak/urls.js';
import { command } from '../ui/invocation.js';
import type { Ui } from '../ui/output.js';
import type { DoctorInput, KeycloakProblemKind } from './types.js';

/** Env variable that may carry the token to analyse (argv would leak it into shell history and `ps`). */
const TOKEN_ENV = 'MCP_KEYCLOAK_TOKEN';

/** The flags doctor's input depends on. */
export interface DoctorInputFlags extends ConfigFlags {
  /** "-": read the token from stdin. */
  token?: string;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError(
      `--token - reads the token from stdin, but stdin is a terminal: pipe it in, e.g. \`pbpaste | ${command('doctor --token -')}\`.`,
    );
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The token from stdin or env; never from argv. Strips "Bearer " and whitespace people paste along. */
async function resolveToken(flags: DoctorInputFlags, env = process.env): Promise<DoctorInput['token']> {
  let value: string | undefined;
  let source: 'stdin' | 'env';
  if (flags.token !== undefined) {
    if (flags.token !== '-') {
      throw new UsageError(
        `--token takes "-" (read the token from stdin); a token in argv ends up in shell history and process lists. Use \`--token -\` or ${TOKEN_ENV}.`,
      );
    }
    value = await readStdin();
    source = 'stdin';
  } else {
    value = env[TOKEN_ENV];
    source = 'env';
  }
  if (value === undefined) return undefined;
  const token = value.trim().replace(/^Bearer\s+/i, '');
  if (!token)
    throw new UsageError(source === 'stdin' ? '--token -: stdin was empty.' : `${TOKEN_ENV} is set but empty.`);
  return { value: token, source };
}

/** The admin session, or why there is none: none given (`adminMissing`), or given and not working (`adminFailed` too). */
async function adminFor(
  config: Config,
  secrets: Secrets,
): Promise<Pick<DoctorInput, 'admin' | 'adminMissing' | 'adminFailed'>> {
  if (!secrets.adminPassword && !secrets.adminClientSecret) {
    return {
      adminMissing: `no admin credentials (${SECRET_ENV.adminPassword} or KEYCLOAK_ADMIN_CLIENT_ID/${SECRET_ENV.adminClientSecret})`,
    };
  }
  try {
    return { admin: await connectAdmin(config, secrets) };
  } catch (error) {
    // The same one line plan and apply fail with (keycloak.admin reports it as a failure).
    const message = error instanceof Error ? error.message : String(error);
    return { adminMissing: `admin login failed: ${message}`, adminFailed: message };
  }
}

/**
 * The realm's issuer as Keycloak's discovery document announces it (what tokens carry in `iss`). When
 * the document cannot be read, the issuer Keycloak would announce for this base URL, and why not.
 */
export async function announcedIssuer(
  config: Pick<Config, 'keycloakUrl' | 'realm'>,
): Promise<{ issuer: string; problem?: string; problemKind?: KeycloakProblemKind; fix?: string }> {
  try {
    return { issuer: (await probeKeycloak(config.keycloakUrl, config.realm)).issuer };
  } catch (error) {
    const issuer = realmIssuer(config.keycloakUrl, config.realm);
    const problem = error instanceof Error ? error.message : String(error);
    if (error instanceof NotKeycloakError) return { issuer, problem, problemKind: 'not-keycloak' };
    if (error instanceof RealmMissingError) return { issuer, problem, problemKind: 'realm-missing' };
    if (error instanceof KeycloakUnreachableError)
      return { issuer, problem, problemKind: 'unreachable', fix: error.fix };
    return { issuer, problem };
  }
}

/** Assembles the inputs; Keycloak's discovery document and the admin login are tried side by side. */
export async function doctorInput(flags: DoctorInputFlags, ui: Ui): Promise<DoctorInput> {
  const { config, file } = await loadConfig(flags);
  const token = await resolveToken(flags);
  const secrets = await envOrLocalSecrets(config);
  const resource = config.resources[0]!;
  const [probe, admin] = await ui.step(`Connecting to ${config.keycloakUrl}`, () =>
    Promise.all([announcedIssuer(config), adminFor(config, secrets)]),
  );
  const input: DoctorInput = { config, resource, secrets, expectedIssuer: probe.issuer, ...admin };
  if (probe.problem) input.keycloakProblem = probe.problem;
  if (probe.problemKind) input.keycloakProblemKind = probe.problemKind;
  if (probe.fix) input.keycloakProblemFix = probe.fix;
  // The first real cause: with nothing at the URL, credentials (given, missing or kept in the stopped local
  // Keycloak's state file) are not why the realm checks cannot run.
  if (probe.problemKind === 'unreachable' && !input.admin) {
    input.adminMissing = `nothing answers at ${config.keycloakUrl} (see keycloak.realm)`;
    // keycloak.realm fails for it already: the admin checks are skipped because of it, not failed a second time.
    delete input.adminFailed;
  }
  if (file) {
    input.configFile = file;
    input.overrides = applyOverrideArgs(flags);
  }
  if (token) input.token = token;
  return input;
}
