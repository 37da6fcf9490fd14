import { CommanderError } from 'commander';
import { isBerthError } from '../errors.js';

/**
 * How a command that failed ends: exit 2 for a usage error (commander's: a
 * missing argument, an unknown option or command, a bad flag value), 3 for
 * not-found, 1 for any other error. One line on stderr, plus a hint for a usage
 * error; with --json, `{ code, message }` instead, the exit code the same.
 */
export const EXIT_USAGE = 2;
export const EXIT_NOT_FOUND = 3;

/** Where the usage hint points: the command being parsed, if commander got that far. */
export function reportFailure(err: unknown, json: boolean, command: string | undefined): number {
  if (err instanceof CommanderError) {
    // --help, --version, or `berth` alone (the help, on stderr): commander has printed what there is to say.
    if (err.exitCode === 0 || err.code === 'commander.help') return err.exitCode;
    const message = err.message.replace(/^error: /, '').replace(/\n/g, ' '); // one line, commander's suggestion included
    const help = command ? `berth ${command} --help` : 'berth --help';
    write(json, { code: 'usage', message }, `berth: ${message}\nRun '${help}' for usage.`);
    return EXIT_USAGE;
  }
  const code = isBerthError(err) ? err.code : 'runtime-error';
  const message = (err as Error).message;
  write(json, { code, message }, `berth: ${message}${isBerthError(err) ? ` (${code})` : ''}`);
  return isBerthError(err, 'not-found') ? EXIT_NOT_FOUND : 1;
}

function write(json: boolean, data: { code: string; message: string }, text: string): void {
  process.stderr.write(`${json ? JSON.stringify(data) : text}\n`);
}
