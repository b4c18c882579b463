/** The plan as Markdown (`plan --summary`): what a CI step posts, and why values from the realm cannot break out of it. */
import { describe, expect, it } from 'vitest';
import { renderPlanMarkdown, SUMMARY_MARKER } from '../../src/ui/plan-markdown.js';
import type { RealmPlanView } from '../../src/ui/plan-view.js';

const base = { realm: 'mcp-demo', keycloakUrl: 'https://sso.example.com' };

function plan(changes: RealmPlanView['changes']): RealmPlanView {
  const summary = { create: 0, update: 0, delete: 0 };
  for (const change of changes) summary[change.action]++;
  return { ...base, changes, summary };
}

describe('renderPlanMarkdown', () => {
  it('says "no changes" for a realm that matches, without a diff block', () => {
    expect(renderPlanMarkdown(plan([]))).toEqual([
      SUMMARY_MARKER,
      '### mcp-keycloak plan: realm `mcp-demo`',
      '',
      'Keycloak `https://sso.example.com`: **no changes**, the realm matches the configuration.',
    ]);
  });

  it('puts every change in a diff block, the sign first so that GitHub colours it, with the counts above', () => {
    const lines = renderPlanMarkdown(
      plan([
        {
          action: 'create',
          kind: 'default-scope',
          name: 'mcp:run',
          fields: [{ field: 'f', from: null, to: 'mcp:run' }],
        },
        { action: 'update', kind: 'client-scope', name: 'mcp:run', fields: [{ field: 'g', from: false, to: true }] },
        { action: 'delete', kind: 'registration-policy', name: 'Trusted Hosts', reason: 'duplicate', fields: [] },
      ]),
    );
    expect(lines).toContain(
      'Keycloak `https://sso.example.com`: **3 changes pending** (1 to create, 1 to update, 1 to delete).',
    );
    const block = lines.slice(lines.indexOf('```diff') + 1, lines.lastIndexOf('```'));
    expect(block).toEqual([
      '+ create default-scope mcp:run',
      '    f: → mcp:run',
      '~ update client-scope mcp:run',
      '    g: false → true',
      '- delete registration-policy Trusted Hosts',
      '    why: duplicate',
    ]);
    expect(lines.join('\n')).not.toMatch(/\u001b\[/); // no terminal colours
  });

  it('keeps hostile values inside the block: a longer fence than any backtick run, and code spans for names', () => {
    const hostile = '```\n<img src=x onerror=alert(1)> @everyone [link](https://evil.example)\n````';
    const lines = renderPlanMarkdown({
      ...plan([
        { action: 'update', kind: 'audience-mapper', name: 'm', fields: [{ field: 'a', from: hostile, to: 'b' }] },
      ]),
      realm: 'r`x`',
    });
    // Padded on both sides, as CommonMark strips one space from each: the span is exactly r`x`.
    expect(lines[1]).toBe('### mcp-keycloak plan: realm `` r`x` ``');
    const open = lines.find((line) => line.endsWith('diff'))!;
    expect(open).toBe('`````diff');
    const close = lines.lastIndexOf('`````');
    expect(close).toBeGreaterThan(lines.indexOf(open));
    // Nothing between the fences is a fence of that length or longer, so nothing closes the block early.
    for (const line of lines.slice(lines.indexOf(open) + 1, close)) expect(line).not.toMatch(/^ {0,3}`{5,}\s*$/);
  });
});
