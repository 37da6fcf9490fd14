#!/usr/bin/env node
/**
 * berth's command line, over the same API as the library: through `berth daemon`
 * when one serves the state dir, otherwise by opening the state dir itself.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import ora from 'ora';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { firstValueFrom, fromEvent, lastValueFrom, merge, take, takeUntil, tap } from 'rxjs';
import { BerthError, isBerthError } from '../errors.js';
import { followLog } from '../io/os/process-log.js';
import { EVENT_TYPES, type BerthEvent, type EventType, type EventsQuery, type ExitInfo } from '../types.js';
import type { Backend } from './backend.js';
import { runDaemon } from './daemon.js';
import { daemonBackend } from './daemon-backend.js';
import { localBackend } from './local-backend.js';
import { containersTable, eventLine } from './output.js';

interface Globals {
  stateDir: string;
  runtime: 'process' | 'runc';
  logLevel: string;
  json?: boolean;
}

function defaultStateDir(): string {
  if (process.getuid?.() === 0) return '/run/berth';
  return join(process.env.XDG_RUNTIME_DIR ?? join(process.env.HOME ?? '/tmp', '.local/state'), 'berth');
}

function logger(level: string): Logger {
  // Pretty and synchronous on a terminal (no worker thread to outlive the command); JSON lines otherwise.
  return process.stderr.isTTY ? pino({ level }, pretty({ destination: 2, sync: true })) : pino({ level }, pino.destination(2));
}

const program = new Command('berth')
  .description('Supervise processes and containers: every start, exec and exit journaled exactly once, in order.')
  .option('--state-dir <dir>', 'where the journal and container state live', defaultStateDir())
  .addOption(new Option('--runtime <runtime>', 'process (plain processes) or runc (OCI bundles)').choices(['process', 'runc']).default('process'))
  .addOption(new Option('--log-level <level>', 'pino log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('warn'))
  .option('--json', 'machine-readable output')
  .showHelpAfterError();

const globals = (): Globals => program.opts<Globals>();

/** Runs `fn` against the daemon if one serves the state dir, else against the state dir directly. */
async function withBackend<T>(fn: (backend: Backend) => Promise<T>, extra: { inspect?: boolean; serve?: boolean } = {}): Promise<T> {
  const { stateDir, runtime, logLevel } = globals();
  let backend = await daemonBackend(stateDir);
  if (!backend) {
    try {
      backend = await localBackend({ stateDir, runtime, logger: logger(logLevel), inspect: extra.inspect }, extra.serve);
    } catch (err) {
      if (isBerthError(err, 'locked')) {
        throw new BerthError('locked', `${err.message}, which is not a berth daemon: stop it, or run \`berth daemon\` so that commands can share the state dir`);
      }
      throw err;
    }
  }
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

/**
 * Copies a process's output to stdout as it is written, until stopped. The CLI
 * reads the log file directly, daemon or not (both runtimes keep it at the same
 * place; its format is told by its first line, since a daemon's runtime is its own).
 */
function showOutput(id: string, processId: string): { stop(): Promise<void> } {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const path = join(globals().stateDir, 'containers', id, `${processId}.log`);
  const copied = lastValueFrom(followLog(path, 'auto', stopped).pipe(tap((text) => process.stdout.write(text))), { defaultValue: undefined });
  return {
    stop: () => {
      stop();
      return copied.then(() => undefined);
    },
  };
}

/**
 * Starts a process with `begin`. Detached, reports it with `started` and returns.
 * Otherwise shows its output as it is written (from before it starts, so none is
 * missed) and returns its exit once it has ended and everything it wrote is shown.
 */
async function attach(
  b: Backend,
  id: string,
  processId: string,
  begin: () => Promise<{ pid: number }>,
  detach: boolean | undefined,
  started: (pid: number) => void,
): Promise<ExitInfo | undefined> {
  const tail = detach || globals().json ? undefined : showOutput(id, processId);
  try {
    const { pid } = await begin();
    if (detach) {
      started(pid);
      return undefined;
    }
    return await b.wait(id, processId);
  } finally {
    await tail?.stop();
  }
}

/** SIGINT (Ctrl-C) or SIGTERM: a command that runs until told to stop then ends cleanly, socket and lock released. */
const stopSignal = () => merge(fromEvent(process, 'SIGINT'), fromEvent(process, 'SIGTERM')).pipe(take(1));

const print = (value: unknown, human: () => string) => console.log(globals().json ? JSON.stringify(value, null, 2) : human());

function parsePairs(pairs: string[] = [], what: string): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new BerthError('invalid-spec', `${what} must look like KEY=VALUE, got ${JSON.stringify(pair)}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface CreateFlags {
  bundle?: string;
  label?: string[];
  env?: string[];
  cwd?: string;
}

function createOptions(id: string, command: string[], flags: CreateFlags) {
  const labels = parsePairs(flags.label, '--label');
  if (flags.bundle) return { id, bundle: flags.bundle, labels };
  if (command.length === 0) throw new BerthError('invalid-spec', 'give a command after --, or --bundle for runc');
  return { id, labels, process: { args: command, env: parsePairs(flags.env, '--env'), cwd: flags.cwd } };
}

function withSpinner<T>(text: string, work: Promise<T>): Promise<T> {
  const quiet = !process.stderr.isTTY || globals().json === true;
  const spinner = ora({ text, stream: process.stderr, isSilent: quiet }).start();
  return work.finally(() => spinner.stop());
}

const createFlags = (command: Command) =>
  command
    .option('--bundle <dir>', 'OCI bundle (runc runtime)')
    .option('--label <key=value>', 'label the container (repeatable)', collect)
    .option('--env <KEY=VALUE>', 'environment for the process (repeatable)', collect)
    .option('--cwd <dir>', 'working directory of the process');

createFlags(program.command('run <id> [command...]').description('create and start a container; wait for it and exit with its status unless --detach'))
  .option('-d, --detach', 'return once started')
  .option('--rm', 'delete the container once it has exited')
  .action(async (id: string, command: string[], flags: CreateFlags & { detach?: boolean; rm?: boolean }) => {
    const status = await withBackend(async (b) => {
      await withSpinner(flags.bundle ? `creating ${id} from ${flags.bundle}` : `creating ${id}`, b.create(createOptions(id, command, flags)));
      const exit = await attach(b, id, 'init', () => b.start(id), flags.detach, (pid) => print({ id, pid }, () => `${id} started, pid ${pid}`));
      if (!exit) return 0;
      if (flags.rm) await b.delete(id);
      if (globals().json) print(exit, () => '');
      return exit.status;
    });
    process.exitCode = status;
  });

createFlags(program.command('create <id> [command...]').description('create a container (init not started)')).action(
  async (id: string, command: string[], flags: CreateFlags) => {
    await withBackend((b) => withSpinner(`creating ${id}`, b.create(createOptions(id, command, flags))));
    print({ id }, () => id);
  },
);

program
  .command('start <id>')
  .description("start a created container's init")
  .action(async (id: string) => {
    const { pid } = await withBackend((b) => b.start(id));
    print({ id, pid }, () => `${id} started, pid ${pid}`);
  });

program
  .command('exec <id> <command...>')
  .description('run another process in a running container; wait for it and exit with its status unless --detach')
  .requiredOption('--exec-id <execId>', 'name of the exec')
  .option('-d, --detach', 'return once started')
  .option('--env <KEY=VALUE>', 'environment (repeatable)', collect)
  .option('--cwd <dir>', 'working directory')
  .action(async (id: string, command: string[], flags: { execId: string; detach?: boolean; env?: string[]; cwd?: string }) => {
    const status = await withBackend(async (b) => {
      const spec = { execId: flags.execId, args: command, env: parsePairs(flags.env, '--env'), cwd: flags.cwd };
      const exit = await attach(b, id, flags.execId, () => b.exec(id, spec), flags.detach, (pid) =>
        print({ id, execId: flags.execId, pid }, () => `${flags.execId} started in ${id}, pid ${pid}`),
      );
      if (!exit) return 0;
      if (globals().json) print(exit, () => '');
      return exit.status;
    });
    process.exitCode = status;
  });

program
  .command('kill <id>')
  .description('send a signal to a process (default: init)')
  .option('-s, --signal <signal>', 'name or number', 'SIGTERM')
  .option('-p, --process <processId>', 'init or an exec id', 'init')
  .action(async (id: string, flags: { signal: string; process: string }) => {
    const signal = /^\d+$/.test(flags.signal) ? Number(flags.signal) : flags.signal;
    await withBackend((b) => b.signal(id, flags.process, signal));
  });

program
  .command('stop <id>')
  .description('SIGTERM, then SIGKILL after --timeout seconds; waits for the exit')
  .option('-t, --timeout <seconds>', 'grace period', '10')
  .action(async (id: string, flags: { timeout: string }) => {
    const exit = await withBackend(async (b) => {
      await b.signal(id, 'init', 'SIGTERM');
      const exited = b.wait(id);
      const grace = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), Number(flags.timeout) * 1000).unref());
      const first = await withSpinner(`stopping ${id} (SIGKILL in ${flags.timeout}s)`, Promise.race([exited, grace]));
      if (first === 'timeout') await b.signal(id, 'init', 'SIGKILL').catch(() => undefined);
      return exited;
    });
    print(exit, () => `${id} exited with status ${exit.status}${exit.signal ? ` (${exit.signal})` : ''}`);
  });

for (const [name, description] of [
  ['pause', 'freeze every process of a container'],
  ['resume', 'thaw a paused container'],
] as const) {
  program
    .command(`${name} <id>`)
    .description(description)
    .action(async (id: string) => withBackend((b) => b[name](id)));
}

program
  .command('ps')
  .alias('list')
  .description('list containers')
  .action(async () => {
    const containers = await withBackend((b) => b.list());
    print(containers, () => containersTable(containers));
  });

program
  .command('inspect <id>')
  .description("a container's full record, as JSON")
  .action(async (id: string) => {
    const info = await withBackend((b) => b.get(id));
    console.log(JSON.stringify(info, null, 2));
  });

program
  .command('logs <id>')
  .description('captured stdout and stderr of a process')
  .option('-p, --process <processId>', 'init or an exec id', 'init')
  .option('-f, --follow', 'keep printing as the process writes, until it exits')
  .action(async (id: string, flags: { process: string; follow?: boolean }) => {
    if (!flags.follow) {
      process.stdout.write(await withBackend((b) => b.logs(id, flags.process)));
      return;
    }
    await withBackend(async (b) => {
      await b.logs(id, flags.process, { tailBytes: 1 }); // not-found, before following anything
      const tail = showOutput(id, flags.process);
      try {
        await b.wait(id, flags.process);
      } finally {
        await tail.stop();
      }
    });
  });

program
  .command('delete <id>')
  .alias('rm')
  .description('delete a created or exited container (--force kills a live one first)')
  .option('-f, --force', 'kill it first if it is still running')
  .action(async (id: string, flags: { force?: boolean }) => withBackend((b) => b.delete(id, { force: flags.force })));

program
  .command('events')
  .description('the journal: stored rows, then live ones with --follow')
  .option('--since <time>', 'rows from this time on (ISO 8601)')
  .option('--after <seq>', 'rows after this seq')
  .option('--id <id>', 'one container only')
  .addOption(new Option('--type <type>', 'only this type (repeatable)').choices(EVENT_TYPES as string[]).argParser(collect))
  .option('-f, --follow', 'keep printing new rows (across daemon restarts)')
  .action(async (flags: { since?: string; after?: string; id?: string; type?: string[]; follow?: boolean }) => {
    const query: EventsQuery = { storedOnly: !flags.follow };
    if (flags.after !== undefined) query.after = Number(flags.after);
    else query.since = flags.since ? new Date(flags.since) : new Date(0);
    if (flags.since && Number.isNaN(query.since?.getTime())) throw new BerthError('invalid-spec', `--since ${flags.since} is not a time`);
    if (flags.id) query.id = flags.id;
    if (flags.type) query.types = flags.type as EventType[];
    const show = (e: BerthEvent) => console.log(globals().json ? JSON.stringify(e) : eventLine(e));
    const interrupted = stopSignal();
    await withBackend(
      (b) => lastValueFrom(b.events(query).pipe(takeUntil(interrupted), tap(show)), { defaultValue: undefined }),
      { serve: flags.follow },
    );
  });

program
  .command('daemon')
  .description('keep a supervisor open and serve commands on <state-dir>/berth.sock (mode 0600)')
  .option('--inspect', 'also serve the live viewer (loopback)')
  .action(async (flags: { inspect?: boolean }) => {
    const { stateDir, runtime, logLevel } = globals();
    const log = logger(logLevel === 'warn' ? 'info' : logLevel);
    const stop = await runDaemon({ stateDir, runtime, logger: log, inspect: flags.inspect }, log);
    if (globals().json) console.log(JSON.stringify({ ready: true, pid: process.pid }));
    await firstValueFrom(stopSignal());
    await stop();
  });

program
  .command('viewer')
  .description("print (and try to open) the live viewer's address")
  .action(async () => {
    const daemon = await daemonBackend(globals().stateDir);
    if (daemon) {
      const url = await daemon.viewerUrl();
      await daemon.close();
      if (!url) throw new BerthError('unsupported', 'the daemon serves no viewer: start it with `berth daemon --inspect`');
      console.log(url);
      spawn('xdg-open', [url], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
      return;
    }
    // Daemonless: this command holds the state dir and serves the viewer until interrupted.
    await withBackend(
      async (b) => {
        console.log(await b.viewerUrl());
        await firstValueFrom(stopSignal());
      },
      { inspect: true, serve: true },
    );
  });

try {
  await program.parseAsync();
} catch (err) {
  // One clear line, never a stack trace; exit codes a script can rely on.
  const code = isBerthError(err) ? ` (${err.code})` : '';
  console.error(`berth: ${(err as Error).message}${code}`);
  process.exitCode = isBerthError(err, 'not-found') ? 3 : 1;
}
