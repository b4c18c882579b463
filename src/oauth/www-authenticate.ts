/**
 * A parser for RFC 9110 §11.6.1 challenges (`Bearer realm="x", resource_metadata="…", scope="a b"`),
 * enough to tell which parameters a server sent. Quoted strings may contain commas and escaped quotes,
 * which is why splitting on "," is not enough.
 */
export interface ParsedChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Every challenge in a `WWW-Authenticate` header, with its parameters unquoted (names in lower case). */
export function parseWwwAuthenticate(header: string): ParsedChallenge[] {
  const challenges: ParsedChallenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpaces = () => {
    while (i < n && /[\s,]/.test(header[i]!)) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: ParsedChallenge | undefined;
  while (i < n) {
    skipSpaces();
    const token = readToken();
    if (!token) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && header[j] === ' ') j++;
    if (header[j] === '=' && current) {
      // auth-param: name=value or name="quoted value"
      i = j + 1;
      while (i < n && header[i] === ' ') i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < n && header[i] !== ',') i++;
        value = header.slice(start, i).trim();
      }
      current.params[token.toLowerCase()] = value;
    } else {
      current = { scheme: token, params: {} };
      challenges.push(current);
    }
  }
  return challenges;
}

/** The Bearer challenge, if the header has one (scheme names are case-insensitive). */
export function bearerChallenge(header: string | null | undefined): ParsedChallenge | undefined {
  if (!header) return undefined;
  return parseWwwAuthenticate(header).find((c) => c.scheme.toLowerCase() === 'bearer');
}
