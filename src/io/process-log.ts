import { closeSync, existsSync, openSync, readSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Observable } from 'rxjs';

/**
 * How a process's captured stdout and stderr are stored: `plain` is what it
 * wrote (process runtime); `k8s` is conmon's k8s-file format (runc), one
 * `<RFC3339 time> <stdout|stderr> <P|F> <content>` line per piece, where F ends a
 * line and P is a partial one. `auto` tells them apart by the first line.
 */
export type LogFormat = 'plain' | 'k8s' | 'auto';

export interface LogFile {
  path: string;
  format: Exclude<LogFormat, 'auto'>;
}

const K8S_LINE = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/;

/** One k8s-file line back into what was written: F ends a line, P is a piece of one. */
function decodeK8sLine(line: string): string {
  const match = K8S_LINE.exec(line);
  if (!match) return '';
  return match[1] === 'F' ? `${match[2]}\n` : match[2]!;
}

/** Turns a log's text, fed in pieces of any size, back into what the process wrote. */
class LogDecoder {
  private pending = '';

  constructor(private format: LogFormat) {}

  push(text: string): string {
    this.pending += text;
    if (this.format === 'auto') {
      const firstLine = this.pending.indexOf('\n');
      if (firstLine < 0) return '';
      this.format = K8S_LINE.test(this.pending.slice(0, firstLine)) ? 'k8s' : 'plain';
    }
    if (this.format === 'plain') {
      const out = this.pending;
      this.pending = '';
      return out;
    }
    // k8s: only whole lines can be decoded; a line still being written waits.
    const end = this.pending.lastIndexOf('\n');
    if (end < 0) return '';
    const out = this.pending.slice(0, end).split('\n').map(decodeK8sLine).join('');
    this.pending = this.pending.slice(end + 1);
    return out;
  }

  /** What is left once nothing more will be written: a last line without its newline. */
  end(): string {
    const rest = this.pending;
    this.pending = '';
    return this.format === 'k8s' ? decodeK8sLine(rest) : rest;
  }
}

/** Everything a process wrote so far. */
export async function readLog({ path, format }: LogFile): Promise<string> {
  const decoder = new LogDecoder(format);
  const text = await readFile(path, 'utf8').catch(() => '');
  return decoder.push(text) + decoder.end();
}

/**
 * A process's output as it is written: the log file is followed with inotify on
 * its directory (it may not exist yet), never polled. Once `until` settles (the
 * process has exited), the file is read to its end and the stream completes, so
 * nothing written before the exit is missed. Multi-byte characters split across
 * reads come out whole.
 */
export function followLog(path: string, format: LogFormat, until: Promise<unknown>): Observable<string> {
  return new Observable<string>((subscriber) => {
    const decoder = new LogDecoder(format);
    const utf8 = new StringDecoder('utf8');
    const buffer = Buffer.alloc(64 * 1024);
    let offset = 0;
    const pump = (): void => {
      if (subscriber.closed || !existsSync(path)) return;
      let text = '';
      const fd = openSync(path, 'r');
      try {
        let got: number;
        while ((got = readSync(fd, buffer, 0, buffer.length, offset)) > 0) {
          offset += got;
          text += utf8.write(buffer.subarray(0, got));
        }
      } finally {
        closeSync(fd);
      }
      const out = decoder.push(text);
      if (out !== '') subscriber.next(out);
    };
    const watcher = watch(dirname(path), (_, file) => {
      if (file === basename(path)) pump();
    });
    watcher.unref();
    pump();
    const finish = (): void => {
      pump();
      const rest = decoder.push(utf8.end()) + decoder.end();
      if (rest !== '' && !subscriber.closed) subscriber.next(rest);
      subscriber.complete();
    };
    until.then(finish, finish);
    return () => watcher.close();
  });
}
