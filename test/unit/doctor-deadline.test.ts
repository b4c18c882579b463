/**
 * doctor's runner under its deadline (src/keycloak/bounds.ts, issue #19): a check that waits on something no
 * request signal reaches (the MCP SDK's own timer) still ends at the deadline and fails with the reason, and
 * the checks not started yet fail as one `deadline` finding instead of running or passing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { endRunDeadline, startRunDeadline } from '../../src/keycloak/bounds.js';
import { runChecks } from '../../src/doctor/runner.js';
import type { Check, DoctorInput } from '../../src/doctor/types.js';
import { pass } from '../../src/findings.js';

const input = { secrets: {} } as unknown as DoctorInput;
const quick = (id: string): Check => ({ id, title: id, run: async () => [pass(`${id}.ok`, id)] });
let started: string[] = [];
const tracked = (check: Check): Check => ({ ...check, run: (i, s) => (started.push(check.id), check.run(i, s)) });

afterEach(() => {
  endRunDeadline();
  started = [];
});

describe('runChecks under a deadline', () => {
  it('ends a check that never settles at the deadline, and reports the checks after it as not run', async () => {
    const hanging: Check = { id: 'hangs', title: 'Hanging check', run: () => new Promise(() => undefined) };
    startRunDeadline(100, "doctor's deadline", '6 × --timeout');
    const begun = Date.now();
    const { findings } = await runChecks(input, [quick('first'), hanging, quick('later'), quick('last')].map(tracked));
    expect(Date.now() - begun).toBeLessThan(1000);
    expect(started).toEqual(['first', 'hangs']);
    expect(findings.map((f) => [f.id, f.status])).toEqual([
      ['first.ok', 'pass'],
      ['hangs.error', 'fail'],
      ['deadline', 'fail'],
    ]);
    expect(findings[1]!.actual).toBe("doctor's deadline of 0.1 s (6 × --timeout) passed");
    expect(findings[2]!.title).toBe("2 check(s) not run: doctor's deadline of 0.1 s (6 × --timeout) passed");
    expect(findings[2]!.actual).toBe('not run: later, last');
  });

  it('changes nothing while the deadline is ahead', async () => {
    startRunDeadline(60_000, "doctor's deadline", '6 × --timeout');
    const { findings } = await runChecks(input, [quick('a'), quick('b')]);
    expect(findings.map((f) => f.status)).toEqual(['pass', 'pass']);
  });
});
