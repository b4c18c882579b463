/**
 * The docs stay true to the files and to the CLI: every relative link in README.md and docs/ resolves
 * (file, and heading when it has a #anchor, with GitHub's slug rules), and every long flag the built CLI's
 * `--help` shows is mentioned on that command's page in docs/commands/ (global flags in docs/configuration.md
 * or the README). Commands are read from `mcp-keycloak --help`, so a new command without a page fails here.
 * No Keycloak needed; it runs `node bin/mcp-keycloak.js … --help` (build first: `npm run build`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'bin', 'mcp-keycloak.js');
const COMMAND_PAGES = join(ROOT, 'docs', 'commands');

/** README.md and every Markdown file under docs/, as paths relative to the repository root. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.name.endsWith('.md') ? [path] : [];
    });
  return ['README.md', ...walk(join(ROOT, 'docs')).map((path) => relative(ROOT, path))];
}

/** The lines of a Markdown file outside fenced code blocks (``` or ~~~), where headings and links live. */
function proseLines(text: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (!fence || (marker[0] === fence[0] && marker.length >= fence.length))) {
      fence = fence ? undefined : marker;
      continue;
    }
    if (!fence) lines.push(line);
  }
  return lines;
}

/** GitHub's heading anchor (github-slugger): lower case, punctuation and symbols dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link shows its text
    .replace(/<[^>]+>/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a Markdown file's headings get, repeated ones numbered -1, -2 … as GitHub does. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of proseLines(readFileSync(file, 'utf8'))) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = githubSlug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Relative link targets of a Markdown file (inline links and images, outside code). */
