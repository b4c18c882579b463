/**
 * What a running `serve` does when its config file changes (docs/commands/serve.md#config-changes):
 * new scopes or step-up rules apply from the next request on, in place; a change of what the server
 * is (Keycloak, realm, resource, address, auth) restarts it in-process; a file it cannot use leaves
 * the running settings as they are, said in one line. A restart that fails ends serve with the error:
 * it never goes on serving settings the file no longer has.
 */
import { basename } from 'node:path';
import type { Ui } from '../ui/output.js';
import { startReferenceServer, type ReferenceServerOptions, type RunningServer } from './index.js';

export interface Followed {
  options: ReferenceServerOptions;
  server: RunningServer;
}

export interface FollowContext {
  file: string;
  /** Reads flags, env and the file again, as at start-up. */
  load(): Promise<ReferenceServerOptions>;
  /** Prints what a (re)started server serves, as at start-up. */
  announce(running: Followed): void;
  ui: Ui;
}

/** The settings that make another server: changing one means a restart, not an update. */
function restartFields(before: ReferenceServerOptions, after: ReferenceServerOptions): string[] {
  const fields = ['keycloakUrl', 'realm', 'resource', 'host', 'port', 'auth', 'introspection'] as const;
  return fields.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
}

const scopeSettings = (options: ReferenceServerOptions) => ({
  scopes: options.scopes,
  toolScopes: options.toolScopes ?? {},
});

function say(ui: Ui, event: Record<string, unknown>, line: string, warning = false): void {
  if (ui.json) process.stdout.write(`${JSON.stringify(event)}\n`);
  else if (warning) ui.warn(ui.color.yellow(line));
  else ui.info(line);
}

/** Reads the changed config file and updates, restarts or keeps the running server (see the file comment). */
export async function followConfig(context: FollowContext, running: Followed): Promise<void> {
  const { file, ui } = context;
  const name = basename(file);
  let next: ReferenceServerOptions;
  try {
    next = await context.load();
  } catch (error) {
    const reason = (error as Error).message;
    say(
      ui,
      { event: 'reload-refused', file, reason },
      `${name} changed, but serve cannot use it: ${reason} Still serving the previous settings; serve reads the file again when it changes.`,
      true,
    );
    return;
  }
  const changed = restartFields(running.options, next);
  if (changed.length === 0) {
    const settings = scopeSettings(next);
    if (JSON.stringify(settings) === JSON.stringify(scopeSettings(running.options))) return;
    const lacks = await running.server.update(settings);
    running.options = next;
    const rules = Object.entries(settings.toolScopes).map(([tool, scopes]) => `${tool} also needs ${scopes.join(' ')}`);
    say(
      ui,
      { event: 'reloaded', file, ...settings },
      `Reloaded ${name}: scope ${settings.scopes.join(' or ')}; step-up ${rules.join('; ') || 'none'}.`,
    );
    if (lacks) say(ui, { event: 'warning', message: lacks }, `warning: ${lacks}`, true);
    return;
  }
  say(ui, { event: 'restarting', file, changed }, `${name} changed ${changed.join(', ')}: restarting the MCP server.`);
  await running.server.close();
  running.server = await startReferenceServer(next).catch((error: unknown) => {
    say(
      ui,
      { event: 'stopping', file },
      `serve stops: it cannot start with the changed ${name} (below), and does not go on with the old settings.`,
      true,
    );
    throw error;
  });
  running.options = next;
  context.announce(running);
}
