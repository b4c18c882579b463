/**
 * `mcp-keycloak init`: from an empty folder to a verified setup. Order matters for "nothing
 * half-written": every question is answered and the admin login proven before anything changes;
 * the realm is converged next, the files written after that (atomically), and doctor runs last.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE, ENV } from '../config/load.js';
import { configSchema, type Config } from '../config/schema.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { connectAdmin, CredentialsRejectedError, type AdminSession } from '../keycloak/session.js';
import { requestKeycloak } from '../keycloak/answer.js';
import { parseFeatures } from '../local/features.js';
import { realmIssuer } from '../keycloak/urls.js';
import { desiredRealm } from '../realm/desired.js';
import {
  ENV_FILE,
  existingTestUserPassword,
  planFiles,
  serverName,
  writeFiles,
  type InitAnswers,
  type PlannedFile,
} from '../init/files.js';
import { ensureKeycloak } from '../init/keycloak-offer.js';
import { fill, loadTemplate } from '../init/render.js';
import { checkResourceFree } from '../init/resource-check.js';
import { runFirstDoctor, type FirstDoctorRun } from '../init/first-doctor-run.js';
import { askAdmin, askKeycloakUrl, askRest, prompter, type WizardFlags } from '../init/wizard.js';
import { command } from '../ui/invocation.js';
import { askHidden } from '../ui/prompt.js';
import type { Ui } from '../ui/output.js';
import { converge } from '../realm/converge.js';
import { resolveConflicts } from '../init/conflicts.js';
import { cimdSection } from '../init/config-merge.js';

export interface InitFlags extends WizardFlags {
  force?: boolean;
  dir?: string;
  startKeycloak?: boolean;
  doctor?: boolean;
  testUser?: string | false;
}

function readExistingConfig(path: string, force: boolean, ui: Ui): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    const value = JSON.parse(readFileSync(path, 'utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  if (force) {
    ui.warn(ui.color.yellow(`${path} is not valid JSON: --force replaces it whole (nothing in it can be kept).`));
    return {};
  }
  throw new UsageError(
    `${path} exists but is not valid JSON: fix it, or rerun with --force to replace it. Nothing was written.`,
  );
}

/** True in a Git working tree whose .gitignore has no line covering .env (a cheap check, not git's full rules). */
function envNotIgnored(dir: string): boolean {
  if (!existsSync(resolve(dir, '.git'))) return false;
  const ignore = existsSync(resolve(dir, '.gitignore')) ? readFileSync(resolve(dir, '.gitignore'), 'utf8') : '';
  return !ignore.split(/\r?\n/).some((line) => /^\/?\.env(\*|\.\*)?$/.test(line.trim()));
}

/** The config file's keycloakFeatures, checked as `keycloak start` checks --features (one line, exit 64), before anything starts. */
function fileFeatures(fromFile: Record<string, unknown>): string[] | undefined {
  const value = fromFile.keycloakFeatures;
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string'))
    throw new UsageError(
      'keycloakFeatures in the config file: must be a list of Keycloak feature names, e.g. ["cimd", "resource-indicators"]. Nothing was written.',
    );
  return value.length ? parseFeatures((value as string[]).join(','), 'keycloakFeatures') : [];
}

/**
 * A Keycloak started with --features=cimd advertises CIMD in every realm, so clients that prefer it
 * (VS Code, Claude Code) would send a document URL this realm refuses ("Client not found") unless it
 * has the CIMD policy: init, whose promise is a working setup, sets CIMD up too, unless the config,
 * MCP_KEYCLOAK_CIMD or a flag already decided (`cimd.enabled: false` stays off).
 */
async function offerCimd(answers: InitAnswers, keycloakUrl: string, ui: Ui): Promise<void> {
  if (answers.cimd) return;
  let advertised = false;
  try {
    const answer = await requestKeycloak(
      `${keycloakUrl.replace(/\/+$/, '')}/realms/master/.well-known/openid-configuration`,
    );
    advertised =
      answer.ok &&
      (JSON.parse(answer.text()) as Record<string, unknown>).client_id_metadata_document_supported === true;
  } catch {
    return; // the admin login that follows names what is wrong with this Keycloak
  }
  if (!advertised) return;
  answers.cimd = cimdSection({});
  if (!ui.json)
    ui.info(
      'Keycloak offers Client ID Metadata Documents (--features=cimd): setting them up too (cimd in the config; MCP_KEYCLOAK_CIMD=false to leave them off).',
    );
}

