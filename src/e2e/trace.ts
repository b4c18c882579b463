/**
 * Records what the MCP SDK does on the wire, so the flow can report which step of the chain broke even
 * though the SDK runs discovery, registration and the token exchange inside one `connect()` call.
 * Only method, URL without query, status and the `WWW-Authenticate` challenge are kept: never bodies,
 * `Authorization` headers, codes or tokens.
 */

export interface TraceEntry {
  method: string;
  /** Origin and path; the query is dropped because it may carry codes. */
  url: string;
  /** Undefined when the request failed before an answer (connection refused, DNS). */
  status?: number;
  /** The `WWW-Authenticate` header of a 401/403 (it carries no secrets). */
  challenge?: string;
  /** Whether the request carried a bearer token (not the token itself). */
  bearer: boolean;
  error?: string;
}

/** The wire log of one run: what each request was and how it was answered, nothing secret. */
export class Trace {
  readonly entries: TraceEntry[] = [];

  /** A fetch that behaves exactly like `inner` and records each exchange. */
  wrap(inner: typeof fetch = fetch): typeof fetch {
    return async (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      const entry: TraceEntry = {
        method: request.method,
        url: `${url.origin}${url.pathname}`,
        bearer: /^(bearer|dpop) /i.test(request.headers.get('authorization') ?? ''),
      };
      this.entries.push(entry);
      try {
        const response = await inner(input, init);
        entry.status = response.status;
        const challenge = response.headers.get('www-authenticate');
        if (challenge) entry.challenge = challenge;
        return response;
      } catch (error) {
        entry.error =
          error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
        throw error;
      }
    };
  }

  /** Entries after index `from` that match. */
  find(predicate: (entry: TraceEntry) => boolean, from = 0): TraceEntry[] {
    return this.entries.slice(from).filter(predicate);
  }
}
