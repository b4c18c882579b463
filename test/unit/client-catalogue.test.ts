/**
 * The client catalogue (src/clients/catalogue.ts) is data with sources: every row names where its facts come from and
 * when they were read, and docs/clients.md, its reader's view, shows every row with its CIMD client_id.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_CATALOGUE, catalogueClient } from '../../src/clients/catalogue.js';

const page = readFileSync(new URL('../../docs/clients.md', import.meta.url), 'utf8');

describe('client catalogue', () => {
  it('has one row per id, each with at least one dated source', () => {
    const ids = CLIENT_CATALOGUE.map((client) => client.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const client of CLIENT_CATALOGUE) {
      expect(client.sources.length, client.id).toBeGreaterThan(0);
      for (const source of client.sources)
        expect(source.read, `${client.id}: ${source.url}`).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it('covers the clients users connect', () => {
    for (const id of ['vscode', 'vscode-insiders', 'claude-code', 'claude-ai', 'chatgpt', 'cursor', 'goose']) {
      expect(catalogueClient(id), id).toBeDefined();
    }
    for (const id of ['copilot-cli', 'zed', 'inspector', 'sdk-ts-v2', 'sdk-ts-v1', 'sdk-python']) {
      expect(catalogueClient(id), id).toBeDefined();
    }
  });

  it('gives CIMD client_ids as https URLs with a path, or a document the user hosts', () => {
    for (const client of CLIENT_CATALOGUE) {
      const id = client.cimd?.clientId;
      if (id === undefined || id === 'user-hosted') continue;
      const url = new URL(id);
      expect(url.protocol, client.id).toBe('https:');
      expect(url.pathname.length, client.id).toBeGreaterThan(1);
    }
  });

  it('is shown row by row in docs/clients.md', () => {
    for (const client of CLIENT_CATALOGUE) {
      expect(page, client.id).toContain(`(\`${client.id}\`)`);
      const id = client.cimd?.clientId;
      if (id && id !== 'user-hosted') expect(page, client.id).toContain(`\`${id}\``);
    }
  });
});
