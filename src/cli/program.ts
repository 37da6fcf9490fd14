import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';

/** The options every command shares, given before the command's name. */
export interface Globals {
  stateDir: string;
  /** Unset unless given: the state dir's own runtime then applies (state-runtime.ts). */
  runtime?: 'process' | 'runc';
  logLevel: string;
  json?: boolean;
}

function defaultStateDir(): string {
  if (process.getuid?.() === 0) return '/run/berth';
  return join(process.env.XDG_RUNTIME_DIR ?? join(process.env.HOME ?? '/tmp', '.local/state'), 'berth');
}

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The command commander is parsing, once it has got that far: usage hints name it. */
let parsing: string | undefined;
export const commandBeingParsed = () => parsing;

/**
 * The root command: global options only; each command adds itself (src/cli/commands).
 * Commander throws instead of exiting and prints nothing itself: main.ts reports
 * every failure one way (failure.ts). Commands added later inherit both settings.
 */
export const program = new Command('berth')
  .description('Supervise processes and containers: every start, exec and exit journaled exactly once, in order.')
  .version(version, '-V, --version')
  .option('--state-dir <dir>', 'where the journal and container state live', defaultStateDir())
  .addOption(new Option('--runtime <runtime>', "process (plain processes) or runc (OCI bundles); default: the state dir's, else process").choices(['process', 'runc']))
  .addOption(new Option('--log-level <level>', 'pino log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('warn'))
  .option('--json', 'machine-readable output, errors included ({code, message} on stderr)')
  .exitOverride()
  .configureOutput({ outputError: () => undefined })
  .hook('preSubcommand', (_root, command) => {
    parsing = command.name();
  });

export const globals = (): Globals => program.opts<Globals>();
