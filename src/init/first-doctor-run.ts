/**
 * init's last step: prove the setup works before saying "done". Doctor's checks look at the MCP
 * server from the outside (401 challenge, Protected Resource Metadata), so when nothing listens on a
 * loopback resource URL yet, init starts the reference server in-process for the check, says so, and
 * stops it afterwards.
 */
import { isLoopbackHost, portOf } from '../addresses.js';
import type { Config } from '../config/schema.js';
import type { Secrets } from '../config/secrets.js';
import type { DoctorInput } from '../doctor/types.js';
import type { AdminSession } from '../keycloak/session.js';
import { portFree } from '../local/process.js';
import { command } from '../ui/invocation.js';
import type { Ui } from '../ui/output.js';

/** How the first doctor run went. */
export interface FirstDoctorRun {
  ok: boolean;
  /** Doctor's JSON report (findings), or why doctor did not run. */
  report: unknown;
}

/** What init hands over: the config it wrote, its secrets and its admin session (so doctor does not log in again). */
export interface FirstDoctorInput {
  config: Config;
  secrets: Secrets;
  session: AdminSession;
  configFile: string;
  ui: Ui;
}

/** Runs doctor's checks on the setup init just made, with the reference server started for them when nothing serves a loopback resource yet. */
export async function runFirstDoctor(input: FirstDoctorInput): Promise<FirstDoctorRun> {
  const { config, ui } = input;
  const resource = config.resources[0]!;
  const url = new URL(resource.url);
  const port = config.server.port ?? portOf(url);
  let close: (() => Promise<void>) | undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname) && (await portFree(port, config.server.host))) {
    const { startReferenceServer } = await import('../server/index.js');
    if (!ui.json)
      ui.info(
        `Starting the reference MCP server at ${resource.url} for the check (it stops when init ends; \`${command('serve')}\` runs it for good).`,
      );
    const server = await startReferenceServer({
      keycloakUrl: config.keycloakUrl,
      realm: config.realm,
      resource: resource.url,
      scopes: resource.scopes,
      host: config.server.host,
      port,
    });
    close = () => server.close();
  }
  try {
    return await runDoctor(input);
  } finally {
    await close?.();
  }
}

/** Doctor's own runner and report, fed with init's session so it does not log in again. */
async function runDoctor(input: FirstDoctorInput): Promise<FirstDoctorRun> {
  const { config, secrets, session, configFile, ui } = input;
  const [{ defaultChecks, runChecks }, { buildReport, renderReport }, { announcedIssuer }] = await Promise.all([
    import('../doctor/runner.js'),
    import('../doctor/report.js'),
    import('../doctor/input.js'),
  ]);
  const started = Date.now();
  const { issuer, problem, problemKind } = await announcedIssuer(config);
  const doctorInput: DoctorInput = {
    config,
    configFile,
    resource: config.resources[0]!,
    secrets,
    admin: session,
    expectedIssuer: issuer,
  };
  if (problem) doctorInput.keycloakProblem = problem;
  if (problemKind) doctorInput.keycloakProblemKind = problemKind;
  const { findings, state } = await runChecks(doctorInput, defaultChecks(), ui);
  const report = buildReport(doctorInput, findings, state, Date.now() - started);
  if (!ui.json) for (const line of renderReport(report, ui.color)) ui.info(line);
  return { ok: report.ok, report };
}
