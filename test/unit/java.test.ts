/** A missing or too old Java is one sentence saying which versions work and how to get one. */
import { mkdtemp, mkdir, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkJava } from '../../src/local/launcher.js';

async function fakeJavaHome(versionLine: string): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'java-home-'));
  await mkdir(join(home, 'bin'));
  // A stand-in `java` that prints what a real one prints for -version (on stderr).
  await writeFile(join(home, 'bin', 'java'), `#!/bin/sh\necho '${versionLine}' >&2\n`);
  await chmod(join(home, 'bin', 'java'), 0o755);
  return home;
}

describe('checkJava', () => {
  it('names the versions that work when no Java is found', async () => {
    await expect(checkJava({ JAVA_HOME: '/nonexistent/jdk' })).rejects.toThrow(
      /^Java was not found: Keycloak needs Java 17, 21 or 25\. Install one/,
    );
  });

  it('refuses a Java that is too old', async () => {
    const home = await fakeJavaHome('openjdk version "11.0.2" 2019-01-15');
    await expect(checkJava({ JAVA_HOME: home })).rejects.toThrow(
      /^Java 11 is too old: Keycloak needs Java 17, 21 or 25/,
    );
  });

  it('accepts the machine Java', async () => {
    expect(Number(await checkJava({}))).toBeGreaterThanOrEqual(17);
  });
});
