import type { Command } from 'commander';
import { BerthError } from '../../errors.js';
import { daemonBackend } from '../daemon-backend.js';
import { openViewer } from '../open-viewer.js';
import { globals } from '../program.js';
import { stopSignal, withBackend } from './shared.js';

export function viewerCommand(program: Command): void {
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
        openViewer(globals().stateDir, url);
        return;
      }
      // Daemonless: this command holds the state dir and serves the viewer until interrupted.
      await withBackend(
        async (b) => {
          console.log(await b.viewerUrl());
          await stopSignal();
        },
        { inspect: true, serve: true },
      );
    });
}
