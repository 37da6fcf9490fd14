import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { writePrivateFile } from '../io/os/private-file.js';

/**
 * Asks the desktop to open the viewer, without putting its token on a command
 * line (which every local user can read in /proc): xdg-open gets a page in the
 * state dir (0700, the page 0600) that forwards the browser to the address, as
 * Jupyter does. No desktop, no harm: the address is printed anyway.
 */
export function openViewer(stateDir: string, url: string): void {
  const page = join(resolve(stateDir), 'viewer.html');
  const href = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  writePrivateFile(page, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${href}"><title>berth viewer</title><a href="${href}">berth viewer</a>\n`);
  spawn('xdg-open', [page], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
}