function relativeLinks(text: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(text)) {
    const prose = line.replace(/(`+)[\s\S]*?\1/g, ''); // inline code holds examples, not links
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1]!;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) targets.push(target);
    }
  }
  return targets;
}

/** What is wrong with one link from `file` (relative to the root), or undefined when it resolves. */
function brokenLink(file: string, target: string): string | undefined {
  const [path = '', anchor] = target.split('#', 2);
  const resolved = path ? resolve(dirname(join(ROOT, file)), decodeURIComponent(path)) : join(ROOT, file);
  if (!existsSync(resolved)) return `${target}: no such file ${relative(ROOT, resolved)}`;
  if (anchor === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md'))
    return `${target}: an #anchor needs a Markdown file`;
  if (!anchors(resolved).has(anchor))
    return `${target}: no heading with anchor #${anchor} in ${relative(ROOT, resolved)}`;
  return undefined;
}

/** `mcp-keycloak <args> --help`, as a user sees it. */
function help(args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args, '--help'], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

/** The entries of a help section ("Options:", "Commands:"): the first word of each line indented by exactly two spaces. */
function section(text: string, title: string): string[] {
  const start = text.split('\n').indexOf(`${title}:`);
  if (start < 0) return [];
  const entries: string[] = [];
  for (const line of text.split('\n').slice(start + 1)) {
    if (line.trim() === '') break;
    if (/^ {2}\S/.test(line)) entries.push(line.trim());
  }
  return entries;
}

/** Long flags of a help text's Options section (`-y, --yes` gives `--yes`). */
function longFlags(text: string): string[] {
  return section(text, 'Options').flatMap((entry) => /^(?:-\w, )?(--[\w-]+)/.exec(entry)?.[1] ?? []);
}

/** Subcommand names of a help text's Commands section, without commander's own `help`. */
function commandNames(text: string): string[] {
  return section(text, 'Commands')
    .map((entry) => entry.split(/\s/)[0]!)
    .filter((name) => name !== 'help');
}

/** Whether `text` mentions `--flag` as a whole flag (`--test-user` is not found in `--no-test-user`). */
function mentions(text: string, flag: string): boolean {
  return new RegExp(`(?<![\\w-])${flag.replace(/-/g, '\\-')}(?![\\w-])`).test(text);
}

const topHelp = help([]);
const globalFlags = longFlags(topHelp);
const commands = commandNames(topHelp).map((name) => {
  const text = help([name]);
  const subcommands = commandNames(text);
  const leaves = subcommands.length
    ? subcommands.map((sub) => ({ path: [name, sub], help: help([name, sub]) }))
    : [{ path: [name], help: text }];
  return { name, leaves };
});

/** The docs page of a top-level command: docs/commands/<name>.md, or a shared one such as plan-apply.md. */
function pageOf(command: string): string[] {
  return readdirSync(COMMAND_PAGES)
    .filter((file) => file.endsWith('.md') && basename(file, '.md').split('-').includes(command))
    .map((file) => join(COMMAND_PAGES, file));
}

describe('links in README.md and docs/', () => {
  it.each(markdownFiles())('%s: every relative link and #anchor resolves', (file) => {
    const broken = relativeLinks(readFileSync(join(ROOT, file), 'utf8')).flatMap(
      (target) => brokenLink(file, target) ?? [],
    );
    expect(broken, `broken links in ${file}`).toEqual([]);
  });

  it('computes anchors as GitHub does', () => {
    expect(githubSlug('`mcp-keycloak keycloak start | status | stop`')).toBe(
      'mcp-keycloak-keycloak-start--status--stop',
    );
    expect(githubSlug('The `--json` document (formatVersion 1)')).toBe('the---json-document-formatversion-1');
    expect(githubSlug('Which MCP SDK, and why')).toBe('which-mcp-sdk-and-why');
  });

  it('reads flags from help text and matches them whole', () => {
    expect(longFlags(help(['init']))).toEqual(
      expect.arrayContaining(['--config', '--yes', '--no-test-user', '--no-doctor', '--dir']),
    );
    expect(mentions('| `--no-test-user` | no user |', '--test-user')).toBe(false);
    expect(mentions('| `-y, --yes` | do not ask |', '--yes')).toBe(true);
  });
});

describe('every command and flag of `mcp-keycloak --help` is documented', () => {
  it('finds the commands and global flags in the top-level help', () => {
    expect(commands.map((c) => c.name)).toEqual(
      expect.arrayContaining(['init', 'keycloak', 'plan', 'apply', 'serve', 'doctor', 'destroy', 'clients', 'export']),
    );
    expect(globalFlags).toEqual(expect.arrayContaining(['--json', '--debug', '--help', '--version']));
  });

  it('documents the global flags in docs/configuration.md or the README', () => {
    const text = ['docs/configuration.md', 'README.md']
      .map((file) => readFileSync(join(ROOT, file), 'utf8'))
      .join('\n');
    expect(globalFlags.filter((flag) => !mentions(text, flag))).toEqual([]);
  });

  it.each(commands.map((c) => [c.name, c] as const))(
    '%s has one page in docs/commands/, linked from the README',
    (name, command) => {
      const pages = pageOf(command.name);
      expect(
        pages.map((page) => relative(ROOT, page)),
        `expected one page docs/commands/${name}.md (or a shared one such as plan-apply.md)`,
      ).toHaveLength(1);
      expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`(docs/commands/${basename(pages[0]!)})`);
    },
  );

  it.each(commands.flatMap((c) => c.leaves.map((leaf) => [leaf.path.join(' '), leaf] as const)))(
    '%s: every long flag of its --help is on its page',
    (_name, leaf) => {
      const [page] = pageOf(leaf.path[0]!);
      const text = page ? readFileSync(page, 'utf8') : '';
      if (leaf.path.length > 1)
        expect(text, `${relative(ROOT, page ?? COMMAND_PAGES)} does not name "${leaf.path.join(' ')}"`).toContain(
          leaf.path.join(' '),
        );
      const undocumented = longFlags(leaf.help).filter((flag) => !globalFlags.includes(flag) && !mentions(text, flag));
      expect(
        undocumented,
        `flags of "mcp-keycloak ${leaf.path.join(' ')}" missing from ${page ? relative(ROOT, page) : 'docs/commands/'}`,
      ).toEqual([]);
    },
  );
});
