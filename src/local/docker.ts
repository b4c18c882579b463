/**
 * The Docker runtime for `keycloak start`: the official image, published on 127.0.0.1 only, data in a
 * named volume so realms survive `stop`. Used only when a Docker engine answers (`docker info`).
 */
import { spawn } from 'node:child_process';
import { CliError } from '../errors.js';
import { run, which } from './process.js';

export const DATA_VOLUME = 'mcp-keycloak-data';

/** True when a docker CLI exists and an engine behind it answers within a few seconds. */
export async function dockerAnswers(): Promise<boolean> {
  if (!(await which('docker'))) return false;
  return new Promise((resolve) => {
    const child = spawn('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore' });
    const timer = setTimeout(() => {
      child.kill();
      resolve(false);
    }, 5000);
    child.once('error', () => resolve(false));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

export interface DockerStart {
  name: string;
  image: string;
  port: number;
  adminUsername: string;
  adminPassword: string;
  /** Keycloak features to enable: `--features=…` is appended to the container command. */
  features?: readonly string[];
}

/** `docker run -d`; the password reaches the container through the environment, never argv. */
export async function startContainer(options: DockerStart): Promise<void> {
  await run('docker', ['rm', '-f', options.name]).catch(() => undefined);
  await run(
    'docker',
    [
      'run',
      '-d',
      '--name',
      options.name,
      '-p',
      `127.0.0.1:${options.port}:8080`,
      '-v',
      `${DATA_VOLUME}:/opt/keycloak/data`,
      '-e',
      'KC_BOOTSTRAP_ADMIN_USERNAME',
      '-e',
      'KC_BOOTSTRAP_ADMIN_PASSWORD',
      options.image,
      'start-dev',
      ...(options.features?.length ? [`--features=${options.features.join(',')}`] : []),
    ],
    {
      ...process.env,
      KC_BOOTSTRAP_ADMIN_USERNAME: options.adminUsername,
      KC_BOOTSTRAP_ADMIN_PASSWORD: options.adminPassword,
    },
  ).catch((error: Error) => {
    throw new CliError(
      `docker run ${options.image} failed: ${error.message.split('\n').find((l) => l.trim()) ?? 'unknown error'}`,
    );
  });
}

/** Whether the Docker container `name` exists and runs. */
export async function containerRunning(name: string): Promise<boolean> {
  try {
    const { stdout } = await run('docker', ['inspect', '-f', '{{.State.Running}}', name]);
    return stdout.trim() === 'true';
  } catch {
    return false;
  }
}

/** Removes the container `name` (stopping it first); quiet when there is none. */
export async function removeContainer(name: string): Promise<void> {
  await run('docker', ['rm', '-f', name]).catch(() => undefined);
}

/** Copies the container's log into `logFile` (mode 0600), for the error message that points at it. */
export async function containerLogs(name: string, logFile: string): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  const { stdout, stderr } = await run('docker', ['logs', name]).catch(() => ({ stdout: '', stderr: '' }));
  await writeFile(logFile, `${stdout}${stderr}`, { mode: 0o600 });
}
