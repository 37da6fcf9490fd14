import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { BerthError } from '../../errors.js';

/** Seqs reserved per write of the mark: one fsync per this many rows, not one per commit. */
const BLOCK = 4096;
/** Fixed width, so rewriting the mark in place never needs a new disk block. */
const WIDTH = 20;

/**
 * A high-water mark for `seq`, kept outside the database, as two numbers:
 *
 * - `reserved`, the highest seq that may have been handed out. It is reserved
 *   ahead in blocks and fsynced before any row carries a seq it covers, so a
 *   journal that is lost or emptied never makes seq go backwards; a crash leaves
 *   a gap of at most one block, never a reused seq.
 * - `published`, the highest seq that may have been announced (committed, then
 *   told to subscribers). It is written before each group commit is announced.
 *   A journal whose last row is below it was put back from an older copy (a
 *   backup): subscribers may have seen seqs it no longer holds.
 *
 * A mark holding one number (an older berth's, or one a user wrote) means both.
 */
export class SeqMark {
  private constructor(
    private readonly fd: number,
    private reserved: number,
    private announced: number,
  ) {}

  static open(path: string): SeqMark {
    const fd = openSync(path, 'a+', 0o600);
    const buffer = Buffer.alloc(2 * (WIDTH + 1));
    const text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString().trim();
    closeSync(fd);
    const [reserved = 0, published = reserved, ...rest] = text === '' ? [] : text.split(/\s+/).map(Number);
    const valid = [reserved, published].every((n) => Number.isSafeInteger(n) && n >= 0) && published <= reserved && rest.length === 0;
    if (!valid) {
      throw new BerthError('journal-corrupt', `seq mark ${path} is damaged (${JSON.stringify(text.slice(0, 44))}); it must hold the highest seq ever published — replace it with one number at least that high`);
    }
    return new SeqMark(openSync(path, 'r+'), reserved, published);
  }

  /** The highest seq that may have been handed out before. */
  get value(): number {
    return this.reserved;
  }

  /** The highest seq that may have been announced to a subscriber. */
  get published(): number {
    return this.announced;
  }

  /** Makes sure `seq` is covered by the mark on disk before it is used. */
  reserve(seq: number): void {
    if (seq > this.reserved) this.write(seq + BLOCK, this.announced, true);
  }

  /**
   * Records that rows up to `seq` are about to be announced. Not fsynced: a
   * crash of the process keeps it, and a power loss can only lose it together
   * with commits that SQLite (synchronous=NORMAL) had not synced either.
   */
  publish(seq: number): void {
    if (seq > this.announced) this.write(this.reserved, seq, false);
  }

  /** On a clean close: the mark comes back down to the last seq used, so the next open continues without a gap. */
  close(lastSeq: number): void {
    const last = Math.max(lastSeq, this.announced);
    try {
      if (last < this.reserved) this.write(last, last, true);
    } finally {
      closeSync(this.fd);
    }
  }

  private write(reserved: number, published: number, sync: boolean): void {
    writeSync(this.fd, `${String(reserved).padStart(WIDTH, '0')} ${String(published).padStart(WIDTH, '0')}\n`, 0);
    if (sync) fsyncSync(this.fd);
    this.reserved = reserved;
    this.announced = published;
  }
}
