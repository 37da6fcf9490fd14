import { closeSync, openSync, readSync, watch } from 'node:fs';
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

const NEWLINE = 0x0a;
const K8S_PREFIX = /^\S+ (?:stdout|stderr) [PF]( |$)/;

/**
 * Turns a log's bytes, fed in pieces of any size, back into the text the process
 * wrote. k8s lines are taken apart as bytes and only their contents decoded, so
 * a multi-byte character that conmon split across two lines, or a read split
 * across two pieces, comes out whole.
 */
class LogDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private readonly utf8 = new StringDecoder('utf8');

  constructor(private format: LogFormat) {}

  push(bytes: Buffer): string {
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    if (this.format === 'auto') {
      const firstLine = this.pending.indexOf(NEWLINE);
      if (firstLine < 0) return '';
      this.format = K8S_PREFIX.test(this.pending.subarray(0, firstLine).toString('latin1')) ? 'k8s' : 'plain';
    }
    if (this.format === 'plain') return this.take(this.pending.length);
    // k8s: only whole lines can be taken apart; a line still being written waits.
    const end = this.pending.lastIndexOf(NEWLINE);
    return end < 0 ? '' : this.take(end + 1);
  }

  /** What is left once nothing more will be written, a last line without its newline included. */
  end(): string {
    if (this.format === 'auto') this.format = 'plain';
    return this.take(this.pending.length) + this.utf8.end();
  }

  private take(length: number): string {
    const bytes = this.pending.subarray(0, length);
    this.pending = this.pending.subarray(length);
    if (this.format === 'plain') return this.utf8.write(bytes);
    let text = '';
    for (let start = 0; start < bytes.length; ) {
      const newline = bytes.indexOf(NEWLINE, start);
      const stop = newline < 0 ? bytes.length : newline;
      text += this.k8sLine(bytes.subarray(start, stop));
      start = stop + 1;
    }
    return text;
  }

  /** `<time> <stdout|stderr> <P|F> <content>`: F ends a line, P is a piece of one. */
  private k8sLine(line: Buffer): string {
    const time = line.indexOf(0x20);
    const stream = line.indexOf(0x20, time + 1);
    if (time < 0 || stream < 0 || !K8S_PREFIX.test(line.subarray(0, stream + 3).toString('latin1'))) return '';
    const content = this.utf8.write(line.subarray(stream + 3));
    return line[stream + 1] === 0x46 /* F */ ? `${content}\n` : content;
  }
}

/** Everything a process wrote so far. */
export async function readLog({ path, format }: LogFile): Promise<string> {
  const decoder = new LogDecoder(format);
  const bytes = await readFile(path).catch(() => Buffer.alloc(0));
  return decoder.push(bytes) + decoder.end();
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
    const buffer = Buffer.alloc(64 * 1024);
    let offset = 0;
    const pump = (): void => {
      if (subscriber.closed) return;
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch {
        return; // not written yet, or removed with its container
      }
      let out = '';
      try {
        let got: number;
        while ((got = readSync(fd, buffer, 0, buffer.length, offset)) > 0) {
          offset += got;
          out += decoder.push(Buffer.from(buffer.subarray(0, got)));
        }
      } finally {
        closeSync(fd);
      }
      if (out !== '') subscriber.next(out);
    };
    const watcher = watch(dirname(path), (_, file) => {
      if (file === basename(path)) pump();
    });
    watcher.unref();
    watcher.on('error', () => watcher.close()); // the directory went away with its container: `until` still ends the stream
    pump();
    const finish = (): void => {
      pump();
      const rest = decoder.end();
      if (rest !== '' && !subscriber.closed) subscriber.next(rest);
      subscriber.complete();
    };
    until.then(finish, finish);
    return () => watcher.close();
  });
}
