#!/usr/bin/env bash
# Runs the MCP conformance suite (@modelcontextprotocol/conformance) where it applies to this project:
#   1. with Keycloak (KEYCLOAK_URL, KEYCLOAK_ADMIN_PASSWORD; skipped without it), on a realm `apply` sets up:
#      its authorization server scenarios against that realm (scripts/conformance-as.mjs: the headless user
#      plays the browser; once with a client registered as MCP clients do, once without refresh_token), and
#      its server scenarios against the reference server (`serve --auth off`: the suite's client sends no
#      token, so auth is off for this run only; the auth layer is what test/e2e covers);
#   2. its client `auth` suite, then the 2026-07-28 client auth scenarios (SCENARIOS, one `--scenario` each,
#      `--spec-version 2026-07-28`), with the e2e flow (src/e2e, both SDK lines) as the client under test,
#      against the suite's own scenario servers and mock authorization servers (no Keycloak needed).
# The suite needs Node >= 22: the npm registry's `node` package provides one in a scratch folder, so the
# system Node and the project's dependencies stay as they are. Only loopback is contacted: the suite runs
# with a fetch guard that refuses any other host (and the client adapter has its own); refusals are counted.
#
# Usage: [KEYCLOAK_URL=http://127.0.0.1:8080 KEYCLOAK_ADMIN_PASSWORD=...] scripts/conformance.sh [results-dir]
#        CONFORMANCE_VERSION (default 0.2.0-alpha.12), SCENARIOS (space-separated; "" skips part 2's list), SDKS (default "v2 v1"),
#        EXTENSION_SCENARIOS (default the two oauth-client-credentials ones and the two DPoP ones; "" skips them)
# Exit code: 0 when it ran (the suite's verdicts are in the summary and results-dir), non-zero when it could not run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${TMPDIR:-/tmp}/mcp-keycloak-conformance/results}
work=${CONFORMANCE_DIR:-${TMPDIR:-/tmp}/mcp-keycloak-conformance}
version=${CONFORMANCE_VERSION:-0.2.0-alpha.12}
realm=${CONFORMANCE_REALM:-mcp-conformance}
sdks=${SDKS:-v2 v1}
scenarios=${SCENARIOS-auth/iss-supported auth/iss-not-advertised auth/iss-supported-missing auth/iss-wrong-issuer auth/iss-unexpected auth/iss-normalized auth/metadata-issuer-mismatch auth/offline-access-scope auth/offline-access-not-supported auth/resource-mismatch auth/authorization-server-migration auth/scope-step-up auth/scope-retry-limit auth/basic-cimd}

mkdir -p "$work" "$out"
if [ ! -x "$work/node_modules/.bin/node" ] || ! grep -q "\"version\": \"$version\"" "$work/node_modules/@modelcontextprotocol/conformance/package.json" 2>/dev/null; then
  echo "installing node@22 and @modelcontextprotocol/conformance@$version into $work"
  npm install --prefix "$work" --no-save --no-audit --no-fund "node@22" "@modelcontextprotocol/conformance@$version" >"$work/install.log" 2>&1
fi
node22="$work/node_modules/.bin/node"
# Preloaded into the suite: a fetch to anything but loopback is refused and logged (all its servers are local).
cat >"$work/loopback-only.mjs" <<'JS'
const inner = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const { hostname, origin } = new URL(input instanceof Request ? input.url : String(input));
  if (hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname)) return inner(input, init);
  console.error(`loopback-only: refused ${origin}`);
  return Promise.reject(new Error(`loopback-only: refused ${origin}`));
};
JS
conformance=("$node22" --import "$work/loopback-only.mjs" "$work/node_modules/@modelcontextprotocol/conformance/dist/index.js")
echo "conformance $("${conformance[@]}" --version) on node $("$node22" --version)"

(cd "$root" && npm run --silent build)

