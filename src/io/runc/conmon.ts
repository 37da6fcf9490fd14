import type { ShimClient } from '../process/shim-client.js';

/**
 * Starts conmon and waits for its word on the sync pipe (fd 3, `_OCI_SYNCPIPE`):
 * `{"data": <pid>}` once runc has created the container or exec'd the process,
 * or `{"data": -1, "message": "<runc's error>"}`. conmon is launched by
 * berth-shim's zygote, which keeps the sync pipe open: conmon writes to it again
 * when an exec ends, and a pipe whose reader died with the supervisor would kill
 * it with SIGPIPE before it recorded the exit. conmon runs in `cwd`, where it
 * drops an `oom` file whenever it sees the OOM killer act. conmon daemonises; the process it
 * leaves monitors the container, writes its exit status to the exit dir and keeps
 * it alive whatever happens to the supervisor.
 */
export async function launchConmon(shim: ShimClient, conmonPath: string, args: string[], cwd: string, timeoutMs: number): Promise<number> {
  let said: string;
  try {
    said = await shim.launchSynced([conmonPath, ...args], { ...process.env, _OCI_SYNCPIPE: '3' }, cwd, timeoutMs);
  } catch (err) {
    throw new Error(`the shim (conmon) ${(err as Error).message}`);
  }
  let message: { data?: unknown; message?: unknown };
  try {
    message = JSON.parse(said) as typeof message;
  } catch {
    throw new Error(`the shim (conmon) said something that is not its sync message: ${JSON.stringify(said.slice(0, 200))}`);
  }
  if (Number.isSafeInteger(message.data) && (message.data as number) > 0) return message.data as number;
  throw new Error(runcError(typeof message.message === 'string' ? message.message : 'conmon reported a failure without a message'));
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
