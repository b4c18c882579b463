/**
 * The one configuration schema. Flags, env and the config file are merged into a raw object and
 * parsed here, so every command (plan, apply, serve, doctor, init) sees the same validated values and
 * issuer, audience and scope cannot drift between them. `schema/mcp-keycloak.schema.json` is generated
 * from this file (`npm run schema`) and a unit test keeps the two equal.
 */
import { z } from 'zod';
import {
  cimdDomainProblem,
  keycloakUrlProblem,
  MAX_HOST_LENGTH,
  MAX_SCOPE_LENGTH,
  MAX_URL_LENGTH,
  resourceUrlProblem,
  SCOPE_TOKEN,
  reservedKeyProblem,
  trustedHostProblem,
  webOriginProblem,
} from './rules.js';
import { CLIENT_CATALOGUE } from '../clients/catalogue.js';

export const DEFAULTS = {
  keycloakUrl: 'http://localhost:8080',
  realm: 'mcp-demo',
  resource: 'http://localhost:8000/mcp',
  scope: 'mcp:run',
  adminUsername: 'admin',
} as const;

/** Conservative realm names: they end up in URLs and issuers, where anything else needs escaping. */
const REALM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/**
 * A zod string checked by one of the rules in rules.ts, with the rule's own words as the message;
 * `hints` go into the generated JSON Schema so that editors flag the obvious cases as you type.
 */
function ruled(problem: (value: string) => string | undefined, hints: { maxLength: number; pattern?: string }) {
  return z
    .string()
    .superRefine((value, ctx) => {
      const message = problem(value);
      if (message) ctx.addIssue({ code: 'custom', message });
    })
    .meta(hints);
}

const URL_HINTS = { maxLength: MAX_URL_LENGTH, pattern: '^https?://[^/?#\\\\\\s]+[^?#\\s]*$' };

export const scopeName = z
  .string()
  .max(MAX_SCOPE_LENGTH, {
    message: `must be at most ${MAX_SCOPE_LENGTH} characters (Keycloak's limit for a client scope name)`,
  })
  .regex(SCOPE_TOKEN, { message: 'must be a non-empty OAuth scope token: no spaces, quotes or backslashes' })
  .describe('An OAuth scope, created in Keycloak as a client scope of the same name.');

export const realmName = z
  .string()
  .regex(REALM_NAME, { message: 'must start with a letter or digit and use only letters, digits, ".", "_" and "-"' })
  .refine((name) => name !== 'master', {
    message:
      'must not be "master": opening anonymous client registration on the admin realm is unsafe; use a realm of its own',
  })
  .describe('The realm that protects the MCP server(s); created if missing.');

const resourceSchema = z
  .object({
    url: ruled(resourceUrlProblem, URL_HINTS).describe(
      'The MCP server URL exactly as clients use it (scheme, host, port, path, trailing slash all count). It is the token audience.',
    ),
    scopes: z
      .array(scopeName)
      .min(1)
      .default([DEFAULTS.scope])
      .describe('Scopes that grant access to this server. Each gets an Audience mapper for the URL.'),
    toolScopes: z
      .record(
        z
          .string()
          .min(1, { message: 'must be a tool name, not empty' })
          .max(128, { message: 'must be a tool name of at most 128 characters' })
          // `__proto__` never reaches a record's key schema (zod skips it): loadConfig refuses it before parsing.
          .superRefine((name, ctx) => {
            const message = reservedKeyProblem(name);
            if (message) ctx.addIssue({ code: 'custom', message });
          }),
        // An empty list would be an entry that asks for nothing: most likely a scope left out by mistake.
        z
          .array(scopeName)
          .min(1, { message: 'must name at least one scope (a tool that needs no extra scope needs no entry)' }),
      )
      .optional()
      .describe(
        'Step-up authorization (default none): tool name → scopes that tool needs beside `scopes`, e.g. {"divide_numbers": ["mcp:admin"]}. A tools/call without them gets 403 insufficient_scope naming them. `serve` checks the tool names.',
      ),
  })
  .strict();

export const dcrModes = ['anonymous', 'trusted-hosts', 'off'] as const;

