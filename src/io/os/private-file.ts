import { closeSync, openSync, renameSync, writeFileSync, fsyncSync } from 'node:fs';

/** Makes sure a state file exists with mode 0600 before a library opens it with its own default mode. */
export function createPrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
}

/** Replaces a small state file whole (mode 0600), so a reader never sees half of it. */
export function writePrivateFile(path: string, content: string): void {
  const temp = `${path}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeFileSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}