if [ -n "${KEYCLOAK_URL:-}" ] && [ -n "${KEYCLOAK_ADMIN_PASSWORD:-}" ]; then
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  resource="http://127.0.0.1:$port/mcp"
  user_password=$(node -e 'console.log(require("crypto").randomBytes(18).toString("base64url"))')
  MCP_KEYCLOAK_TEST_USER_PASSWORD=$user_password node "$root/bin/mcp-keycloak.js" apply --yes --realm "$realm" --resource "$resource" --test-user alice >/dev/null

  issuer="${KEYCLOAK_URL%/}/realms/$realm"
  echo "== authorization server scenarios against $issuer (Keycloak; the headless user plays the browser)"
  for grants in "authorization_code refresh_token" "authorization_code"; do
    log="$out/authorization-${grants// /+}.log"
    echo "-- a client registered with grant_types \"$grants\""
    MCP_CONFORMANCE_USER=alice MCP_CONFORMANCE_PASSWORD=$user_password MCP_CONFORMANCE_GRANT_TYPES=$grants \
      node "$root/scripts/conformance-as.mjs" "$issuer" "$resource" "$out/authorization-${grants// /+}" "${conformance[@]}" >"$log" 2>&1 || true
    grep -E '^(✓|✗)|^Total' "$log" || tail -5 "$log"
    for dir in "$out/authorization-${grants// /+}"/*; do
      node -e 'for (const c of JSON.parse(require("fs").readFileSync(process.argv[1] + "/checks.json", "utf8"))) if (c.status !== "SUCCESS") console.log(`   ${c.id}: ${c.status} ${c.errorMessage ?? ""}`)' "$dir" 2>/dev/null || true
    done
  done

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
else
  echo "== server scenarios: skipped (they need KEYCLOAK_URL and KEYCLOAK_ADMIN_PASSWORD)"
fi

# One line per scenario run from its checks.json: verdict, counts, the ids of failed and warning checks.
summarize() {
  node -e '
    const fs = require("fs"), path = require("path");
    for (const dir of process.argv.slice(1)) {
      const file = path.join(dir, "checks.json");
      if (!fs.existsSync(file)) { console.log(`✗ ${dir}: no checks.json (see the log)`); continue; }
      const checks = JSON.parse(fs.readFileSync(file, "utf8"));
      const n = (s) => checks.filter((c) => c.status === s);
      const bad = [...n("FAILURE"), ...n("WARNING")].map((c) => `${c.status === "FAILURE" ? "fail" : "warn"} ${c.id}`);
      const mark = n("FAILURE").length ? "✗" : n("WARNING").length ? "!" : "✓";
      console.log(`${mark} auth/${path.basename(dir).replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, "")}: ${n("SUCCESS").length} passed, ${n("FAILURE").length} failed, ${n("WARNING").length} warnings${bad.length ? ` [${bad.join(", ")}]` : ""}`);
    }' "$@"
}

client="node $root/scripts/conformance-client.mjs"
for sdk in $sdks; do
  echo "== client auth suite, e2e flow with the $sdk SDK client"
  MCP_E2E_SDK=$sdk "${conformance[@]}" client --command "$client" --suite auth -o "$out/client-$sdk" >"$out/client-$sdk.log" 2>&1 || true
  grep -E '^(✓|✗)|^Total' "$out/client-$sdk.log" || tail -5 "$out/client-$sdk.log"
  [ -n "$scenarios" ] || continue
  echo "== 2026-07-28 client auth scenarios (--spec-version 2026-07-28), e2e flow with the $sdk SDK client"
  rm -rf "$out/client-2026-$sdk" "$out/client-2026-$sdk.log"
  for scenario in $scenarios; do
    MCP_E2E_SDK=$sdk "${conformance[@]}" client --command "$client" --scenario "$scenario" --spec-version 2026-07-28 -o "$out/client-2026-$sdk" >>"$out/client-2026-$sdk.log" 2>&1 || true
  done
  summarize "$out/client-2026-$sdk"/auth/*
done
# Extension scenarios are off the spec timeline (no --spec-version). A machine client has no user and no SDK choice:
# conformance-client.mjs runs what `doctor --machine-client` runs, the SDK v2 client-credentials providers. The DPoP
# ones (SEP-1932) run the e2e flow with the v2 SDK, the only line with DPoP (the 401 offers the DPoP scheme).
extensions=${EXTENSION_SCENARIOS-auth/client-credentials-jwt auth/client-credentials-basic auth/dpop auth/dpop-nonce}
if [ -n "$extensions" ]; then
  echo "== extension client scenarios (oauth-client-credentials: the machine-client path; dpop: the e2e flow, SDK v2)"
  rm -rf "$out/client-extensions" "$out/client-extensions.log"
  for scenario in $extensions; do
    "${conformance[@]}" client --command "$client" --scenario "$scenario" -o "$out/client-extensions" >>"$out/client-extensions.log" 2>&1 || true
  done
  summarize "$out/client-extensions"/auth/*
fi
echo "requests to non-loopback hosts refused (suite and client): $(grep -rhE 'loopback-only: refused|refused \(not loopback\)' "$out" | wc -l)"
echo "details: $out"
