#!/usr/bin/env node
// The first run and the restarts of the local Keycloak, side by side with a bare `kc.sh start-dev` in one run.
// Each round starts from nothing (the cached server distribution unpacked afresh from its archive, untimed; no
// data, no state, an empty folder) and times, step by step, each step of mcp-keycloak next to the same step
// done with kc.sh by hand (A B A B …, so machine load hits both alike):
//   1. first run:   `init --yes` (starts Keycloak: Quarkus build + start, realm, files, doctor)
//                   vs `kc.sh start-dev` until it answers (build + start)
//   2. restart:     `keycloak stop`, `init --yes` again (Keycloak starts from its data, init re-runs)
//                   vs `kc.sh start-dev` again
//   3. switch:      `keycloak start --features cimd,resource-indicators` vs start-dev --features=…
//   4. switch back: `keycloak stop`, `init --yes` (no features, as at 1) vs start-dev without features
// After each step it reads Keycloak's log: whether kc.sh ran the build ("Updating the configuration") and
// Quarkus' own "started in N s". With --before=<path to another checkout's bin/mcp-keycloak.js> the same steps
// of that build run too (e.g. the code before a change), in the same rounds.
// Usage: npm run bench:first-run [-- --rounds=N --before=/tmp/old/bin/mcp-keycloak.js]   (needs Java, the
// distribution archive in the cache: run `mcp-keycloak keycloak start` once)
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1' }, before: { type: 'string' } } });
const VERSION = '26.7.3';
const FEATURES = 'cimd,resource-indicators';
const BUILD_LINE = 'Updating the configuration and installing your custom providers';
const cacheRoot =
  process.env.MCP_KEYCLOAK_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mcp-keycloak');
const archive = join(cacheRoot, `keycloak-quarkus-dist-${VERSION}.tar.gz`);
if (!existsSync(archive)) {
  console.error(`error: ${archive} is missing: run \`mcp-keycloak keycloak start\` once (it downloads it).`);
  process.exit(2);
}
const clis = { ours: fileURLToPath(new URL('../bin/mcp-keycloak.js', import.meta.url)) };
if (values.before) clis.before = values.before;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const load = () => loadavg()[0].toFixed(1);

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Unpacks the archive into `folder`/keycloak-<version> (what ensureDistribution leaves in a cache). */
async function unpack(folder) {
  const staging = await mkdtemp(join(folder, '.unpack-'));
  await exec('tar', ['-xzf', archive, '-C', staging]);
  renameSync(join(staging, readdirSync(staging)[0]), join(folder, `keycloak-${VERSION}`));
  await rm(staging, { recursive: true });
  return join(folder, `keycloak-${VERSION}`);
}

/** Runs a program to completion and resolves with its stdout; rejects with its stderr when it fails. */
function exec(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`)),
    );
  });
}

/** What Keycloak's log says about the start that wrote it. */
function fromLog(file) {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const started = [...text.matchAll(/started in ([\d.]+)s/g)].at(-1)?.[1];
  return { built: text.includes(BUILD_LINE), quarkusStart: started ? Number(started) : undefined };
}

/** One mcp-keycloak side: a private cache, state dir, project folder and port. */
async function cliSide(name, cli, root) {
  const folder = join(root, name);
  const cache = join(folder, 'cache');
  await mkdir(join(folder, 'project'), { recursive: true });
  await mkdir(cache);
  await unpack(cache);
  const url = `http://localhost:${await freePort()}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
    MCP_KEYCLOAK_CACHE: cache,
    MCP_KEYCLOAK_STATE: join(folder, 'state'),
    MCP_KEYCLOAK_RUNTIME: 'distribution',
  };
  const run = (args) => exec(process.execPath, [cli, ...args], { env, cwd: join(folder, 'project') });
  // --json: init and keycloak start report how long Keycloak took to answer (localKeycloak.startupMs, startupMs).
  const timed = async (args) => {
    const started = performance.now();
    const report = JSON.parse(await run(['--json', ...args]));
    const seconds = (performance.now() - started) / 1000;
    const readyMs = report.localKeycloak?.startupMs ?? report.startupMs;
    return { seconds, ready: readyMs / 1000, ...fromLog(join(folder, 'state', 'keycloak.log')) };
  };
  const init = () => timed(['init', '--yes', '--keycloak-url', url, '--resource', 'http://localhost:8000/mcp']);
  const port = new URL(url).port;
  return {
    first: init,
    restart: async () => {
      await run(['keycloak', 'stop']);
      return init();
    },
    switch: async () => {
      await run(['keycloak', 'stop']);
      return timed(['keycloak', 'start', '--port', port, '--features', FEATURES]);
    },
    back: async () => {
      await run(['keycloak', 'stop']);
      return init();
    },
    end: () => run(['keycloak', 'stop', '--delete-data']).catch(() => undefined),
  };
}

