/**
 * `mcp-keycloak doctor`: check the whole chain a client walks (MCP server → metadata → Keycloak →
 * realm → registration → token → MCP call) and say how to fix each failure. Exit 0 when nothing
 * failed (warnings allowed), 1 when something failed, 2 on bad input. `--fix` repairs the realm-side
 * failures with the engine behind `apply` and checks again.
 */
import { loadConfig, type ConfigFlags } from '../config/load.js';
import { SECRET_ENV, type Secrets } from '../config/secrets.js';
import { envOrLocalSecrets } from '../config/resolve-secrets.js';
import type { Config } from '../config/schema.js';
import { doctorFixCommand } from '../doctor/fixes.js';
import { summarize } from '../doctor/findings.js';
import { buildReport, renderReport } from '../doctor/report.js';
import { defaultChecks, runChecks } from '../doctor/runner.js';
import type { Check, DoctorInput } from '../doctor/types.js';
import { ExitCode, UsageError } from '../errors.js';
import { connectAdmin, probeKeycloak, type AdminSession } from '../keycloak/session.js';
import { desiredRealm } from '../realm/desired.js';
import type { Change } from '../realm/plan.js';
import type { Ui } from '../ui/output.js';
import { converge } from '../realm/converge.js';

/** Env variable that may carry the token to analyse (argv would leak it into shell history and `ps`). */
export const TOKEN_ENV = 'MCP_KEYCLOAK_TOKEN';

export interface DoctorFlags extends ConfigFlags {
  token?: string;
  fix?: boolean;
  yes?: boolean;
  /** Also run the whole chain with a real MCP client and the test user (src/e2e). */
  e2e?: boolean;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('--token - reads the token from stdin, but stdin is a terminal: pipe it in, e.g. `pbpaste | mcp-keycloak doctor --token -`.');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The token from stdin or env; never from argv. Strips "Bearer " and whitespace people paste along. */
export async function resolveToken(flags: DoctorFlags, env = process.env): Promise<DoctorInput['token']> {
  let value: string | undefined;
  let source: 'stdin' | 'env';
  if (flags.token !== undefined) {
    if (flags.token !== '-') {
      throw new UsageError(`--token takes "-" (read the token from stdin); a token in argv ends up in shell history and process lists. Use \`--token -\` or ${TOKEN_ENV}.`);
    }
    value = await readStdin();
    source = 'stdin';
  } else {
    value = env[TOKEN_ENV];
    source = 'env';
  }
  if (value === undefined) return undefined;
  const token = value.trim().replace(/^Bearer\s+/i, '');
  if (!token) throw new UsageError(source === 'stdin' ? '--token -: stdin was empty.' : `${TOKEN_ENV} is set but empty.`);
  return { value: token, source };
}

async function adminFor(config: Config, secrets: Secrets): Promise<{ admin?: AdminSession; adminMissing?: string }> {
  if (!secrets.adminPassword && !secrets.adminClientSecret) {
    return { adminMissing: `no admin credentials (${SECRET_ENV.adminPassword} or KEYCLOAK_ADMIN_CLIENT_ID/${SECRET_ENV.adminClientSecret})` };
  }
  try {
    return { admin: await connectAdmin(config, secrets) };
  } catch (error) {
    return { adminMissing: `admin login failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Assembles the inputs; nothing here fails for a missing optional input: those checks are skipped. */
export async function doctorInput(flags: DoctorFlags, ui: Ui): Promise<DoctorInput> {
  const { config, file } = await loadConfig(flags);
  const token = await resolveToken(flags);
  const secrets = await envOrLocalSecrets(config);
  const resource = config.resources[0]!;
  const computed = `${config.keycloakUrl}/realms/${config.realm}`;
  const [probe, admin] = await ui.step(`Connecting to ${config.keycloakUrl}`, () =>
    Promise.all([
      probeKeycloak(config.keycloakUrl, config.realm).then(
        (r) => ({ issuer: r.issuer, problem: undefined }),
        (error: unknown) => ({ issuer: computed, problem: error instanceof Error ? error.message : String(error) }),
      ),
      adminFor(config, secrets),
    ]),
  );
  const input: DoctorInput = { config, resource, secrets, expectedIssuer: probe.issuer, ...admin };
  if (probe.problem) input.keycloakProblem = probe.problem;
  if (file) input.configFile = file;
  if (token) input.token = token;
  return input;
}

export async function doctor(flags: DoctorFlags, ui: Ui, checks: Check[] = defaultChecks()): Promise<number> {
  const started = Date.now();
  const input = await doctorInput(flags, ui);
  // Loaded only for --e2e: it brings the MCP client SDK and the HTML parser.
  if (flags.e2e) checks = [...checks, (await import('../e2e/doctor-check.js')).e2eCheck];
  let { findings, state } = await runChecks(input, checks, ui);
  let fix: { applied: Change[]; before: ReturnType<typeof summarize> } | undefined;

  const fixable = findings.some((f) => f.status === 'fail' && f.fixable);
  if (flags.fix) {
    if (!input.admin) throw new UsageError(`--fix repairs the realm through the admin API: ${input.adminMissing}.`);
    if (fixable) {
      const context = { config: input.config, secrets: input.secrets, session: input.admin, desired: desiredRealm(input.config, input.secrets.testUserPassword) };
      const result = await converge(context, ui, { yes: flags.yes ?? false });
      fix = { applied: result.applied, before: summarize(findings) };
      ({ findings, state } = await runChecks(input, checks, ui));
    } else if (!ui.json) {
      ui.info(ui.color.dim('--fix: no realm-side failure to repair.'));
    }
  }

  const report = buildReport(input, findings, state, Date.now() - started);
  if (fix) report.fix = fix;
  if (!flags.fix && findings.some((f) => f.status === 'fail' && f.fixable)) report.repair = doctorFixCommand(input);
  if (ui.json) ui.data(report);
  else for (const line of renderReport(report, ui.color)) ui.info(line);
  return report.ok ? ExitCode.ok : ExitCode.failure;
}
