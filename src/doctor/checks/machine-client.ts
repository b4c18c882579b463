/**
 * `doctor --machine-client NAME`: the chain a machine client (OAuth client credentials, no user) walks. It reads
 * the credentials file apply wrote, lets the official SDK v2 client get a token with them
 * (`PrivateKeyJwtProvider` / `ClientCredentialsProvider`) and calls the MCP server: tools/list, then
 * `add_numbers` when the server has it (the reference server does). The providers are told the realm's issuer as
 * the configured Keycloak announces it (`expectedIssuer`, SEP-2352), so the SDK refuses to send the key or the
 * secret to any other authorization server, whatever the MCP server's metadata names.
 */
import {
  Client,
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
  StreamableHTTPClientTransport,
  type OAuthClientProvider,
} from '@modelcontextprotocol/client';
import { fail, pass, type Finding } from '../../findings.js';
import {
  machineCredentialsPath,
  readMachineCredentials,
  type MachineCredentials,
} from '../../realm/machine-clients.js';
import { command } from '../../ui/invocation.js';
import { boundedFetch } from '../http.js';
import { explainRefusal } from './token.js';
import type { Check, DoctorInput } from '../types.js';

/** The SDK's provider for the file's method; undefined when the file lacks what that method needs. */
function providerFor(file: MachineCredentials, issuer: string): OAuthClientProvider | undefined {
  if (file.auth === 'private_key_jwt' && file.privateKey?.alg) {
    return new PrivateKeyJwtProvider({
      clientId: file.clientId,
      privateKey: file.privateKey,
      algorithm: String(file.privateKey.alg),
      expectedIssuer: issuer,
    });
  }
  if (file.auth === 'client_secret_basic' && file.clientSecret)
    return new ClientCredentialsProvider({
      clientId: file.clientId,
      clientSecret: file.clientSecret,
      expectedIssuer: issuer,
    });
  return undefined;
}

/** Error text without anything token- or secret-shaped (the SDK's messages may quote an answer). */
function safeMessage(error: unknown, file: MachineCredentials): string {
  let message = error instanceof Error ? error.message : String(error);
  for (const secret of [file.clientSecret, file.privateKey?.d].filter((s): s is string => typeof s === 'string'))
    message = message.split(secret).join('<secret>');
  return message.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '<token>').slice(0, 300);
}

/** tools/list, then add_numbers when listed: the text of what the server answered. */
async function callServer(input: DoctorInput, authProvider: OAuthClientProvider): Promise<string> {
  const transport = new StreamableHTTPClientTransport(new URL(input.resource.url), {
    authProvider,
    fetch: boundedFetch,
  });
  const client = new Client({ name: 'mcp-keycloak-doctor', version: '1' });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    if (!tools.some((tool) => tool.name === 'add_numbers')) return `tools/list: ${tools.length} tool(s)`;
    const result = await client.callTool({ name: 'add_numbers', arguments: { a: 2, b: 3 } });
    const text = (result.content as { type: string; text?: string }[]).find((c) => c.type === 'text')?.text ?? '';
    return `tools/call add_numbers(2, 3): ${result.isError ? 'error ' : ''}${text.slice(0, 80)}`;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** The check for one machine client. */
export function machineClientCheck(clientId: string): Check {
  return {
    id: 'machine',
    title: `Calling the MCP server as machine client ${clientId}`,
    async run(input): Promise<Finding[]> {
      const title = `Machine client ${clientId} gets a token and calls a tool`;
      const path = machineCredentialsPath(input.config.realm, clientId);
      const apply = command(`apply --machine-client ${clientId}`);
      const file = await readMachineCredentials(path);
      const provider = file && file.clientId === clientId ? providerFor(file, input.expectedIssuer) : undefined;
      if (!file || !provider) {
        return [
          fail('machine.credentials', title, {
            expected: `the credentials file ${path}`,
            actual: file ? 'a file without the key or secret its method needs' : 'no such file',
            why: 'apply writes it when it creates the machine client; without it there is nothing to authenticate with.',
            fix: `${apply} (add ":client_secret_basic" for a secret), or add the client to machineClients and run apply`,
          }),
        ];
      }
      try {
        const answer = await callServer(input, provider);
        return [pass('machine.call', title, { actual: `${file.auth}: ${answer}` })];
      } catch (error) {
        // With a token in hand, the server's own refusal says more than the SDK's error (it goes where the token is meant for).
        const token = (await provider.tokens())?.access_token;
        const refusal = token ? await explainRefusal(input.resource.url, token, input.request).catch(() => '') : '';
        const message = refusal ? `the server answered ${refusal}` : safeMessage(error, file);
        return [
          fail('machine.call', title, {
            expected: 'a token from the realm, then a tools/call result',
            actual: message,
            why: /not a configured machine client/.test(message)
              ? 'The server refuses service-account tokens from clients it was not told about.'
              : 'Getting the token or calling the server failed with the machine client\u2019s credentials.',
            fix: `serve with --machine-client ${clientId} (or machineClients in the config); if Keycloak refused the client: ${apply}`,
          }),
        ];
      }
    },
  };
}
