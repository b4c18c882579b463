/**
 * Keycloak feature lists (src/local/features.ts): what `--features`, MCP_KEYCLOAK_FEATURES and the test
 * harness's KEYCLOAK_FEATURES accept, the kc.sh spelling of serverinfo's names, and the start and restart
 * commands printed for a local Keycloak with features. Pure: no Keycloak, no process.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { KEYCLOAK_VERSION } from '../../src/local/distribution.js';
import {
  describeFeatures,
  enabledFeatures,
  featureKey,
  parseFeatures,
  restartCommand,
  restartWithFeaturesCommand,
  sameFeatures,
  startArguments,
} from '../../src/local/features.js';

const spell = (args: string) => `mcp-keycloak ${args}`;
const local = { port: 8080, runtime: 'distribution' as const, version: KEYCLOAK_VERSION };

describe('parseFeatures', () => {
  it('takes comma-separated names, spaces around them, version suffixes; drops duplicates, keeps order', () => {
    expect(parseFeatures('cimd,resource-indicators', '--features')).toEqual(['cimd', 'resource-indicators']);
    expect(parseFeatures(' cimd , resource-indicators ,cimd', '--features')).toEqual(['cimd', 'resource-indicators']);
    expect(parseFeatures('token-exchange:v1,admin_fine_grained_authz:v2,preview', '--features')).toEqual([
      'token-exchange:v1',
      'admin_fine_grained_authz:v2',
      'preview',
    ]);
  });

  it('reads none (any case) as no features', () => {
    expect(parseFeatures('none', 'KEYCLOAK_FEATURES')).toEqual([]);
    expect(parseFeatures(' NONE ', 'KEYCLOAK_FEATURES')).toEqual([]);
  });

  it('refuses none among other features: no features, or these? (review C)', () => {
    for (const value of ['none,cimd', 'cimd,None', 'none,none']) {
      expect(() => parseFeatures(value, '--features'), value).toThrow(
        new UsageError(
          `--features ${JSON.stringify(value)}: none means no features and stands alone; give none, or the features without it.`,
        ),
      );
    }
  });

  it.each([
    ['', 'an empty name'],
    ['cimd,', 'an empty name'],
    ['cimd,,dpop', 'an empty name'],
    ['cimd resource-indicators', '"cimd resource-indicators"'],
    ['cimd;rm -rf /', '"cimd;rm -rf /"'],
    ['-cimd', '"-cimd"'],
    ['cimd:2', '"cimd:2"'],
    ['cimd:v', '"cimd:v"'],
    ['--features=cimd', '"--features=cimd"'],
    ['bücher', '"bücher"'],
  ])('refuses %j with one line naming the source and the bad name', (value, named) => {
    let error: unknown;
    try {
      parseFeatures(value, '--features');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).toMatch(/^--features "/);
    expect(message).toContain(`${named} is not a Keycloak feature name`);
    expect(message).toContain('e.g. cimd,resource-indicators, or none');
    expect(message).not.toContain('\n');
  });

  it('never quotes a huge or control-character value back whole', () => {
    const message = (() => {
      try {
        parseFeatures(`${'a'.repeat(5000)}\n,x`, 'MCP_KEYCLOAK_FEATURES');
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message.startsWith('MCP_KEYCLOAK_FEATURES "')).toBe(true);
    expect(message.length).toBeLessThan(400);
    expect(message).not.toContain('\n');
  });
});

describe('comparing and showing feature lists', () => {
  it('sameFeatures ignores order and duplicates; absent is none', () => {
    expect(sameFeatures(['cimd', 'resource-indicators'], ['resource-indicators', 'cimd'])).toBe(true);
    expect(sameFeatures(['cimd', 'cimd'], ['cimd'])).toBe(true);
    expect(sameFeatures(undefined, [])).toBe(true);
    expect(sameFeatures(undefined, ['cimd'])).toBe(false);
    expect(sameFeatures(['cimd'], ['cimd', 'resource-indicators'])).toBe(false);
  });

  it('describeFeatures lists them, or says none', () => {
    expect(describeFeatures(['cimd', 'resource-indicators'])).toBe('cimd, resource-indicators');
    expect(describeFeatures([])).toBe('none');
    expect(describeFeatures(undefined)).toBe('none');
  });
});

describe('serverinfo names in kc.sh spelling', () => {
  it.each([
    ['CIMD', 'cimd'],
    ['RESOURCE_INDICATORS', 'resource-indicators'],
    ['ADMIN_FINE_GRAINED_AUTHZ_V2', 'admin-fine-grained-authz:v2'],
    ['TOKEN_EXCHANGE_STANDARD_V2', 'token-exchange-standard:v2'],
    ['DPOP', 'dpop'],
  ])('%s → %s', (name, key) => expect(featureKey(name)).toBe(key));

  it('enabledFeatures keeps only the enabled ones (as GET /admin/serverinfo lists them)', () => {
    expect(
      enabledFeatures([
        { name: 'CIMD', enabled: true },
        { name: 'RESOURCE_INDICATORS', enabled: false },
        { name: 'DPOP', enabled: true },
        { name: 'TOKEN_EXCHANGE' },
      ]),
    ).toEqual(['cimd', 'dpop']);
    expect(enabledFeatures(undefined)).toEqual([]);
  });
});

describe('start and restart commands', () => {
  it('the start command repeats port, runtime, a non-default version and the features', () => {
    expect(startArguments(local)).toBe('keycloak start --runtime distribution');
    expect(startArguments({ ...local, features: [] })).toBe('keycloak start --runtime distribution');
    expect(
      startArguments({
        ...local,
        port: 8081,
        runtime: 'docker',
        version: '26.6.1',
        features: ['cimd', 'resource-indicators'],
      }),
    ).toBe('keycloak start --port 8081 --runtime docker --keycloak-version 26.6.1 --features cimd,resource-indicators');
  });

  it('restartCommand stops it and starts it with exactly the features given', () => {
    expect(restartCommand({ ...local, features: ['resource-indicators'] }, ['cimd'], spell)).toBe(
      'mcp-keycloak keycloak stop && mcp-keycloak keycloak start --runtime distribution --features cimd',
    );
    expect(restartCommand({ ...local, features: ['cimd'] }, [], spell)).toBe(
      'mcp-keycloak keycloak stop && mcp-keycloak keycloak start --runtime distribution',
    );
  });

  it('restartWithFeaturesCommand keeps the features it has and adds the ones needed', () => {
    expect(restartWithFeaturesCommand(local, ['cimd'], spell)).toBe(
      'mcp-keycloak keycloak stop && mcp-keycloak keycloak start --runtime distribution --features cimd',
    );
    expect(
      restartWithFeaturesCommand(
        { ...local, port: 8081, features: ['resource-indicators'] },
        ['cimd', 'resource-indicators'],
        spell,
      ),
    ).toBe(
      'mcp-keycloak keycloak stop && mcp-keycloak keycloak start --port 8081 --runtime distribution --features resource-indicators,cimd',
    );
  });

  it('without a local Keycloak on record it is the start command alone', () => {
    expect(restartWithFeaturesCommand(undefined, ['cimd', 'resource-indicators'], spell)).toBe(
      'mcp-keycloak keycloak start --features cimd,resource-indicators',
    );
  });

  it('spells the program the way it was run by default (command() from src/ui/invocation.ts)', () => {
    const line = restartWithFeaturesCommand(local, ['cimd']);
    expect(line).toMatch(
      /^(node \S+|npx mcp-keycloak|mcp-keycloak) keycloak stop && \1 keycloak start --runtime distribution --features cimd$/,
    );
  });
});
