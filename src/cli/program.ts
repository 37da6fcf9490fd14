import { join } from 'node:path';
import { Command, Option } from 'commander';

/** The options every command shares, given before the command's name. */
export interface Globals {
  stateDir: string;
  runtime: 'process' | 'runc';
  logLevel: string;
  json?: boolean;
}

function defaultStateDir(): string {
  if (process.getuid?.() === 0) return '/run/berth';
  return join(process.env.XDG_RUNTIME_DIR ?? join(process.env.HOME ?? '/tmp', '.local/state'), 'berth');
}

/** The root command: global options only; each command adds itself (src/cli/commands). */
export const program = new Command('berth')
  .description('Supervise processes and containers: every start, exec and exit journaled exactly once, in order.')
  .option('--state-dir <dir>', 'where the journal and container state live', defaultStateDir())
  .addOption(new Option('--runtime <runtime>', 'process (plain processes) or runc (OCI bundles)').choices(['process', 'runc']).default('process'))
  .addOption(new Option('--log-level <level>', 'pino log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('warn'))
  .option('--json', 'machine-readable output')
  .showHelpAfterError();

export const globals = (): Globals => program.opts<Globals>();
