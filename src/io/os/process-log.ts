import { rmSync, watch, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
// Observable alone, not rxjs's index: the CLI follows logs with this module, and starts faster without the rest.
import { Observable } from 'rxjs/internal/Observable';
import { asBerthError, BerthError } from '../../errors.js';
import { extent, generations, isLogFile, oldestKept, openGeneration, type Generation } from './log-generations.js';

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
 * Where decoding begins: at the log's first byte; at the start of a generation
 * (conmon rotates between whole lines, berth-shim at any byte); or anywhere.
 */
type Beginning = 'start' | 'generation' | 'anywhere';

/**
 * Turns a log's bytes, fed in pieces of any size, back into the text the process
 * wrote. k8s lines are taken apart as bytes and only their contents decoded, so
 * a multi-byte character that conmon split across two lines, or a read split
 * across two pieces, comes out whole.
 */
class LogDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private readonly utf8 = new StringDecoder('utf8');

  /** With `timestamps`, each line of a k8s log begins with the time conmon wrote it, and a space. */
  private lineBegins = true;

  /** Bytes that begin inside the log have what comes before their first whole piece dropped. */
  constructor(
    public format: LogFormat,
    private beginning: Beginning = 'start',
    private readonly timestamps = false,
  ) {}

  push(bytes: Buffer): string {
    if (this.beginning !== 'start') {
      const start = firstWholePiece(bytes, this.format, this.beginning);
      if (start < 0) return '';
      this.beginning = 'start';
      bytes = bytes.subarray(start);
    }
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    if (this.format === 'auto') {
      const firstLine = this.pending.indexOf(NEWLINE);
      if (firstLine < 0 && this.pending.length < AUTO_DETECT_BYTES) return '';
      const prefix = this.pending.subarray(0, firstLine < 0 ? 0 : firstLine).toString('latin1');
      this.format = K8S_PREFIX.test(prefix) ? 'k8s' : 'plain';
    }
    // A character not yet whole waits for its last bytes, so that `held` bytes are all that is not yet text.
    if (this.format === 'plain') return this.take(this.pending.length - incompleteTail(this.pending));
    // k8s: only whole lines can be taken apart; a line still being written waits.
    const end = this.pending.lastIndexOf(NEWLINE);
    return end < 0 ? '' : this.take(end + 1);
  }

  /** Bytes pushed but not yet given out as text: a k8s line or a character still being written. */
  get held(): number {
    return this.pending.length;
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
    const stamp = this.timestamps && this.lineBegins ? `${line.subarray(0, time).toString('latin1')} ` : '';
    const content = stamp + this.utf8.write(line.subarray(stream + 3));
    this.lineBegins = line[stream + 1] === 0x46; /* F */
    return this.lineBegins ? `${content}\n` : content;
  }
}

/** How many bytes at the end of `bytes` begin a UTF-8 character that is not complete yet (0 to 3). */
function incompleteTail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

