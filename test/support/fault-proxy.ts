/**
 * A loopback HTTP proxy in front of the test Keycloak that misbehaves on request, so tests can show
 * what the CLI does when Keycloak stalls, resets a connection or fails a write. Everything else is
 * forwarded unchanged to the real Keycloak: the proxy injects faults, it never imitates Keycloak.
 *
 *   const proxy = await startFaultProxy(keycloak().url);
 *   runCli(['apply', '--keycloak-url', proxy.url, …]);
 *
 *   proxy.stall({ method: 'GET', path: /\/client-scopes$/ });  // hold matching requests unanswered
 *   proxy.failOnce({ method: 'GET', path: /\/components/ }, 503);  // next match: 503 (or 502, or 'reset')
 *   proxy.failWrite(2, 'reset-after');  // the 2nd write from now: forwarded, Keycloak commits it, then reset
 *   const gate = proxy.hold({ method: 'POST', path: /\/client-scopes$/ }, 2);  // force a race, see below
 *   proxy.count({ method: 'POST' });    // requests seen so far that match
 *   proxy.clear();                      // drop every fault and release stalled requests (by resetting them)
 *   await proxy.close();
 *
 * Matching: `method` is compared exactly (upper case); `path` is a RegExp or an exact string, tested
 * against the path without its query. A "write" is what the CLI counts as one: a request to /admin/
 * other than GET/HEAD. Write faults:
 *   'status-500'    answered 500 without forwarding (Keycloak never sees it);
 *   'reset-before'  connection reset without forwarding (Keycloak never sees it);
 *   'reset-after'   forwarded, Keycloak's whole answer awaited (the change is made), then reset;
 *   'status-500-after'  forwarded, Keycloak's whole answer awaited (the change is made), then answered
 *                   500 in its place, as a proxy that timed out on Keycloak would (or Keycloak itself,
 *                   to the loser of two concurrent deletes of one object).
 * A reset is a TCP RST, which the client sees as ECONNRESET.
 *
 * A gate (`hold(match, n)`) forces a race between clients: matching requests wait, unanswered, until
 * n of them have arrived (or `gate.release()`); then they go to Keycloak one after another in arrival
 * order, and their answers are delivered together once Keycloak has answered them all. So every
 * client has sent its request before any is answered, and none reads the realm before all the held
 * writes are made, while Keycloak's side stays deterministic: the first one made wins, the next meets
 * it (a 409 on a create, a 404 on a delete). `log` entries get the status Keycloak answered.
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface Match {
  method?: string;
  path?: string | RegExp;
}

export type WriteFault = 'status-500' | 'reset-before' | 'reset-after' | 'status-500-after';
export type OnceFault = 502 | 503 | 504 | 'reset';

export interface SeenRequest {
  method: string;
  path: string;
  /** Keycloak's status, once it answered a forwarded request. */
  status?: number;
}

export interface Gate {
  /** Resolves when the held requests have been answered (after n arrived, or after `release()`). */
  passed: Promise<void>;
  /** Matching requests held so far. */
  held(): number;
  /** Lets the held requests through now, however many arrived. */
  release(): void;
}

export interface FaultProxy {
  /** Base URL to pass as --keycloak-url / KEYCLOAK_URL. */
  url: string;
  /** Every request received, in arrival order (path without query). */
  log: SeenRequest[];
  count(match?: Match): number;
  stall(match: Match): void;
  failOnce(match: Match, fault: OnceFault): void;
  failWrite(nth: number, fault: WriteFault, match?: Match): void;
  /** Holds matching requests until `count` have arrived, then lets them through together (see the header). */
  hold(match: Match, count: number): Gate;
  clear(): void;
  close(): Promise<void>;
}

function matches(seen: SeenRequest, match: Match | undefined): boolean {
  if (!match) return true;
  if (match.method && seen.method !== match.method.toUpperCase()) return false;
  if (match.path instanceof RegExp) return match.path.test(seen.path);
  return match.path === undefined || match.path === seen.path;
}

interface HeldRequest {
  req: IncomingMessage;
  res: ServerResponse;
  seen: SeenRequest;
  body: Buffer;
}

interface BufferedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface GateState {
  match: Match;
  count: number;
  waiting: HeldRequest[];
  done: () => void;
}

const isWrite = (seen: SeenRequest) =>
  seen.method !== 'GET' && seen.method !== 'HEAD' && seen.path.startsWith('/admin/');

