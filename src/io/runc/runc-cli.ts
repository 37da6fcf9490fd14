import { setMaxListeners } from 'node:events';
import { resolve } from 'node:path';
import { execa } from 'execa';
import { BerthError } from '../../errors.js';
import { runcError } from './conmon.js';

/** How long one runc call may take by default before it is killed and fails. */
export const RUNC_TIMEOUT_MS = 30_000;

/** The most of runc's stderr a failure's message carries. */
const MAX_SAID = 2_000;

/**
 * The runc command line: every call with the supervisor's global runc arguments
 * (its `--root`), run asynchronously (a runc that hangs never blocks the event
 * loop), killed after its timeout, and cancelled when the runtime closes.
 */
export class RuncCli {
  private readonly closing = new AbortController();

  constructor(
    readonly path: string,
    readonly globalArgs: string[],
    readonly timeoutMs: number = RUNC_TIMEOUT_MS,
  ) {
    // Each call in flight listens for the cancel: twenty containers at once are not a leak.
    setMaxListeners(0, this.closing.signal);
  }

  /** runc's stdout; a failure, a timeout or a cancel is a BerthError with runc's own words, bounded. */
  async run(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const result = await execa(this.path, [...this.globalArgs, ...args], {
      input: options.input ?? '',
      timeout: timeoutMs,
      cancelSignal: this.closing.signal,
      killSignal: 'SIGKILL',
      reject: false,
    });
    if (!result.failed) return result.stdout;
    const verb = `runc ${args[0]}`;
    if (result.isCanceled) throw new BerthError('closed', `${verb} was cancelled: the supervisor is closing`);
    if (result.timedOut) throw new BerthError('runtime-error', `${verb} did not finish within ${timeoutMs} ms and was killed`);
    const said = bounded(runcError(result.stderr) || (result.shortMessage ?? 'failed'));
    // The container stopped under us (init died an instant ago): a state error, not a runtime failure.
    const code = /container not running|container is not running|is stopped/.test(said) ? 'invalid-state' : 'runtime-error';
    throw new BerthError(code, `${verb}: ${said}`);
  }

  /** Ends every runc call still running (they fail with `closed`), and any made after. */
  close(): void {
    this.closing.abort();
  }

  /** runc's containers (`runc list`) with their status, or none if runc cannot list them: then nothing is removed. */
  async list(): Promise<{ id: string; bundle: string; status: string }[]> {
    const listed = parseJsonOr(await this.run(['list', '--format', 'json']).catch(() => 'null'));
    return Array.isArray(listed)
      ? listed.filter(
          (c): c is { id: string; bundle: string; status: string } =>
            typeof c?.id === 'string' && typeof c?.bundle === 'string' && typeof c?.status === 'string',
        )
      : [];
  }

  /** SIGKILLs every process of a container, once runc confirms that its container of that id is this one (its bundle is ours). */
  async killAll(id: string, bundle: string): Promise<void> {
    const known = parseJsonOr(await this.run(['state', id]).catch(() => 'null')) as { bundle?: unknown } | null | undefined;
    if (known?.bundle === bundle) await this.run(['kill', '--all', id, 'KILL']).catch(() => undefined);
  }

  /** runc's state root: the global args' `--root`, or runc's default. */
  root(): string {
    const at = this.globalArgs.indexOf('--root');
    const inline = this.globalArgs.find((arg) => arg.startsWith('--root='));
    return resolve(at >= 0 && this.globalArgs[at + 1] ? this.globalArgs[at + 1]! : (inline?.slice('--root='.length) ?? '/run/runc'));
  }
}

function bounded(text: string): string {
  return text.length <= MAX_SAID ? text : `${text.slice(0, MAX_SAID)}… (${text.length - MAX_SAID} more characters)`;
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** JSON that runc or berth wrote; anything else is a runtime error saying where it came from, never a crash. */
export function parseJson(text: string, from: string): unknown {
  const parsed = parseJsonOr(text);
  if (parsed === undefined) throw new BerthError('runtime-error', `${from}: not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  return parsed;
}
