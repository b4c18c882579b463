#!/usr/bin/env node
/**
 * Benchmark of `mcp-keycloak serve`: authenticated tools/call throughput and latency with local JWT
 * validation, against the same server with auth off and against introspection on every request (the
 * seeds' approach), plus introspection with its default 30 s cache, and a floor: a bare node:http
 * handler with the same cached token check and no MCP SDK (bench/floor-server.mjs). With BENCH_BASELINE
 * (the directory of another checkout, built) its `serve` runs too, auth off and JWT: before/after in one run.
 * One run measures all modes in interleaved rounds (so drift hits all of them alike) and prints the ratios.
 *
 * Needs a built package (`npm run build`) and a Keycloak: KEYCLOAK_URL and KEYCLOAK_ADMIN_PASSWORD
 * (KEYCLOAK_ADMIN_USERNAME, default admin). Everything runs on loopback; the bench creates a realm
 * of its own and deletes it at the end. Knobs: BENCH_REQUESTS (per mode and round, default 2000),
 * BENCH_CONCURRENCY (default 16), BENCH_ROUNDS (default 3), BENCH_WARMUP (calls before each measurement,
 * default 3000: V8 still compiles the SDK's code for the first few thousand calls, which at 200 calls
 * of warm-up doubled the CPU per call), BENCH_BASELINE.
 *
 *   npm run build && KEYCLOAK_URL=http://127.0.0.1:8080 KEYCLOAK_ADMIN_PASSWORD=… node bench/serve.mjs
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { freePort } from '../dist/local/process.js';
import { createJwtVerifier, remoteKeys } from '../dist/server/index.js';
import { sdkSteps } from './serve-steps.mjs';

const CLI = fileURLToPath(new URL('../bin/mcp-keycloak.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor-server.mjs', import.meta.url));
const BASELINE_CLI = process.env.BENCH_BASELINE && join(resolve(process.env.BENCH_BASELINE), 'bin/mcp-keycloak.js');
const keycloakUrl = (process.env.KEYCLOAK_URL ?? '').replace(/\/+$/, '');
const adminUser = process.env.KEYCLOAK_ADMIN_USERNAME ?? 'admin';
const adminPassword = process.env.KEYCLOAK_ADMIN_PASSWORD;
const REQUESTS = positive('BENCH_REQUESTS', 2000);
const CONCURRENCY = positive('BENCH_CONCURRENCY', 16);
const ROUNDS = positive('BENCH_ROUNDS', 3);
const WARMUP = positive('BENCH_WARMUP', 3000);

function positive(name, fallback) {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 100_000)
    throw new Error(`${name} must be an integer from 1 to 100000`);
  return value;
}

/**
 * CPU seconds a process has used (user + system, all threads), from /proc on Linux. Wall-clock
 * throughput on a shared machine swings with whatever else runs; CPU per request barely does.
 */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return undefined;
  }
}

/** The pid listening on Keycloak's port, to charge introspection its share of Keycloak's CPU. */
function keycloakPid() {
  try {
    const port = new URL(keycloakUrl).port || '80';
    return (
      Number(/pid=(\d+)/.exec(execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }))?.[1]) ||
      undefined
    );
  } catch {
    return undefined;
  }
}

if (!keycloakUrl || !adminPassword) {
  process.stderr.write(
    'error: set KEYCLOAK_URL and KEYCLOAK_ADMIN_PASSWORD (a Keycloak on loopback to benchmark against).\n',
  );
  process.exit(2);
}
if (!/^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(keycloakUrl)) {
  process.stderr.write(
    'error: the benchmark only talks to a Keycloak on loopback (KEYCLOAK_URL=http://127.0.0.1:PORT).\n',
  );
  process.exit(2);
}

const realm = `bench-serve-${randomBytes(3).toString('hex')}`;
const userPassword = randomBytes(12).toString('base64url');
const port = await freePort();
const resource = `http://127.0.0.1:${port}/mcp`;
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KEYCLOAK_URL: keycloakUrl };