/** Resets the client's connection (RST), as a crashing proxy or Keycloak would. */
function reset(socket: Socket): void {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

/** Keycloak's own 500: a JSON body with a bare error code. */
function answer500(res: ServerResponse): void {
  res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unknown_error' }));
}

/** Starts the proxy on 127.0.0.1 (a free port) in front of `target`, e.g. http://127.0.0.1:18080. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const log: SeenRequest[] = [];
  let stalls: Match[] = [];
  let once: Array<{ match: Match; fault: OnceFault }> = [];
  let writeFaults: Array<{ remaining: number; fault: WriteFault; match?: Match }> = [];
  const held = new Set<Socket>();
  let gates: GateState[] = [];

  /** Forwards a request; with `after`, Keycloak's answer is read whole, then replaced by a reset or a 500. */
  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    after: 'reset' | 'status-500' | undefined,
    seen: SeenRequest,
  ): void {
    const outgoing = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        seen.status = answer.statusCode;
        if (after) {
          // Read Keycloak's whole answer first: by then the change is committed.
          answer.resume();
          answer.on('end', () => (after === 'reset' ? reset(req.socket) : answer500(res)));
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outgoing.on('error', () => reset(req.socket));
    req.pipe(outgoing);
  }

  /** Forwards a held request and reads Keycloak's whole answer, without delivering it yet. */
  function forwardBuffered(entry: HeldRequest): Promise<BufferedAnswer | undefined> {
    const { req, seen } = entry;
    return new Promise((resolve) => {
      const outgoing = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          seen.status = answer.statusCode;
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () =>
            resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
          );
          answer.on('error', () => resolve(undefined));
        },
      );
      outgoing.on('error', () => resolve(undefined));
      outgoing.end(entry.body);
    });
  }

  /** Sends a gate's requests to Keycloak one by one in arrival order, then delivers every answer. */
  async function pass(gate: GateState): Promise<void> {
    gates = gates.filter((g) => g !== gate);
    const answers: Array<BufferedAnswer | undefined> = [];
    for (const entry of gate.waiting) answers.push(await forwardBuffered(entry));
    gate.waiting.forEach(({ req, res }, index) => {
      const answer = answers[index];
      if (!answer) return reset(req.socket);
      // The body is whole now: sent with its length, not in chunks.
      const { 'transfer-encoding': _chunked, ...headers } = answer.headers;
      res.writeHead(answer.status, { ...headers, 'content-length': String(answer.body.length) }).end(answer.body);
    });
    gate.done();
  }

  /** Holds a request its gate matches (reading its body now); returns whether one did. */
  function holdAtGate(req: IncomingMessage, res: ServerResponse, seen: SeenRequest): boolean {
    const gate = gates.find((g) => matches(seen, g.match));
    if (!gate) return false;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      gate.waiting.push({ req, res, seen, body: Buffer.concat(chunks) });
      if (gate.waiting.length >= gate.count) void pass(gate);
    });
    return true;
  }

  const server = createServer((req, res) => {
    const seen: SeenRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: new URL(req.url ?? '/', 'http://x').pathname,
    };
    log.push(seen);
    if (holdAtGate(req, res, seen)) return;
    if (stalls.some((match) => matches(seen, match))) {
      held.add(req.socket);
      req.socket.once('close', () => held.delete(req.socket));
      return;
    }
    const onceIndex = once.findIndex((entry) => matches(seen, entry.match));
    if (onceIndex >= 0) {
      const { fault } = once.splice(onceIndex, 1)[0]!;
      if (fault === 'reset') reset(req.socket);
      else
        res
          .writeHead(fault, { 'content-type': 'text/html' })
          .end(`<html><body>${fault} from the fault proxy</body></html>`);
      return;
    }
    if (isWrite(seen)) {
      let due: WriteFault | undefined;
      for (const entry of writeFaults) {
        if (!matches(seen, entry.match)) continue;
        entry.remaining--;
        if (entry.remaining === 0) due = entry.fault;
      }
      writeFaults = writeFaults.filter((entry) => entry.remaining > 0);
      if (due === 'status-500') {
        req.resume();
        answer500(res);
        return;
      }
      if (due === 'reset-before') {
        reset(req.socket);
        return;
      }
      forward(req, res, due === 'reset-after' ? 'reset' : due === 'status-500-after' ? 'status-500' : undefined, seen);
      return;
    }
    forward(req, res, undefined, seen);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    log,
    count: (match) => log.filter((seen) => matches(seen, match)).length,
    stall: (match) => void stalls.push(match),
    failOnce: (match, fault) => void once.push({ match, fault }),
    failWrite: (nth, fault, match) => void writeFaults.push({ remaining: nth, fault, match }),
    hold(match, count) {
      let done = () => {};
      const passed = new Promise<void>((resolve) => (done = resolve));
      const gate: GateState = { match, count, waiting: [], done };
      gates.push(gate);
      return {
        passed,
        held: () => gate.waiting.length,
        release: () => void (gates.includes(gate) && pass(gate)),
      };
    },
    clear() {
      for (const gate of gates) void pass(gate);
      stalls = [];
      once = [];
      writeFaults = [];
      for (const socket of held) reset(socket);
      held.clear();
    },
    close() {
      proxy.clear();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
