import { closeSync, existsSync, openSync, readSync, watch, type FSWatcher } from 'node:fs';
import { dirname, basename } from 'node:path';

const K8S_LINE = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/;

/**
 * Copies a process's log to stdout as it grows (inotify, no polling), so `berth
 * run` shows output live. conmon's k8s-file lines (runc) are turned back into
 * what the process wrote; the process runtime's logs are plain already.
 */
export function tailLog(path: string, write: (text: string) => void = (t) => process.stdout.write(t)): { stop(): void } {
  let offset = 0;
  let pending = '';
  let k8s: boolean | undefined;
  const pump = (): void => {
    if (!existsSync(path)) return;
    const fd = openSync(path, 'r');
    try {
      const chunk = Buffer.alloc(64 * 1024);
      let got: number;
      while ((got = readSync(fd, chunk, 0, chunk.length, offset)) > 0) {
        offset += got;
        pending += chunk.subarray(0, got).toString();
      }
    } finally {
      closeSync(fd);
    }
    k8s ??= pending.length > 0 ? K8S_LINE.test(pending.split('\n')[0]!) : undefined;
    if (k8s === false) {
      write(pending);
      pending = '';
      return;
    }
    const end = pending.lastIndexOf('\n');
    if (end < 0) return;
    for (const line of pending.slice(0, end).split('\n')) {
      const match = K8S_LINE.exec(line);
      if (match) write(match[1] === 'F' ? `${match[2]}\n` : match[2]!);
    }
    pending = pending.slice(end + 1);
  };
  // Watch the directory: the log file may not exist yet.
  const watcher: FSWatcher = watch(dirname(path), (_, file) => {
    if (file === basename(path)) pump();
  });
  watcher.unref();
  pump();
  return {
    stop: () => {
      watcher.close();
      pump();
    },
  };
}