/** Runs the CLI to completion (apply). */
function cli(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...baseEnv, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`mcp-keycloak ${args[0]} failed: ${stderr.trim()}`)),
    );
  });
}

async function adminToken() {
  const response = await fetch(`${keycloakUrl}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: adminUser,
      password: adminPassword,
    }),
  });
  if (!response.ok) throw new Error(`admin login failed: ${response.status}`);
  return (await response.json()).access_token;
}

async function admin(method, path, body) {
  const response = await fetch(`${keycloakUrl}/admin/realms${path}`, {
    method,
    headers: { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok && response.status !== 404) throw new Error(`${method} ${path}: ${response.status}`);
  return response.status === 204 || response.status === 201 ? undefined : response.json().catch(() => undefined);
}

async function userToken(clientId, secret) {
  const response = await fetch(`${keycloakUrl}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: clientId,
      client_secret: secret,
      username: 'alice',
      password: userPassword,
    }),
  });
  const body = await response.json();
  if (!body.access_token) throw new Error(`token request failed: ${body.error}`);
  return body.access_token;
}

/** Starts `serve` (of this checkout or the baseline's) or the floor in its own process; resolves when it listens. */
function startServer(mode, extraEnv = {}) {
  const args = mode.floor
    ? [FLOOR, `${keycloakUrl}/realms/${realm}`, resource, new URL(resource).port]
    : [mode.cli ?? CLI, 'serve', '--json', '--realm', realm, '--resource', resource, '--auth', mode.auth];
  const child = spawn(process.execPath, args, {
    env: { ...baseEnv, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    let ready = false;
    // The request log is drained and dropped; writing it is part of the measured cost, as in production.
    child.stdout.on('data', (chunk) => {
      if (!ready && chunk.includes('"event":"listening"')) {
        ready = true;
        resolve({
          pid: child.pid,
          stop: () =>
            new Promise((done) => {
              child.once('exit', done);
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`${mode.name} exited (${code}): ${stderr.trim()}`));
    });
  });
}

const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'add_numbers', arguments: { a: 2, b: 3 } },
});

/** `total` tools/call requests from `CONCURRENCY` workers; every response must be a 200 with the sum. */
async function load(token, total) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  const latencies = new Float64Array(total);
  let next = 0;
  const started = performance.now();
  async function worker() {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      const response = await fetch(resource, { method: 'POST', headers, body: BODY });
      const text = await response.text();
      latencies[i] = performance.now() - t0;
      if (response.status !== 200 || !text.includes('"result":5'))
        throw new Error(`request ${i}: ${response.status} ${text.slice(0, 200)}`);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { rps: total / seconds, p50: pct(50), p95: pct(95), p99: pct(99) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const MODES = [
  { name: 'auth off', auth: 'off' },
  { name: 'JWT, local validation', auth: 'jwt' }, // one token reused, as clients do: verification cache hits
  { name: 'introspection, every request', auth: 'introspection', cache: '0' },
  { name: 'introspection, 30 s cache', auth: 'introspection', cache: '30' },
  { name: 'floor: bare node:http, cached JWT', auth: 'jwt', floor: true },
  ...(BASELINE_CLI
    ? [
        { name: 'before: auth off', auth: 'off', cli: BASELINE_CLI },
        { name: 'before: JWT', auth: 'jwt', cli: BASELINE_CLI },
      ]
    : []),
];

async function main() {
  process.stdout.write(`Preparing realm ${realm} on ${keycloakUrl} …\n`);
  await cli(['apply', '--yes', '--realm', realm, '--resource', resource, '--test-user', 'alice'], {
    KEYCLOAK_ADMIN_USERNAME: adminUser,
    KEYCLOAK_ADMIN_PASSWORD: adminPassword,
    MCP_KEYCLOAK_TEST_USER_PASSWORD: userPassword,
  });
  const userSecret = randomBytes(12).toString('base64url');
  const resourceSecret = randomBytes(12).toString('base64url');
  await admin('POST', `/${realm}/clients`, {
    clientId: 'bench-user',
    publicClient: false,
    secret: userSecret,
    directAccessGrantsEnabled: true,
    standardFlowEnabled: false,
  });
  // Introspecting client named like the resource: Keycloak ≥ 26.6.2 requires it to be in `aud`. `apply`
  // creates it (the resource client); the bench gives it a secret of its own to introspect with.
  const [resourceClient] = await admin('GET', `/${realm}/clients?clientId=${encodeURIComponent(resource)}`);
  if (!resourceClient) throw new Error(`apply created no client ${resource}`);
  await admin('PUT', `/${realm}/clients/${resourceClient.id}`, {
    ...resourceClient,
    publicClient: false,
    bearerOnly: false,
    clientAuthenticatorType: 'client-secret',
    secret: resourceSecret,
  });

  const results = Object.fromEntries(MODES.map((mode) => [mode.name, []]));
  const kcPid = keycloakPid();
  for (let round = 1; round <= ROUNDS; round++) {
    const token = await userToken('bench-user', userSecret); // fresh each round: tokens live 5 minutes
    for (const mode of MODES) {
      const env =
        mode.auth === 'introspection'
          ? {
              MCP_KEYCLOAK_INTROSPECTION_CLIENT_SECRET: resourceSecret,
              MCP_KEYCLOAK_INTROSPECTION_CACHE_SECONDS: mode.cache,
            }
          : {};
      const server = await startServer(mode, env);
      try {
        await load(mode.auth === 'off' ? undefined : token, WARMUP);
        const serverBefore = cpuSeconds(server.pid);
        const keycloakBefore = kcPid && cpuSeconds(kcPid);
        const result = await load(mode.auth === 'off' ? undefined : token, REQUESTS);
        const serverAfter = cpuSeconds(server.pid);
        const keycloakAfter = kcPid && cpuSeconds(kcPid);
        if (serverBefore !== undefined && serverAfter !== undefined)
          result.serverCpuUs = ((serverAfter - serverBefore) * 1e6) / REQUESTS;
        if (keycloakBefore !== undefined && keycloakAfter !== undefined)
          result.keycloakCpuUs = ((keycloakAfter - keycloakBefore) * 1e6) / REQUESTS;
        results[mode.name].push(result);
      } finally {
        await server.stop();
      }
      process.stdout.write(`  round ${round}/${ROUNDS}: ${mode.name} done\n`);
    }
  }

  // The verifier alone, in this process: the CPU that validation adds to each request, free of HTTP noise.
  const token = await userToken('bench-user', userSecret);
  const issuer = `${keycloakUrl}/realms/${realm}`;
  const keys = remoteKeys(`${issuer}/protocol/openid-connect/certs`);
  async function verifyCpu(cacheSize) {
    const verifier = createJwtVerifier({ issuer, audience: resource, scopes: ['mcp:run'], keys, cacheSize });
    for (let i = 0; i < WARMUP; i++) await verifier.verify(token);
    const cpuStarted = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) await verifier.verify(token);
    const used = process.cpuUsage(cpuStarted);
    return (used.user + used.system) / REQUESTS;
  }
  const verifyMicros = await verifyCpu(0);
  const verifyCachedMicros = await verifyCpu(1000);
  const steps = await sdkSteps(BODY, REQUESTS, WARMUP);

  const summary = MODES.map((mode) => {
    const runs = results[mode.name];
    const pick = (key) => (runs.every((r) => r[key] !== undefined) ? median(runs.map((r) => r[key])) : undefined);
    return {
      mode: mode.name,
      rps: pick('rps'),
      p50: pick('p50'),
      p95: pick('p95'),
      p99: pick('p99'),
      serverCpuUs: pick('serverCpuUs'),
      keycloakCpuUs: pick('keycloakCpuUs'),
    };
  });
  const [off, jwt, everyRequest, cached] = summary;
  process.stdout.write(
    `\nnode ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}; ${REQUESTS} tools/call × ${ROUNDS} rounds per mode, concurrency ${CONCURRENCY}, medians\n\n`,
  );
  const us = (value) => (value === undefined ? 'n/a' : value.toFixed(0));
  process.stdout.write(
    `| mode | req/s | p50 ms | p95 ms | p99 ms | server CPU µs/req | Keycloak CPU µs/req |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n`,
  );
  for (const row of summary) {
    process.stdout.write(
      `| ${row.mode} | ${row.rps.toFixed(0)} | ${row.p50.toFixed(2)} | ${row.p95.toFixed(2)} | ${row.p99.toFixed(2)} | ${us(row.serverCpuUs)} | ${us(row.keycloakCpuUs)} |\n`,
    );
  }
  process.stdout.write(
    `\nverify() alone, in process: ${verifyMicros.toFixed(0)} µs CPU for a new token (signature + claims, JWKS cached), ${verifyCachedMicros.toFixed(1)} µs for a token seen before.\n`,
  );
  process.stdout.write(
    `The SDK's handler alone, in process (no HTTP): ${steps.parsed.toFixed(0)} µs CPU per tools/call with the body parsed beforehand (as serve does now), ${steps.withBody.toFixed(0)} µs with the body in the web Request (as toNodeHandler passes it).\n`,
  );
  if (off.serverCpuUs !== undefined) {
    process.stdout.write(
      `A new token's verification is ${((verifyMicros / off.serverCpuUs) * 100).toFixed(1)} % of the server CPU a no-auth tools/call takes.\n`,
    );
  }
  process.stdout.write(
    `JWT validation costs ${((1 - jwt.rps / off.rps) * 100).toFixed(1)} % of the no-auth throughput (aim < 10 %)`,
  );
  if (jwt.serverCpuUs !== undefined && off.serverCpuUs !== undefined) {
    process.stdout.write(
      `; by server CPU per request: ${((jwt.serverCpuUs / off.serverCpuUs - 1) * 100).toFixed(1)} %`,
    );
  }
  process.stdout.write('.\n');
  process.stdout.write(
    `JWT validation gives ${(jwt.rps / everyRequest.rps).toFixed(1)}× the throughput of per-request introspection (aim ≥ 10×)`,
  );
  const total = (row) => (row.serverCpuUs ?? 0) + (row.keycloakCpuUs ?? 0);
  if (jwt.keycloakCpuUs !== undefined && everyRequest.keycloakCpuUs !== undefined) {
    process.stdout.write(
      `; introspection costs ${(total(everyRequest) / total(jwt)).toFixed(1)}× the CPU per request, server and Keycloak together`,
    );
  }
  process.stdout.write('.\n');
  if (
    everyRequest.serverCpuUs !== undefined &&
    off.serverCpuUs !== undefined &&
    everyRequest.keycloakCpuUs !== undefined
  ) {
    // The cost of the check itself: what introspection adds over no auth, against verify() alone.
    // Keycloak's background CPU (other clients, housekeeping) is the lowest of the modes that never call it.
    const background = Math.min(
      off.keycloakCpuUs ?? 0,
      jwt.keycloakCpuUs ?? Infinity,
      cached.keycloakCpuUs ?? Infinity,
    );
    const introspectionCost = everyRequest.serverCpuUs - off.serverCpuUs + (everyRequest.keycloakCpuUs - background);
    process.stdout.write(
      `Auth cost per request: per-request introspection ${introspectionCost.toFixed(0)} µs CPU (server + Keycloak) vs JWT ${verifyMicros.toFixed(0)} µs for a new token (${(introspectionCost / verifyMicros).toFixed(1)}×) and ${verifyCachedMicros.toFixed(1)} µs for a seen one (${(introspectionCost / verifyCachedMicros).toFixed(0)}×).\n`,
    );
  }
  process.stdout.write(
    `Cached introspection (one hot token) runs at ${((cached.rps / jwt.rps) * 100).toFixed(0)} % of JWT throughput.\n`,
  );
}

try {
  await main();
} finally {
  await admin('DELETE', `/${realm}`).catch(() => undefined);
}