/** Where the first whole line (k8s) or character (plain) starts in bytes read from inside a log; -1 if not in them. */
function firstWholePiece(bytes: Buffer, format: LogFormat, beginning: Beginning): number {
  if (format !== 'k8s') return bytes.findIndex((byte) => (byte & 0xc0) !== 0x80); // not a UTF-8 continuation byte
  if (beginning === 'generation') return 0;
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

/** Bytes a reader of a bounded log never got: from total offset `from` to `to`, rotated away before it read them. */
export interface LogGap {
  from: number;
  to: number;
}

/**
 * A reader's place in a log, a total offset, kept across rotations (see
 * log-generations.ts). The file being read stays open, so neither a rename nor
 * a removal takes its bytes away; once it is read to its end and a later
 * generation exists, it was complete, and the reader goes on with the file
 * that starts where it ended. Bytes rotated away before they were read are
 * reported as a LogGap, never skipped in silence.
 */
class LogCursor {
  private file: { handle: FileHandle; generation: Generation } | undefined;
  /** Where reading began: `position` if given, else the oldest byte kept when the log was first found. */
  began: number | undefined;
  private readonly hold: string | undefined;
  private readAny = false;

  /**
   * With `holds`, the cursor starts at the oldest byte kept now and keeps a hold
   * file (`<log>.hold-<pid>-<n>`) naming the start of the file it reads, from this
   * moment on: a writer that rotates (berth-shim) does not remove that file or a
   * later one while the hold moves on (see berth-shim.c).
   */
  constructor(
    private readonly path: string,
    private position?: number,
    holds = false,
  ) {
    if (holds) {
      this.hold = `${path}.hold-${process.pid}-${nextHold++}`;
      this.position = Math.max(position ?? 0, oldestKept(path));
      this.holdAt(this.position);
    }
    this.began = this.position;
  }

  private holdAt(start: number): void {
    try {
      if (this.hold) writeFileSync(this.hold, `${start}\n`, { mode: 0o600 });
    } catch (err) {
      // The container's directory is gone (deleted while followed): nothing writes there any more.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** What is written from the position on (up to `end`), generation after generation, a chunk at a time. */
  async *read(end = Infinity): AsyncGenerator<Buffer | LogGap> {
    for (;;) {
      if (!this.file) {
        this.file = await this.openAt();
        if (!this.file) return; // nothing written yet
        const { start } = this.file.generation;
        this.holdAt(start);
        if (this.position === undefined || (start > this.position && !this.readAny)) this.began = this.position = start; // not lost: never reached
        else if (start > this.position) {
          yield { from: this.position, to: start };
          this.position = start;
        }
      }
      yield* this.readFile(end);
      if (this.position! >= end || !(await this.hasLater())) return;
      yield* this.readFile(end); // what was written between our reaching its end and the rotation
      await this.close();
    }
  }

  /** The total offset read up to. */
  get offset(): number {
    return this.position ?? 0;
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.handle.close();
  }

  /** The end of reading: the file closed, and the hold given up. */
  async release(): Promise<void> {
    if (this.hold) rmSync(this.hold, { force: true });
    await this.close();
  }

  private async *readFile(end: number): AsyncGenerator<Buffer> {
    const { handle, generation } = this.file!;
    for await (const chunk of chunks(handle, this.position! - generation.start, end - generation.start)) {
      this.position! += chunk.length;
      this.readAny = true;
      yield chunk;
    }
  }

  /** The generation holding the position (the oldest kept if it is gone), opened; undefined if there is none. */
  private async openAt(): Promise<{ handle: FileHandle; generation: Generation } | undefined> {
    for (let tries = 0; tries < 100; tries++) {
      const found = await generations(this.path);
      if (found.length === 0) return undefined;
      const position = this.position ?? found[0]!.start;
      const generation = [...found].reverse().find((g) => g.start <= position) ?? found[0]!;
      const handle = await openGeneration(generation); // undefined: rotated meanwhile, look again
      if (handle) return { handle, generation };
    }
    return undefined;
  }

  /** Whether a generation after the one being read exists: then that one is complete. */
  private async hasLater(): Promise<boolean> {
    const { start } = this.file!.generation;
    return (await generations(this.path)).some((g) => g.start > start);
  }
}

let nextHold = 1;

const isGap = (piece: Buffer | LogGap): piece is LogGap => !Buffer.isBuffer(piece);

/**
 * What a process wrote and its log still keeps, when that is at most
 * MAX_LOGS_BYTES (a `too-large` error otherwise); with `tailBytes`, the text of
 * the last `tailBytes` bytes kept, from its first whole line or character. Should
 * rotation remove what was about to be read, the text starts after that instead:
 * it is always one unbroken piece of the output.
 */
export async function readLog({ path, format }: LogFile, tailBytes?: number): Promise<string> {
  const found = await generations(path);
  const { oldest, end } = extent(found);
  if (tailBytes === undefined && end - oldest > MAX_LOGS_BYTES) {
    throw new BerthError(
      'too-large',
      `the output is ${end - oldest} bytes, more than logs() returns (${MAX_LOGS_BYTES}): stream it with output(), or ask for its end with { tailBytes }`,
    );
  }
  const from = Math.max(oldest, end - (tailBytes ?? end));
  const cursor = new LogCursor(path, from);
  let decoder = new LogDecoder(format, beginningAt(from, found.some((g) => g.start === from)));
  let text = '';
  try {
    for await (const piece of cursor.read(end)) {
      if (isGap(piece)) {
        text = '';
        decoder = new LogDecoder(decoder.format, 'generation');
      } else text += decoder.push(piece);
    }
    return text + decoder.end();
  } finally {
    await cursor.close();
  }
}

const beginningAt = (offset: number, generationStart: boolean): Beginning => (offset === 0 ? 'start' : generationStart ? 'generation' : 'anywhere');

/** What a follower of a log is told when it fell so far behind that bytes it had not read were rotated away. */
function outputLost(path: string, gap: LogGap): BerthError {
  return new BerthError(
    'output-lost',
    `${gap.to - gap.from} bytes of ${path} (total offsets ${gap.from} to ${gap.to}) were rotated away before they were read: the reader fell further behind than the log keeps`,
  );
}

/** A piece of a process's output, and the total log offset just past the bytes it came from: a follower that stopped there resumes there. */
export interface LogPiece {
  text: string;
  offset: number;
}

/**
 * A process's output as it is written, from the oldest byte its log keeps (or
 * from `from`, an offset a LogPiece gave): the log's files are followed with
 * inotify on their directory (they may not exist yet), never polled, across
 * rotations. Once `until` settles (the process has exited), the log is read to
 * its end and the stream completes, so nothing written before the exit is
 * missed. Multi-byte characters split across reads come out whole. Bytes
 * rotated away before they were read end the stream with `output-lost`, unless
 * `onGap` is given: then it is told, and reading goes on.
 */
export function followLogPieces(
  path: string,
  format: LogFormat,
  until: Promise<unknown>,
  options: { from?: number; onGap?: (gap: LogGap) => void; timestamps?: boolean } = {},
): Observable<LogPiece> {
  const { from, onGap } = options;
  return new Observable<LogPiece>((subscriber) => {
    const cursor = new LogCursor(path, from, true);
    let decoder: LogDecoder | undefined;
    const gap = (piece: LogGap): void => {
      if (!onGap) throw outputLost(path, piece);
      onGap(piece);
    };
    if (from !== undefined && cursor.offset > from) gap({ from, to: cursor.offset }); // rotated away before the follower came back
    /** Reads what is new, a chunk at a time, each passed on as it is read. */
    const drain = async (): Promise<void> => {
      for await (const piece of cursor.read()) {
        if (subscriber.closed) return;
        decoder ??= new LogDecoder(format, beginningAt(cursor.began ?? 0, true), options.timestamps);
        if (isGap(piece)) {
          gap(piece);
          decoder = new LogDecoder(decoder.format, 'generation', options.timestamps);
          continue;
        }
        const text = decoder.push(piece);
        if (text !== '') subscriber.next({ text, offset: cursor.offset - decoder.held });
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
      if (isLogFile(path, file)) void pump();
    });
    watcher.unref();
    watcher.on('error', () => watcher.close()); // the directory went away with its container: `until` still ends the stream
    void pump();
    const finish = async (): Promise<void> => {
      await pump();
      const rest = decoder?.end() ?? '';
      if (rest !== '' && !subscriber.closed) subscriber.next({ text: rest, offset: cursor.offset });
      subscriber.complete();
      await cursor.release();
    };
    until.then(finish, finish);
    return () => {
      watcher.close();
      void cursor.release();
    };
  });
}

/** followLogPieces from the oldest byte kept, as text only. */
export function followLog(
  path: string,
  format: LogFormat,
  until: Promise<unknown>,
  onGap?: (gap: LogGap) => void,
  options: { timestamps?: boolean } = {},
): Observable<string> {
  return new Observable<string>((subscriber) =>
    followLogPieces(path, format, until, { onGap, timestamps: options.timestamps }).subscribe({
      next: ({ text }) => subscriber.next(text),
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.complete(),
    }),
  );
}
