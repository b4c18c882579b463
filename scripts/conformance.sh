#!/usr/bin/env bash
# Runs the MCP conformance suite (@modelcontextprotocol/conformance) where it applies to this project:
#   1. its server scenarios against the reference server (`serve --auth off`: the suite's client sends no
#      token, so auth is off for this run only; the auth layer is what test/e2e covers);
#   2. its client `auth` suite with the e2e flow (src/e2e, both SDK lines) as the client under test,
#      against the suite's own scenario servers.
# The suite needs Node >= 22: the npm registry's `node` package provides one in a scratch folder, so the
# system Node and the project's dependencies stay as they are.
#
# Usage: KEYCLOAK_URL=http://127.0.0.1:8080 KEYCLOAK_ADMIN_PASSWORD=... scripts/conformance.sh [results-dir]
# Exit code: 0 when it ran (the suite's verdicts are in the summary and results-dir), non-zero when it could not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${TMPDIR:-/tmp}/mcp-keycloak-conformance/results}
work=${CONFORMANCE_DIR:-${TMPDIR:-/tmp}/mcp-keycloak-conformance}
version=${CONFORMANCE_VERSION:-0.1.16}
realm=${CONFORMANCE_REALM:-mcp-conformance}
: "${KEYCLOAK_URL:?set KEYCLOAK_URL}" "${KEYCLOAK_ADMIN_PASSWORD:?set KEYCLOAK_ADMIN_PASSWORD}"

mkdir -p "$work" "$out"
if [ ! -x "$work/node_modules/.bin/node" ] || [ ! -f "$work/node_modules/@modelcontextprotocol/conformance/package.json" ]; then
  echo "installing node@22 and @modelcontextprotocol/conformance@$version into $work"
  npm install --prefix "$work" --no-save --no-audit --no-fund "node@22" "@modelcontextprotocol/conformance@$version" >"$work/install.log" 2>&1
fi
node22="$work/node_modules/.bin/node"
conformance=("$node22" "$work/node_modules/@modelcontextprotocol/conformance/dist/index.js")
echo "conformance $("${conformance[@]}" --version) on node $("$node22" --version)"

(cd "$root" && npm run --silent build)
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
resource="http://127.0.0.1:$port/mcp"
node "$root/bin/mcp-keycloak.js" apply --yes --realm "$realm" --resource "$resource" >/dev/null

node "$root/bin/mcp-keycloak.js" serve --realm "$realm" --resource "$resource" --auth off >"$out/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
# Poll until the server answers (no fixed sleep); give up after ~30 s.
for _ in $(seq 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/.well-known/oauth-protected-resource/mcp" 2>/dev/null; then break; fi
  kill -0 "$server" 2>/dev/null || { cat "$out/serve.log"; exit 1; }
  sleep 0.1
done

echo "== server scenarios against $resource"
"${conformance[@]}" server --url "$resource" -o "$out/server" >"$out/server.log" 2>&1 || true
sed -n '/=== SUMMARY ===/,$p' "$out/server.log"

for sdk in v2 v1; do
  echo "== client auth suite, e2e flow with the $sdk SDK client"
  MCP_E2E_SDK=$sdk "${conformance[@]}" client --command "node $root/scripts/conformance-client.mjs" --suite auth -o "$out/client-$sdk" >"$out/client-$sdk.log" 2>&1 || true
  grep -E '^(✓|✗)|^Total' "$out/client-$sdk.log" || tail -5 "$out/client-$sdk.log"
done
echo "details: $out"
