/**
 * Ctrl-C while a local Keycloak starts. Keycloak runs detached (its own process group, so it survives
 * the CLI), which also means the terminal's SIGINT never reaches it: without this, an interrupted
 * start would leave it running. The signal stops the download, spawns nothing more and stops what
 * was spawned; the command then ends with exit code 130 like any interrupted command, through the
 * normal error path instead of process.exit().
 */
import { CliError, ExitCode } from '../errors.js';

/** Runs `work` with a signal that SIGINT aborts; once `work` has cleaned up, an aborted run is exit code 130. */
export async function interruptible<T>(
  work: (signal: AbortSignal) => Promise<T>,
  message = 'Interrupted: whatever this command had started of Keycloak was stopped.',
): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return await work(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw new CliError(message, ExitCode.interrupted, { cause: error });
    throw error;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