/** Runs init: questions, admin login, realm converge, files, first doctor run, next steps; returns the exit code. */
export async function init(flags: InitFlags, ui: Ui): Promise<number> {
  const started = Date.now();
  const dir = resolve(flags.dir ?? process.cwd());
  const force = Boolean(flags.force);
  const env = process.env;
  // --config / MCP_KEYCLOAK_CONFIG name the file to create or update (relative to the current folder, as for every command).
  const explicitConfig = flags.config ?? env[ENV.config];
  const configPath = explicitConfig ? resolve(explicitConfig) : join(dir, DEFAULT_CONFIG_FILE);
  const context = {
    flags,
    ui,
    env,
    fromFile: readExistingConfig(configPath, force, ui),
    storedTestUserPassword: await existingTestUserPassword(dir),
  };
  const p = prompter(ui, Boolean(flags.yes));
  if (p.asking)
    ui.info(
      ui.color.bold(
        'Set up Keycloak for an MCP server. Enter keeps the default in (brackets); Ctrl-C stops without writing anything.',
      ),
    );

  const keycloakUrl = await askKeycloakUrl(context, p);
  const local = await ensureKeycloak(keycloakUrl, {
    ui,
    asking: p.asking,
    yes: Boolean(flags.yes),
    ...(flags.startKeycloak !== undefined ? { startKeycloak: flags.startKeycloak } : {}),
    ...(fileFeatures(context.fromFile) ? { features: fileFeatures(context.fromFile)! } : {}),
  });
  const admin = await askAdmin(context, p, local.adminPassword);
  const answers = await askRest(context, p, keycloakUrl, admin.username);
  await offerCimd(answers, keycloakUrl, ui);
  await checkResourceFree(answers);

  const files = await planFiles({ dir, configPath }, answers, force);
  const config = configSchema.parse(JSON.parse(files[0]!.content));
  config.keycloakUrl = config.keycloakUrl.replace(/\/+$/, '');
  const secrets = {
    adminPassword: admin.password,
    ...(answers.testUser ? { testUserPassword: answers.testUser.password } : {}),
  };
  const session = await connectWithRetry(config, secrets, ui, {
    ...admin,
    ...(flags.adminUser !== undefined ? { from: '--admin-user' } : {}),
  });
  const toWrite = await resolveConflicts(files, ui, p.asking, force);

  const applied = await converge(
    { config, secrets, session, desired: desiredRealm(config, answers.testUser?.password) },
    ui,
    {
      yes: Boolean(flags.yes) || !p.asking,
    },
  );
  if (!ui.json) {
    ui.info(
      applied.applied.length
        ? `Realm ${config.realm}: ${applied.applied.length} change(s) applied.`
        : `Realm ${config.realm}: already up to date.`,
    );
  }

  await writeFiles(toWrite);
  const written = new Set(toWrite.map((file) => file.name));
  if (!ui.json) {
    for (const file of files) {
      const verdict = written.has(file.name)
        ? file.status === 'create'
          ? 'created'
          : 'updated'
        : file.status === 'unchanged'
          ? 'unchanged'
          : 'kept yours';
      ui.info(`  ${file.name}: ${verdict}${file.name === ENV_FILE && written.has(file.name) ? ' (mode 0600)' : ''}`);
    }
    if (answers.testUser?.generated && written.has('.env'))
      ui.info(`  Test user "${answers.testUser.username}": password generated, stored in .env (not printed).`);
    if (answers.testUser && envNotIgnored(dir))
      ui.warn(
        ui.color.yellow(
          '  note: .env holds a password and this Git folder does not ignore it: add ".env" to .gitignore.',
        ),
      );
  }

  let verification: FirstDoctorRun | undefined;
  if (flags.doctor !== false)
    verification = await runFirstDoctor({ config, secrets, session, configFile: configPath, ui });

  const issuer = realmIssuer(config.keycloakUrl, config.realm);
  // The commands are meant to be run in the project folder, where .env and (by default) the config file are.
  const configFlag =
    configPath === join(dir, DEFAULT_CONFIG_FILE) ? '' : ` --config ${shellWord(relative(dir, configPath))}`;
  const nextSteps = fill(await loadTemplate('next-steps.txt'), {
    where: dir === process.cwd() ? '' : ` (in ${dir})`,
    resource: answers.resource,
    serverName: serverName(answers),
    issuer,
    serveCommand: command(`serve${configFlag}`),
    // Doctor's realm checks need the admin password; for a Keycloak we started, doctor reads it from its file.
    doctorCommand: `${command(`doctor${configFlag}`)}        ${
      local.passwordFile || local.adminPassword
        ? "(it finds the local Keycloak's admin password by itself)"
        : '(with KEYCLOAK_ADMIN_PASSWORD set, it also checks the realm)'
    }`,
    signInLine: signInLine(config, issuer),
    userLine: answers.testUser
      ? `\n     Sign in as "${answers.testUser.username}" (password: ${'MCP_KEYCLOAK_TEST_USER_PASSWORD'} in .env).`
      : '',
  });
  const ok = !verification || verification.ok;
  if (ui.json) {
    ui.data({
      formatVersion: 1,
      ok,
      keycloakUrl: config.keycloakUrl,
      realm: config.realm,
      resource: answers.resource,
      issuer,
      localKeycloak: local.started
        ? { started: true, startupMs: local.startupMs, adminPasswordFile: local.passwordFile }
        : { started: false },
      files: files.map((file) => ({ path: file.name, status: file.status, written: written.has(file.name) })),
      applied: applied.applied,
      doctor: verification ? verification.report : null,
      durationMs: Date.now() - started,
    });
  } else {
    ui.info('');
    if (ok)
      ui.info(
        ui.color.green(
          `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: realm ${config.realm} at ${config.keycloakUrl} is ready for ${answers.resource}.`,
        ),
      );
    ui.info('');
    for (const line of nextSteps.trimEnd().split('\n')) ui.info(line);
  }
  if (!ok)
    throw new CliError(
      `The setup was written, but doctor found problems (see above); fix them and run \`${command(`doctor${configFlag}`)}\` again.`,
      ExitCode.failure,
    );
  return ExitCode.ok;
}