const dcrSchema = z
  .object({
    mode: z
      .enum(dcrModes)
      .default('anonymous')
      .describe(
        'anonymous: remove the anonymous Trusted Hosts policy (the recipe); trusted-hosts: keep it with exactly `trustedHosts`; off: leave registration policies alone.',
      ),
    trustedHosts: z
      .array(ruled(trustedHostProblem, { maxLength: MAX_HOST_LENGTH, pattern: '^[A-Za-z0-9.:-]+$' }))
      .default([])
      .describe('With mode trusted-hosts: the exact list of hosts/IPs the Trusted Hosts policy trusts.'),
    webOrigins: z
      .array(ruled(webOriginProblem, { maxLength: MAX_URL_LENGTH, pattern: '^https?://[^/?#\\\\\\s]+$' }))
      .optional()
      .describe(
        'When set: exactly the origins allowed to register from a browser (Allowed Registration Web Origins), e.g. MCP Inspector 0.x http://localhost:6274 (Inspector 2.x registers from its backend and needs none).',
      ),
  })
  .strict();

/** The clients whose CIMD client_id and document hosts apply knows (their domains: src/realm/cimd.ts). */
export const CIMD_CLIENT_KEYS = ['vscode', 'claude-code', 'claude-ai', 'inspector'] as const;
export type CimdClientKey = (typeof CIMD_CLIENT_KEYS)[number];
/** Known clients with no client_id domain of their own: Inspector sends the URL of a document you host (add its host to domains). */
export const CIMD_CLIENTS_WITHOUT_CLIENT_ID_DOMAIN: readonly CimdClientKey[] = ['inspector'];

const cimdSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Set up Client ID Metadata Documents (needs Keycloak 26.6+ started with --features=cimd).'),
    clients: z
      .array(z.enum(CIMD_CLIENT_KEYS))
      .default([...CIMD_CLIENT_KEYS])
      .describe(
        'The known clients whose document domains are permitted: vscode, claude-code, claude-ai, inspector (default: all).',
      ),
    domains: z
      // Lower case, as hosts are case-insensitive but Keycloak compares them as strings: CLIENTS.example.com
      // and clients.example.com are one domain, and a second apply with the other spelling changes nothing.
      .array(
        ruled(cimdDomainProblem, { maxLength: MAX_HOST_LENGTH, pattern: '^(\\*\\.)?[A-Za-z0-9.:-]+$' }).toLowerCase(),
      )
      .default([])
      .describe(
        'Further permitted domains: hosts of client_id URLs you trust (e.g. where your own client hosts its document); *.example.com for subdomains.',
      ),
    allowHttp: z
      .boolean()
      .default(false)
      .describe(
        'Also accept http:// client_id URLs and documents: only for local test realms (loopback documents), never in production.',
      ),
  })
  .strict();

/** The ids `clients` takes: the catalogue's (src/clients/catalogue.ts), or `all`. */
export const CLIENT_IDS = CLIENT_CATALOGUE.map((client) => client.id);

const clientsSchema = z
  .array(
    z.string().refine((id) => id === 'all' || CLIENT_IDS.includes(id), {
      message: `must be a client of the catalogue (${CLIENT_IDS.join(', ')}) or all`,
    }),
  )
  .describe(
    'The MCP clients people connect to these servers (catalogue ids, docs/clients.md, or "all"): doctor judges each (works / works after a fix / cannot on this Keycloak), apply provisions what they need and refuses combinations that cannot work. Absent: doctor judges every catalogued client.',
  );

export const machineClientAuths = ['private_key_jwt', 'client_secret_basic'] as const;

const machineClientSchema = z
  .object({
    clientId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
        message: 'must start with a letter or digit and use only letters, digits, ".", "_" and "-" (at most 100)',
      })
      .describe('The client id in Keycloak (`azp` in its tokens) and the name of its credentials file.'),
    auth: z
      .enum(machineClientAuths)
      .default('private_key_jwt')
      .describe(
        'private_key_jwt (default): apply makes a key pair, registers the public key, keeps the private key in a 0600 file; client_secret_basic: the secret goes to a 0600 file.',
      ),
    resource: ruled(resourceUrlProblem, URL_HINTS)
      .optional()
      .describe('The MCP server it calls, one of `resources` (default: the first).'),
  })
  .strict();

