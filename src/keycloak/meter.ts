/**
 * Counts the HTTP requests this process sends to Keycloak, by kind. The admin client calls the global
 * `fetch`, so the meter wraps it once; the counts prove claims such as "a no-op apply makes zero writes"
 * and are reported by plan/apply.
 */
export interface RequestCounts {
  /** GET/HEAD requests. */
  reads: number;
  /** Non-GET requests to the admin API: the ones that change the realm. */
  writes: number;
  /** Token and other non-admin POSTs (logging in, checking the test user's password). */
  other: number;
}

interface Meter {
  prefixes: Set<string>;
  counts: RequestCounts;
}

const meter: Meter = { prefixes: new Set(), counts: { reads: 0, writes: 0, other: 0 } };
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const original = globalThis.fetch;
  globalThis.fetch = (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    for (const prefix of meter.prefixes) {
      if (!url.startsWith(prefix)) continue;
      if (method === 'GET' || method === 'HEAD') meter.counts.reads++;
      else if (url.startsWith(`${prefix}/admin/`)) meter.counts.writes++;
      else meter.counts.other++;
      break;
    }
    return original(input, init);
  };
}

/** Starts counting requests under `baseUrl`; returns a function that reads the counts so far. */
export function meterRequests(baseUrl: string): () => RequestCounts {
  install();
  meter.prefixes.add(baseUrl.replace(/\/+$/, ''));
  const start = { ...meter.counts };
  return () => ({
    reads: meter.counts.reads - start.reads,
    writes: meter.counts.writes - start.writes,
    other: meter.counts.other - start.other,
  });
}
