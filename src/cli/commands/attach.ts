import type { LogGap } from '../../io/os/process-log.js';
import type { ExitInfo } from '../../types.js';
import type { Backend } from '../backend.js';
import { processLogPath } from '../log-path.js';
import { globals } from '../program.js';

/** Output written to stdout but not yet taken by its reader, past which the log is no longer read. */
const UNWRITTEN_BYTES = 4 * 1024 * 1024;

/** `run --json` and `exec --json`: one JSON object a line, `type` saying which (start, output, exit). */
export const jsonLine = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

/**
 * Copies a process's output to stdout as it is written (with --json, as `output`
 * lines), until stopped. The CLI reads the log file directly, daemon or not (both
 * runtimes keep it at the same place; its format is told by its first line, since
 * a daemon's runtime is its own).
 */
export function showOutput(id: string, processId: string): { stop(): Promise<void> } {
  const path = processLogPath(globals().stateDir, id, processId);
  const write = globals().json ? (text: string) => jsonLine({ type: 'output', id, processId, text }) : (text: string) => process.stdout.write(text);
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  // A follower that fell behind a bounded log's rotation says so where the output is cut, and goes on.
  const lost = ({ from, to }: LogGap) => process.stderr.write(`\nberth: ${to - from} bytes of output were rotated away before they could be shown\n`);
  // Loaded only by the commands that show output; it reads from the oldest byte kept, so starting a moment later misses nothing.
  const copied = import('../../io/os/process-log.js').then(
    ({ followLogPieces }) =>
      new Promise<void>((resolve, reject) => {
        // A reader slower than the process (a pipe into `less`) stops the reading of the log, not the
        // process: past UNWRITTEN_BYTES not yet taken, following stops, and goes on from that offset on 'drain'.
        let from: number | undefined;
        const follow = (): void => {
          const subscription = followLogPieces(path, 'auto', stopped, { from, onGap: lost }).subscribe({
            next: ({ text, offset }) => {
              from = offset;
              write(text);
              if (process.stdout.writableLength <= UNWRITTEN_BYTES) return;
              subscription.unsubscribe();
              process.stdout.once('drain', follow);
            },
            error: reject,
            complete: resolve,
          });
        };
        follow();
      }),
  );
  copied.catch(() => undefined); // failing before stop() is called is not unhandled: stop() reports it
  return {
    stop: () => {
      stop();
      return copied;
    },
  };
}

/**
 * Starts a process with `begin`. Detached, reports it with `started` and returns.
 * Otherwise shows its output as it is written (from before it starts, so none is
 * missed; with --json, from once it has started, so the `start` line comes first)
 * and returns its exit once it has ended and everything it wrote is shown.
 */
export async function attach(
  b: Backend,
  id: string,
  processId: string,
  begin: () => Promise<{ pid: number }>,
  detach: boolean | undefined,
  started: (pid: number) => void,
): Promise<ExitInfo | undefined> {
  const json = globals().json === true;
  let tail = detach || json ? undefined : showOutput(id, processId);
  try {
    const { pid } = await begin();
    if (detach) {
      started(pid);
      return undefined;
    }
    if (json) {
      jsonLine({ type: 'start', id, processId, pid });
      tail = showOutput(id, processId);
    }
    return await b.wait(id, processId);
  } finally {
    await tail?.stop();
  }
}