function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A password typed at the prompt and refused by Keycloak costs one more prompt (three tries), not the whole wizard. */
async function connectWithRetry(
  config: Config,
  secrets: { adminPassword: string; testUserPassword?: string },
  ui: Ui,
  admin: { username: string; typed: boolean; from?: string },
): Promise<AdminSession> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ui.step(`Connecting to ${config.keycloakUrl}`, () =>
        connectAdmin(config, secrets, admin.from ? { adminUserFrom: admin.from } : {}),
      );
    } catch (error) {
      if (!(error instanceof CredentialsRejectedError) || !admin.typed || attempt >= 3) throw error;
      ui.warn(
        `Keycloak rejected that password for admin "${admin.username}"; try again (Ctrl-C stops, nothing was written).`,
      );
      secrets.adminPassword = await askHidden(`Password of Keycloak admin "${admin.username}"`);
    }
  }
}

/** How a client of this setup makes itself known to Keycloak: CIMD (its document URL as client_id), registration (DCR), or both. */
function signInLine(config: Config, issuer: string): string {
  const opens = `opens ${issuer} in a browser to sign in.`;
  if (!config.cimd?.enabled) return `The client registers itself with Keycloak and ${opens}`;
  if (config.dcr.mode === 'off')
    return `The client sends the URL of its client metadata document as client_id (CIMD) and ${opens}`;
  return `VS Code and Claude Code send the URL of their client metadata document as client_id (CIMD), others register themselves;\n     each ${opens}`;
}
