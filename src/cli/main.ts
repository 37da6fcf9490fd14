#!/usr/bin/env node
/**
 * berth's command line, over the same API as the library: through `berth daemon`
 * when one serves the state dir, otherwise by opening the state dir itself.
 * Each command lives in src/cli/commands; this file only assembles them.
 */
import { completionCommand } from './commands/completion.js';
import { createCommand } from './commands/create.js';
import { daemonCommand } from './commands/daemon.js';
import { deleteCommand } from './commands/delete.js';
import { eventsCommand } from './commands/events.js';
import { execCommand } from './commands/exec.js';
import { inspectCommand } from './commands/inspect.js';
import { killCommand } from './commands/kill.js';
import { logsCommand } from './commands/logs.js';
import { pauseCommands } from './commands/pause.js';
import { pruneCommand } from './commands/prune.js';
import { psCommand } from './commands/ps.js';
import { runCommand } from './commands/run.js';
import { startCommand } from './commands/start.js';
import { statsCommand } from './commands/stats.js';
import { stopCommand } from './commands/stop.js';
import { topCommand } from './commands/top.js';
import { updateCommand } from './commands/update.js';
import { viewerCommand } from './commands/viewer.js';
import { waitCommand } from './commands/wait.js';
import { reportFailure } from './failure.js';
import { commandBeingParsed, globals, program } from './program.js';

// In the order `berth --help` lists them.
for (const add of [
  runCommand, createCommand, startCommand, execCommand, killCommand, stopCommand, waitCommand, pauseCommands, updateCommand,
  psCommand, inspectCommand, topCommand, statsCommand, logsCommand, deleteCommand, pruneCommand, eventsCommand,
  daemonCommand, viewerCommand, completionCommand,
]) {
  add(program);
}

try {
  await program.parseAsync();
} catch (err) {
  // One clear line, never a stack trace; exit codes a script can rely on.
  process.exitCode = reportFailure(err, globals().json === true, commandBeingParsed());
}
