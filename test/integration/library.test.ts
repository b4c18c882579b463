/**
 * The library entry `mcp-keycloak/server` as users meet it: package.json "exports" resolves it (Node's
 * self-reference, from the repository root as from an installed package), and the two examples of docs/library.md
 * run exactly as written there in front of the official SDK v2 server. A user signed in through the real Keycloak
 * calls their tool with the official SDK v2 client; a request without a token gets the 401 challenge clients follow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/process.js';
import { deleteRealm, keycloak, uniqueRealm } from '../support/keycloak.js';
import { postToolsCall } from '../support/mcp-http.js';
import { applyRealm, createPasswordClient, passwordToken } from '../support/tokens.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const page = readFileSync(new URL('../../docs/library.md', import.meta.url), 'utf8');
const realm = uniqueRealm('library');
const children: ChildProcess[] = [];

/** The code block of docs/library.md whose info string is `js <name>`. */
function example(name: string): string {
  const match = new RegExp('```js ' + name + '\\n([\\s\\S]*?)```').exec(page);
  if (!match) throw new Error(`docs/library.md has no \`\`\`js ${name} block`);
  return match[1]!;
}

/** Runs a documented example as an ES module from the repository root (so `mcp-keycloak/server` self-resolves). */
async function runExample(name: string, resource: string): Promise<void> {
  const child = spawn(process.execPath, ['--input-type=module'], {
    cwd: ROOT,
    env: { ...process.env, MCP_URL: resource, ISSUER: `${keycloak().url}/realms/${realm}` },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(example(name));
  const metadata = `${new URL(resource).origin}/.well-known/oauth-protected-resource/mcp`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`example ${name} exited: ${stderr}`);
    if (
      await fetch(metadata).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`example ${name} did not answer: ${stderr}`);
}

let token: string;
let resource: string;

beforeAll(async () => {
  resource = `http://127.0.0.1:${await freePort()}/mcp`;
  await applyRealm(realm, resource);
  token = await passwordToken(realm, await createPasswordClient(realm, 'library-client'));
});

afterAll(async () => {
  await deleteRealm(realm);
});

/** Stops an example and waits until its port is free again for the next one. */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill();
  await exited;
}

describe.each(['node-http', 'express'])('docs/library.md, the %s example', (name) => {
  beforeAll(async () => {
    await runExample(name, resource);
  });
  afterAll(async () => {
    await stop(children.pop());
  });

  it('serves the metadata and answers a request without a token with the 401 challenge', async () => {
    const response = await postToolsCall(resource);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('resource_metadata=');
    const metadata = (await (
      await fetch(`${new URL(resource).origin}/.well-known/oauth-protected-resource/mcp`)
    ).json()) as { resource: string };
    expect(metadata.resource).toBe(resource);
  });

  it('lets the official SDK v2 client call the tool with a Keycloak token', async () => {
    const client = new Client({ name: 'library-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(resource), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    const result = await client.callTool({ name: 'hello', arguments: { name: 'alice' } });
    expect(JSON.stringify(result.content)).toContain('hello alice');
    await client.close();
  });
});
