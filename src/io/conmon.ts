import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * Starts conmon and waits for its word on the sync pipe (fd 3, `_OCI_SYNCPIPE`):
 * `{"data": <pid>}` once runc has created the container or exec'd the process,
 * or `{"data": -1, "message": "<runc's error>"}`. conmon daemonises; the process
 * it leaves behind monitors the container, writes its exit status to the exit
 * dir and keeps it alive whatever happens to the supervisor.
 */
export function launchConmon(conmonPath: string, args: string[], timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    // No stderr pipe: conmon outlives this call, and a write to a pipe nobody reads would kill it (SIGPIPE).
    const child = spawn(conmonPath, args, {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      detached: true,
    });
    const sync = child.stdio[3] as Readable;
    let text = '';
    let settled = false;
    const finish = (error: Error | undefined, pid?: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sync.destroy();
      child.unref();
      if (error) reject(error);
      else resolve(pid!);
    };
    const timer = setTimeout(() => {
      // A hung shim is killed (its own process group), not left behind.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      finish(new Error(`the shim (conmon) did not report within ${timeoutMs} ms and was killed`));
    }, timeoutMs);
    child.once('error', (err) => finish(err));
    sync.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const message = firstMessage(text);
      if (!message) return;
      if (message.data > 0) finish(undefined, message.data);
      else finish(new Error(runcError(message.message ?? 'conmon reported a failure without a message')));
    });
    sync.once('end', () => finish(new Error('conmon exited without reporting a pid')));
  });
}

function firstMessage(text: string): { data: number; message?: string } | undefined {
  const end = text.indexOf('}');
  if (end < 0) return undefined;
  try {
    return JSON.parse(text.slice(0, end + 1)) as { data: number; message?: string };
  } catch {
    return undefined;
  }
}

/** runc logs `time=… level=error msg="…"`: keep what it said, unescaped. */
export function runcError(text: string): string {
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
  if (msg === undefined) return text.trim();
  try {
    return JSON.parse(`"${msg}"`) as string;
  } catch {
    return msg;
  }
}
