import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { BerthError } from '../../errors.js';

/** Seqs reserved per write of the mark: one fsync per this many rows, not one per commit. */
const BLOCK = 4096;
/** Fixed width, so rewriting the mark in place never needs a new disk block. */
const WIDTH = 20;

/**
 * A high-water mark for `seq`, kept outside the database: a journal that is
 * lost, emptied or replaced by an older copy can never make seq go backwards,
 * since the next seq is always above both the database's and this mark. It is
 * reserved ahead in blocks; a crash leaves a gap of at most one block, never a
 * reused seq.
 */
export class SeqMark {
  private constructor(
    private readonly fd: number,
    private reserved: number,
  ) {}

  static open(path: string): SeqMark {
    const fd = openSync(path, 'a+', 0o600);
    const buffer = Buffer.alloc(WIDTH + 1);
    const text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString().trim();
    const reserved = text === '' ? 0 : Number(text);
    if (!Number.isSafeInteger(reserved) || reserved < 0) {
      closeSync(fd);
      throw new BerthError('journal-corrupt', `seq mark ${path} is damaged (${JSON.stringify(text.slice(0, 40))}); it must hold the highest seq ever published — write a number at least that high into it`);
    }
    closeSync(fd);
    return new SeqMark(openSync(path, 'r+'), reserved);
  }

  /** The highest seq that may have been handed out before. */
  get value(): number {
    return this.reserved;
  }

  /** Makes sure `seq` is covered by the mark on disk before it is used. */
  reserve(seq: number): void {
    if (seq > this.reserved) this.write(seq + BLOCK);
  }

  /** On a clean close: the mark comes back down to the last seq used, so the next open continues without a gap. */
  close(lastSeq: number): void {
    try {
      if (lastSeq < this.reserved) this.write(lastSeq);
    } finally {
      closeSync(this.fd);
    }
  }

  private write(value: number): void {
    writeSync(this.fd, `${String(value).padStart(WIDTH, '0')}\n`, 0);
    fsyncSync(this.fd);
    this.reserved = value;
  }
}
