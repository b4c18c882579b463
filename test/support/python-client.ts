/**
 * Runs the Python SDK's OAuth client (python/mcp_oauth_client.py) against an MCP server and plays the user for it:
 * each authorization URL the SDK hands its redirect_handler is signed in headlessly on Keycloak's pages (the same
 * src/oauth/sign-in.ts the TypeScript flow uses; Node's jar keeps Keycloak's Secure cookies over http, which
 * Python's drops) and the redirect's query goes back to the SDK's callback_handler. Returns every event the
 * script printed, in order.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { signIn } from '../../src/oauth/sign-in.js';

const SCRIPT = fileURLToPath(new URL('./python/mcp_oauth_client.py', import.meta.url));
/** Never listened on: the code is read from Keycloak's redirect, as in the TypeScript flow. */
export const PYTHON_REDIRECT_URI = 'http://127.0.0.1:33419/callback';

export type PythonEvent =
  | { event: 'register'; scope?: string; client_name?: string }
  | { event: 'authorize'; url: string }
  | { event: 'tools'; names: string[] }
  | { event: 'call'; tool: string; text?: string; isError?: boolean; error?: string }
  | { event: 'signed-in'; consentShown: boolean }
  | { event: 'sign-in-failed'; message: string }
  | { event: 'done' }
  | { event: 'error'; message: string; trace?: string };

export interface PythonRun {
  python: string;
  serverUrl: string;
  username: string;
  password: string;
  /** Tool calls in order, on one session: [name, arguments]. */
  calls: [string, Record<string, unknown>][];
  timeoutMs?: number;
}

/** Runs the script to its end; `events` includes the Node side's sign-in outcomes (`signed-in`, `sign-in-failed`). */
export async function runPythonClient(options: PythonRun): Promise<{ events: PythonEvent[]; code: number | null }> {
  const args = [
    SCRIPT,
    options.serverUrl,
    PYTHON_REDIRECT_URI,
    ...options.calls.map(([n, a]) => `${n}=${JSON.stringify(a)}`),
  ];
  const child = spawn(options.python, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: PythonEvent[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  for await (const line of lines) {
    let event: PythonEvent;
    try {
      event = JSON.parse(line) as PythonEvent;
    } catch {
      continue; // not ours (a library's print)
    }
    events.push(event);
    if (event.event !== 'authorize') continue;
    try {
      const result = await signIn({
        authorizationUrl: event.url,
        redirectUri: PYTHON_REDIRECT_URI,
        username: options.username,
        password: options.password,
      });
      events.push({ event: 'signed-in', consentShown: result.consentShown });
      child.stdin.write(`${JSON.stringify({ callback: result.callback.toString() })}\n`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      events.push({ event: 'sign-in-failed', message });
      child.stdin.write(`${JSON.stringify({ error: message })}\n`);
    }
  }
  const code = await exited;
  clearTimeout(timer);
  if (code !== 0 && !events.some((e) => e.event === 'error'))
    events.push({ event: 'error', message: `exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' ')}` });
  return { events, code };
}
