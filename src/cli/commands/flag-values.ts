import { InvalidArgumentError } from 'commander';

/**
 * Parsers for flag values: a value that does not fit is a usage error
 * (commander's, exit 2) before anything runs, never a value read some other way.
 */
export function seconds(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value * 1000 > 2 ** 31 - 1) throw new InvalidArgumentError('it must be a number of seconds (0 or more)');
  return value;
}

export function count(text: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError('it must be a whole number (0 or more)');
  return value;
}

/** A byte size: a whole number, with k, m or g for KiB, MiB or GiB. */
export function bytes(text: string): number {
  const match = /^(\d+)([kmg]?)b?$/i.exec(text);
  const value = match ? Number(match[1]) * 1024 ** ' kmg'.indexOf((match[2] || ' ').toLowerCase()) : NaN;
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError('it must be a size in bytes, like 512m or 1g');
  return value;
}

/** A time, as ISO 8601 (or anything Date reads). */
export function time(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('it must be a time (ISO 8601, like 2026-01-31T12:00:00Z)');
  return date;
}
