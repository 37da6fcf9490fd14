import { join } from 'node:path';
import type { Command } from 'commander';
import { BerthError } from '../../errors.js';
import type { ExitInfo } from '../../types.js';
import { validateId, validateProcessId } from '../../validate.js';
import type { Backend } from '../backend.js';
import { daemonBackend } from '../daemon-backend.js';
import { globals } from '../program.js';
import { daemonWentAway, untilConnected } from '../reconnect.js';
import { runtimeFor } from '../state-runtime.js';
import { jsonLine, showOutput } from './attach.js';
import { count, time } from './flag-values.js';
import { withBackend } from './shared.js';

interface LogsFlags {
  process: string;
  follow?: boolean;
  tail?: number;
  since?: Date;
  timestamps?: boolean;
}

/**
 * `b.wait`, carried across daemon restarts: when the daemon goes away, waits
 * (however long) for one to serve the state dir again and asks it.
 */
async function waitAcrossRestarts(b: Backend, id: string, processId: string): Promise<ExitInfo> {
  let backend = b;
  try {
    for (;;) {
      try {
        return await backend.wait(id, processId);
      } catch (err) {
        if (!daemonWentAway(err)) throw err;
        if (backend !== b) await backend.close();
        backend = (await untilConnected(() => daemonBackend(globals().stateDir), 'the berth daemon', () => false))!;
      }
    }
  } finally {
    if (backend !== b) await backend.close();
  }
}

/**
 * The log's lines, each with the time conmon wrote it when `times`, read from
 * its files (the CLI's, daemon or not) until `until` settles and the log is
 * read to its end. A last line without its newline counts as a line.
 */
async function eachLine(id: string, processId: string, until: Promise<unknown>, times: boolean, line: (time: string | undefined, text: string) => void): Promise<void> {
  validateId(id, 'container');
  validateProcessId(processId);
  const path = join(globals().stateDir, 'containers', id, `${processId}.log`);
  const lost = () => process.stderr.write('berth: some output was rotated away before it could be shown\n');
  let partial = '';
  const split = (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const whole of lines) {
      const at = times ? whole.indexOf(' ') : -1;
      line(times ? whole.slice(0, at) : undefined, whole.slice(at + 1));
    }
  };
  // Loaded only when following: a command served by a daemon loads no rxjs otherwise.
  const [{ lastValueFrom, tap }, { followLog }] = await Promise.all([import('rxjs'), import('../../io/os/process-log.js')]);
  await lastValueFrom(followLog(path, 'auto', until, lost, { timestamps: times }).pipe(tap(split)), { defaultValue: undefined });
  if (partial) split('\n');
}

/** --tail, --since, --timestamps and --json: the log taken line by line. */
async function showLines(b: Backend, id: string, flags: LogsFlags): Promise<void> {
  const times = Boolean(flags.since || flags.timestamps);
  if (times && runtimeFor(globals().stateDir, globals().runtime) !== 'runc') {
    throw new BerthError('unsupported', "--since and --timestamps need the time of each line, which only the runc runtime's logs keep (the process runtime keeps output as written)");
  }
  const kept = (time: string | undefined) => !flags.since || new Date(time!) >= flags.since;
  const show = (time: string | undefined, text: string) => {
    if (globals().json) jsonLine(time === undefined ? { text } : { time, text });
    else process.stdout.write(`${flags.timestamps ? `${time} ` : ''}${text}\n`);
  };
  const { tail } = flags;
  if (tail !== undefined && !flags.follow) {
    const last: [string | undefined, string][] = [];
    await eachLine(id, flags.process, Promise.resolve(), times, (time, text) => {
      if (kept(time)) last.push([time, text]);
      if (last.length > tail) last.shift();
    });
    return last.forEach(([time, text]) => show(time, text));
  }
  // Following from the last `tail` lines: a first read counts them, the follower skips the rest.
  let skip = 0;
  if (tail !== undefined) await eachLine(id, flags.process, Promise.resolve(), times, (time) => void (kept(time) && skip++));
  skip = Math.max(0, skip - (tail ?? skip));
  const until = flags.follow ? waitAcrossRestarts(b, id, flags.process) : Promise.resolve();
  await eachLine(id, flags.process, until, times, (time, text) => {
    if (!kept(time)) return;
    if (skip > 0) skip--;
    else show(time, text);
  });
}

export function logsCommand(program: Command): void {
  program
    .command('logs <id>')
    .description('captured stdout and stderr of a process')
    .option('-p, --process <processId>', 'init or an exec id', 'init')
    .option('-f, --follow', 'keep printing as the process writes, until it exits (across daemon restarts)')
    .option('-n, --tail <lines>', 'only the last lines', count)
    .option('--since <time>', 'only lines written from this time on (ISO 8601; runc)', time)
    .option('-t, --timestamps', 'begin each line with the time it was written (runc)')
    .action(async (id: string, flags: LogsFlags) => {
      await withBackend(async (b) => {
        await b.logs(id, flags.process, { tailBytes: 1 }); // not-found, before following anything
        if (flags.tail === undefined && !flags.since && !flags.timestamps && !globals().json) {
          if (!flags.follow) return void process.stdout.write(await b.logs(id, flags.process));
          const tail = showOutput(id, flags.process);
          try {
            await waitAcrossRestarts(b, id, flags.process);
          } finally {
            await tail.stop();
          }
          return;
        }
        await showLines(b, id, flags);
      });
    });
}