export const configSchema = z
  .object({
    $schema: z.string().optional().describe('JSON Schema for editors; ignored by the tool.'),
    keycloakUrl: ruled(keycloakUrlProblem, URL_HINTS)
      .default(DEFAULTS.keycloakUrl)
      .describe('Keycloak base URL, e.g. http://localhost:8080 (legacy bases ending in /auth are accepted).'),
    realm: realmName.default(DEFAULTS.realm),
    resources: z
      .array(resourceSchema)
      .min(1)
      .default([{ url: DEFAULTS.resource, scopes: [DEFAULTS.scope] }])
      .describe('The MCP servers this realm protects, each with its own scope(s) and audience.'),
    dcr: dcrSchema.default({ mode: 'anonymous', trustedHosts: [] }),
    keycloakFeatures: z
      .array(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}(?::v[0-9]{1,3})?$/, {
          message: 'must be a Keycloak feature name (letters, digits, - and _, optionally :v1)',
        }),
      )
      // As for --features: ["none", "cimd"] is either no features or cimd, a guess either way.
      .refine((names) => names.length < 2 || !names.some((name) => name.toLowerCase() === 'none'), {
        message: 'none means no features and stands alone: give [] for none, or the features without it',
      })
      .optional()
      .describe(
        'Features the local dev Keycloak is started with (`keycloak start` and `init` when they start one; --features and MCP_KEYCLOAK_FEATURES win), e.g. ["cimd", "resource-indicators"]. Your own Keycloak: start it with --features yourself.',
      ),
    requireDpop: z
      .boolean()
      .default(false)
      .describe(
        'Require DPoP-bound tokens (RFC 9449) of every client created anonymously (DCR and CIMD): Keycloak binds their tokens to a key they hold (dpop-bind-enforcer; Keycloak 26.4+). serve then accepts DPoP tokens (--dpop).',
      ),
    cimd: cimdSchema
      .optional()
      .describe(
        'Client ID Metadata Documents (CIMD), the MCP 2026-07-28 alternative to Dynamic Client Registration. Absent: not set up.',
      ),
    admin: z
      .object({
        username: z
          .string()
          .min(1)
          .max(255)
          .default(DEFAULTS.adminUsername)
          .describe('Admin user (password: env KEYCLOAK_ADMIN_PASSWORD).'),
        clientId: z
          .string()
          .min(1)
          .max(255)
          .optional()
          .describe('Service-account client instead of a user (secret: env KEYCLOAK_ADMIN_CLIENT_SECRET).'),
        realm: z.string().min(1).max(255).default('master').describe('Realm the admin credentials belong to.'),
      })
      .strict()
      .default({ username: DEFAULTS.adminUsername, realm: 'master' }),
    testUser: z
      .object({
        username: z
          .string()
          .max(255, { message: "must be at most 255 characters (Keycloak's limit for a username)" })
          .regex(/^[A-Za-z0-9._@-]+$/, { message: 'must use only letters, digits, ".", "_", "@" and "-"' })
          .describe('Password: env MCP_KEYCLOAK_TEST_USER_PASSWORD.'),
      })
      .strict()
      .optional()
      .describe('An optional user to sign in with (password and browser logins both work).'),
    clients: clientsSchema.optional(),
    machineClients: z
      .array(machineClientSchema)
      .optional()
      .describe(
        'Machine clients (OAuth client credentials, no user): a confidential client with a service account each, whose tokens `serve` accepts. Credentials: <state dir>/machine-clients/<realm>/<clientId>.json (0600).',
      ),
    server: z
      .object({
        host: z.string().min(1).max(253).default('127.0.0.1').describe('Interface `serve` listens on.'),
        port: z
          .number()
          .int()
          .min(1)
          .max(65535)
          .optional()
          .describe('Port `serve` listens on (default: the resource URL port).'),
      })
      .strict()
      .default({ host: '127.0.0.1' }),
  })
  .strict()
  .superRefine((config, ctx) => {
    const owner = new Map<string, string>();
    config.resources.forEach((resource, i) => {
      resource.scopes.forEach((scope, j) => {
        const first = owner.get(scope);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['resources', i, 'scopes', j],
            message: `scope "${scope}" is already used by ${first}: each MCP server needs scopes of its own, since a scope carries one audience`,
          });
        } else owner.set(scope, resource.url);
      });
    });
    // A step-up scope carries its resource's audience too: it may be shared by tools of one server, never with another server.
    config.resources.forEach((resource, i) => {
      for (const [tool, scopes] of Object.entries(resource.toolScopes ?? {})) {
        scopes.forEach((scope, j) => {
          const first = owner.get(scope);
          if (resource.scopes.includes(scope)) {
            // The resource's scopes are default client scopes, in every token: the "step-up" would never step up.
            ctx.addIssue({
              code: 'custom',
              path: ['resources', i, 'toolScopes', tool, j],
              message: `${scope} is the resource's own scope, which every token has; a tool scope names an extra scope`,
            });
          } else if (first !== undefined && first !== resource.url) {
            ctx.addIssue({
              code: 'custom',
              path: ['resources', i, 'toolScopes', tool, j],
              message: `scope "${scope}" is already used by ${first}: each MCP server needs scopes of its own, since a scope carries one audience`,
            });
          } else owner.set(scope, resource.url);
        });
      }
    });
    const urls = config.resources.map((resource) => resource.url);
    const machineIds = new Set<string>();
    (config.machineClients ?? []).forEach((machine, i) => {
      if (machine.resource !== undefined && !urls.includes(machine.resource))
        ctx.addIssue({
          code: 'custom',
          path: ['machineClients', i, 'resource'],
          message: `names ${machine.resource}, which is not among resources (${urls.join(', ')}): use one of them`,
        });
      if (machineIds.has(machine.clientId.toLowerCase()) || urls.includes(machine.clientId))
        ctx.addIssue({
          code: 'custom',
          path: ['machineClients', i, 'clientId'],
          message: `"${machine.clientId}" is named twice (or is a resource URL): each machine client needs a clientId of its own`,
        });
      machineIds.add(machine.clientId.toLowerCase());
    });
    const withDomains = config.cimd?.clients.filter((c) => !CIMD_CLIENTS_WITHOUT_CLIENT_ID_DOMAIN.includes(c)) ?? [];
    if (config.cimd?.enabled && withDomains.length === 0 && config.cimd.domains.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['cimd'],
        message:
          config.cimd.clients.length === 0
            ? `clients is empty and domains names none, so the CIMD policy would permit no client_id at all: name clients (${CIMD_CLIENT_KEYS.join(', ')}), add domains, or set "enabled": false`
            : `clients names only ${config.cimd.clients.join(', ')}, which has no client_id domain of its own (Inspector sends the URL of a document you host), and domains names none, so the CIMD policy would permit no client_id at all: add the host of that document to domains (--cimd-domain), or name other clients`,
      });
    }
    // ChatGPT uses CIMD wherever Keycloak offers it, and Keycloak's CIMD executor refuses its document, which
    // declares private_key_jwt: measured on 26.7.3 (HTTP 400 at the authorization request), and Keycloak's MCP guide
    // for 26.8 still says so (keycloak#51039). Naming it with CIMD on is a setup that cannot work.
    const chatgpt = config.clients?.indexOf('chatgpt') ?? -1;
    if (config.cimd?.enabled && chatgpt >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['clients', chatgpt],
        message:
          "chatgpt cannot sign in with CIMD on: its metadata document declares private_key_jwt, which Keycloak's CIMD executor refuses (keycloak#51039; measured on 26.7.3, still so in the 26.8 guide). Drop chatgpt, or CIMD and Keycloak's cimd feature (ChatGPT then registers with DCR)",
      });
    }
    // Settings the chosen mode would silently ignore are refused: a user who lists trusted hosts or
    // web origins expects registration to be restricted, and ignoring them leaves it wider open.
    if (config.dcr.mode !== 'trusted-hosts' && config.dcr.trustedHosts.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['dcr', 'trustedHosts'],
        message: `trusted hosts only apply with dcr mode "trusted-hosts" (mode is "${config.dcr.mode}"): drop --trusted-host, or pass --dcr trusted-hosts`,
      });
    }
    if (config.dcr.mode === 'off' && (config.dcr.webOrigins?.length ?? 0) > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['dcr', 'webOrigins'],
        message:
          'dcr mode "off" leaves registration policies alone, so web origins would be ignored: drop --web-origin, or pass --dcr anonymous or trusted-hosts',
      });
    }
    if (config.dcr.mode === 'trusted-hosts' && config.dcr.trustedHosts.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['dcr', 'trustedHosts'],
        message: 'dcr mode "trusted-hosts" needs at least one host (--trusted-host HOST, repeatable)',
      });
    }
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ResourceConfig = Config['resources'][number];
export type DcrMode = (typeof dcrModes)[number];
export type CimdConfig = NonNullable<Config['cimd']>;
export type MachineClientAuth = (typeof machineClientAuths)[number];

/** The JSON Schema shipped for editors (`$schema` in mcp-keycloak.json). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}
