import { watch } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Observable } from 'rxjs';
import { asBerthError, BerthError } from '../../errors.js';

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
 * Logs are read in pieces this large, each awaited: however much a process
 * prints, the supervisor never holds it all, nor stops its event loop to read it.
 */
const CHUNK_BYTES = 256 * 1024;
/** The most `logs()` returns; more is streamed with `output()`, or its end asked for with `tailBytes`. */
export const MAX_LOGS_BYTES = 16 * 1024 * 1024;
/** A k8s line's prefix is short: this much without a newline is plain output. */
const AUTO_DETECT_BYTES = 64 * 1024;

/**
 * Turns a log's bytes, fed in pieces of any size, back into the text the process
 * wrote. k8s lines are taken apart as bytes and only their contents decoded, so
 * a multi-byte character that conmon split across two lines, or a read split
 * across two pieces, comes out whole.
 */
class LogDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private readonly utf8 = new StringDecoder('utf8');

  /** `midway`: the bytes start somewhere inside the log, so what comes before the first whole piece is dropped. */
  constructor(
    private format: LogFormat,
    private midway = false,
  ) {}

  push(bytes: Buffer): string {
    if (this.midway) {
      const start = firstWholePiece(bytes, this.format);
      if (start < 0) return '';
      this.midway = false;
      bytes = bytes.subarray(start);
    }
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    if (this.format === 'auto') {
      const firstLine = this.pending.indexOf(NEWLINE);
      if (firstLine < 0 && this.pending.length < AUTO_DETECT_BYTES) return '';
      const prefix = this.pending.subarray(0, firstLine < 0 ? 0 : firstLine).toString('latin1');
      this.format = K8S_PREFIX.test(prefix) ? 'k8s' : 'plain';
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

/** Where the first whole line (k8s) or character (plain) starts in bytes read from inside a log; -1 if not in them. */
function firstWholePiece(bytes: Buffer, format: LogFormat): number {
  if (format !== 'k8s') return bytes.findIndex((byte) => (byte & 0xc0) !== 0x80); // not a UTF-8 continuation byte
  const newline = bytes.indexOf(NEWLINE);
  return newline < 0 ? -1 : newline + 1;
}

/** A file's bytes from `offset` on (up to `end`), in bounded chunks, each read without blocking. */
async function* chunks(file: FileHandle, offset: number, end = Infinity): AsyncGenerator<Buffer> {
  const buffer = Buffer.alloc(CHUNK_BYTES);
  while (offset < end) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(CHUNK_BYTES, end - offset), offset);
    if (bytesRead === 0) return;
    offset += bytesRead;
    yield Buffer.from(buffer.subarray(0, bytesRead));
  }
}

const openIfPresent = (path: string): Promise<FileHandle | undefined> => open(path, 'r').catch(() => undefined);

/**
 * What a process wrote so far, when that is at most MAX_LOGS_BYTES of log (a
 * `too-large` error otherwise); with `tailBytes`, the text of the log's last
 * `tailBytes` bytes, from its first whole line or character.
 */
export async function readLog({ path, format }: LogFile, tailBytes?: number): Promise<string> {
  const file = await openIfPresent(path);
  if (!file) return '';
  try {
    const { size } = await file.stat();
    if (tailBytes === undefined && size > MAX_LOGS_BYTES) {
      throw new BerthError(
        'too-large',
        `the output is ${size} bytes, more than logs() returns (${MAX_LOGS_BYTES}): stream it with output(), or ask for its end with { tailBytes }`,
      );
    }
    const from = Math.max(0, size - (tailBytes ?? size));
    const decoder = new LogDecoder(format, from > 0);
    let text = '';
    for await (const chunk of chunks(file, from, size)) text += decoder.push(chunk);
    return text + decoder.end();
  } finally {
    await file.close();
  }
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
    let offset = 0;
    /** Reads what is new, a chunk at a time, each passed on as it is read. */
    const drain = async (): Promise<void> => {
      const file = await openIfPresent(path); // not written yet, or removed with its container
      if (!file) return;
      try {
        for await (const chunk of chunks(file, offset)) {
          if (subscriber.closed) return;
          offset += chunk.length;
          const text = decoder.push(chunk);
          if (text !== '') subscriber.next(text);
        }
      } finally {
        await file.close();
      }
    };
    // One drain at a time, in order; a change seen meanwhile makes the running one go round again.
    let draining: Promise<void> | undefined;
    let changed = false;
    const drainWhileChanged = async (): Promise<void> => {
      try {
        while (changed) {
          changed = false;
          await drain();
        }
      } catch (err) {
        subscriber.error(asBerthError(err));
      } finally {
        draining = undefined;
      }
    };
    const pump = (): Promise<void> => {
      changed = true;
      draining ??= drainWhileChanged();
      return draining;
    };
    const watcher = watch(dirname(path), (_, file) => {
      if (file === basename(path)) void pump();
    });
    watcher.unref();
    watcher.on('error', () => watcher.close()); // the directory went away with its container: `until` still ends the stream
    void pump();
    const finish = async (): Promise<void> => {
      await pump();
      const rest = decoder.end();
      if (rest !== '' && !subscriber.closed) subscriber.next(rest);
      subscriber.complete();
    };
    until.then(finish, finish);
    return () => watcher.close();
  });
}
