#!/usr/bin/env node
// `npm run build`: emits dist/ with esbuild. Type checking is not done here but by tsc (`npm run typecheck`).
//
// One minified ES module per entry point, code shared between entry points split into dist/chunks/. The
// CLI entry (dist/cli.js) holds commander and the command wiring, and nothing else of weight: each command
// is an entry point of its own (dist/commands/*.js) that the CLI import()s only when that command runs, so
// `--help` and `--version` read a handful of small files. No source maps: dist/ is what the package ships.
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));

/**
 * Packages inlined into the output. commander is on the path of every start; inlined it is part of one
 * file instead of a CommonJS package of seven. Every other package stays an import of node_modules: npm
 * installs the runtime dependencies anyway, and the optional v1 MCP SDK must stay optional.
 */
const INLINED = ['commander'];

/**
 * Inlined CommonJS calls require('node:…'), which an ES module has no `require` for. Each such require
 * becomes an object that fetches the built-in on first use (process.getBuiltinModule, Node ≥ 20.16), so
 * commander's `node:child_process` (and net, dgram and streams behind it), needed only for executable
 * subcommands, which this CLI has none of, is never loaded.
 */
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'require-call' ? { path: args.path, namespace: 'lazy-builtin' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `module.exports = new Proxy({}, { get: (_, key) => process.getBuiltinModule(${JSON.stringify(args.path)})[key] });`,
      loader: 'js',
    }));
  },
};

rmSync(`${root}dist`, { recursive: true, force: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: [
    'src/cli.ts',
    'src/commands/*.ts',
    // Imported from dist/ by scripts/ and bench/ (schema generation, conformance client, serve benchmark).
    'src/e2e/index.ts',
    'src/init/schema-document.ts',
    'src/local/process.ts',
    'src/server/index.ts',
    // The library entry `mcp-keycloak/server` (package.json "exports"); its declarations come from tsc below.
    'src/server/library.ts',
  ],
  outbase: 'src',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  minify: true,
  sourcemap: false,
  legalComments: 'none', // the licence of what is inlined goes to dist/THIRD-PARTY-LICENSES.txt below
  metafile: true,
  logLevel: 'warning',
  external: Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
    .filter((name) => !INLINED.includes(name))
    .flatMap((name) => [name, `${name}/*`]),
  plugins: [lazyBuiltins],
});

const problems = [];
const inlinedPackages = new Set();
for (const [output, { inputs }] of Object.entries(result.metafile.outputs)) {
  // `new URL('../../templates/', import.meta.url)` in src/init/render.ts means <package>/templates only from
  // a file as deep as its source: dist/cli.js sits one level down, every other output two, like src/*/*.ts.
  const outputDepth = output.split('/').length - 1;
  for (const input of Object.keys(inputs)) {
    const inlined = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
    if (inlined) inlinedPackages.add(inlined);
    if (
      input.startsWith('src/') &&
      input.split('/').length - 1 !== outputDepth &&
      readFileSync(`${root}${input}`, 'utf8').includes('import.meta.url')
    ) {
      problems.push(
        `${input} uses import.meta.url but ended up in ${output}, at another depth: its relative URLs would miss`,
      );
    }
  }
}
for (const name of inlinedPackages) {
  if (!INLINED.includes(name))
    problems.push(`${name} was inlined: declare it in package.json (it stays in node_modules) or add it to INLINED`);
}
if (problems.length > 0) {
  for (const problem of problems) console.error(`build: ${problem}`);
  process.exit(1);
}

// MIT asks for the copyright and permission notice in every copy: dist/cli.js holds one of commander.
writeFileSync(
  `${root}dist/THIRD-PARTY-LICENSES.txt`,
  INLINED.map(
    (name) => `${name} (inlined into dist/cli.js)\n\n${readFileSync(`${root}node_modules/${name}/LICENSE`, 'utf8')}`,
  ).join('\n'),
);

// Declarations of the library entry (tsconfig.lib.json): TypeScript users of `mcp-keycloak/server` get its types.
execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.lib.json`], {
  stdio: 'inherit',
});

const files = Object.keys(result.metafile.outputs);
console.error(
  `dist/: ${files.length} modules, ${files.filter((file) => file.startsWith('dist/chunks/')).length} of them shared chunks`,
);