/** The bare side: kc.sh start-dev from an unpacked distribution, as its docs say, stopped after each step. */
async function bareSide(root) {
  const folder = join(root, 'bare');
  await mkdir(folder, { recursive: true });
  const home = await unpack(folder);
  const port = await freePort();
  let step = 0;
  let running;
  const stop = async () => {
    if (!running) return;
    process.kill(-running.child.pid, 'SIGTERM');
    await running.exited;
    running = undefined;
  };
  const start = async (features) => {
    const logFile = join(folder, `step-${++step}.log`);
    const args = ['start-dev', `--http-port=${port}`, `--http-management-port=${await freePort()}`];
    if (features) args.push(`--features=${features}`);
    const started = performance.now();
    const child = spawn(join(home, 'bin', 'kc.sh'), args, {
      detached: true,
      stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')],
    });
    running = { child, exited: new Promise((resolve) => child.once('exit', resolve)) };
    while (!(await answers(port))) {
      if (child.exitCode !== null) throw new Error(`kc.sh start-dev exited ${child.exitCode}; see ${logFile}`);
      await sleep(250);
    }
    const seconds = (performance.now() - started) / 1000;
    await stop();
    return { seconds, ready: seconds, ...fromLog(logFile) };
  };
  return {
    first: () => start(),
    restart: () => start(),
    switch: () => start(FEATURES),
    back: () => start(),
    end: stop,
  };
}

async function answers(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/realms/master/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(2000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

const STEPS = {
  first: 'first run (init --yes from nothing)',
  restart: 'restart (stop, init --yes)',
  switch: `switch (start --features ${FEATURES})`,
  back: 'switch back (stop, init --yes)',
};

// total; Keycloak answering (what of it was Quarkus' own start, the rest is mostly the build); whether kc.sh built.
const cell = (r) =>
  `${r.seconds.toFixed(1).padStart(6)} s (Keycloak ${r.ready.toFixed(1)} s, Quarkus ${r.quarkusStart?.toFixed(1) ?? '?'} s${r.built ? ', build' : ''})`;

const rounds = Number(values.rounds);
console.log(
  `First run and restarts, Keycloak ${VERSION}, Node ${process.version}, ${rounds} round(s); mcp-keycloak sides start Keycloak with dev-file, bare = kc.sh start-dev`,
);
for (let round = 1; round <= rounds; round++) {
  const root = await mkdtemp(join(tmpdir(), 'mcp-keycloak-first-run-'));
  const sides = {};
  try {
    for (const [name, cli] of Object.entries(clis)) sides[name] = await cliSide(name, cli, root);
    sides.bare = await bareSide(root);
    const versus = sides.before ? 'ours/bare, ours/before' : 'ours/bare';
    console.log(`\nround ${round} (load ${load()}): ${Object.keys(sides).join(' | ')} | ${versus}`);
    for (const [step, label] of Object.entries(STEPS)) {
      const results = {};
      // Each round starts with another side, so none always runs first (right after the others' stop).
      const entries = Object.entries(sides);
      const order = [...entries.slice((round - 1) % entries.length), ...entries.slice(0, (round - 1) % entries.length)];
      for (const [name, side] of order) results[name] = await side[step]();
      const cells = Object.keys(sides)
        .map((name) => cell(results[name]))
        .join(' | ');
      const ratio = (other) => `${(results.ours.seconds / other.seconds).toFixed(2)}×`;
      const ratios = [ratio(results.bare), ...(results.before ? [ratio(results.before)] : [])].join(', ');
      console.log(`${label.padEnd(40)} ${cells} | ${ratios} (load ${load()})`);
    }
  } finally {
    for (const side of Object.values(sides)) await side.end();
    await rm(root, { recursive: true, force: true });
  }
}
