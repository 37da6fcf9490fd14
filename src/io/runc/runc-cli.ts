import { execFile, execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { BerthError } from '../../errors.js';
import { runcError } from './conmon.js';

/** The runc command line: every call with the supervisor's global runc arguments (its `--root`). */
export class RuncCli {
  constructor(
    readonly path: string,
    readonly globalArgs: string[],
  ) {}

  /** runc's stdout; a failure is a BerthError with runc's own words. */
  run(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(this.path, [...this.globalArgs, ...args], (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const said = runcError(stderr) || err.message;
        // The container stopped under us (init died an instant ago): a state error, not a runtime failure.
        const code = /container not running|container is not running|is stopped/.test(said) ? 'invalid-state' : 'runtime-error';
        reject(new BerthError(code, `runc ${args[0]}: ${said}`));
      });
      if (input !== undefined) child.stdin!.end(input);
    });
  }

  /** A container's status (`created`, `running`, ...), or undefined if runc does not know it. */
  status(id: string): string | undefined {
    try {
      const out = execFileSync(this.path, [...this.globalArgs, 'state', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return (JSON.parse(out) as { status?: string }).status;
    } catch {
      return undefined;
    }
  }

  /** runc's containers (`runc list`), or none if runc cannot list them: then nothing is removed. */
  async list(): Promise<{ id: string; bundle: string }[]> {
    const listed = parseJsonOr(await this.run(['list', '--format', 'json']).catch(() => 'null'));
    return Array.isArray(listed)
      ? listed.filter((c): c is { id: string; bundle: string } => typeof c?.id === 'string' && typeof c?.bundle === 'string')
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
