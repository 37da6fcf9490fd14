/** How many checks a sweep makes before it lets the event loop run. */
const SLICE = 100;

const nextTurn = () => new Promise<void>((done) => setImmediate(done));

/**
 * Rounds of checks over a set that changes meanwhile (the live processes a
 * watchdog looks after), at most `perTick` checks per tick, in slices between
 * which the event loop runs. Up to `perTick` items, a round takes one tick;
 * beyond, a round spans several, so watching thousands of processes costs a
 * bounded share of a core, and never holds up API calls for long. `round` is
 * read lazily, as a Map's iterator is: what is added or removed meanwhile is
 * seen, or not, as that iterator sees it.
 */
export class Sweep<T> {
  private current: Iterator<T> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly round: () => Iterable<T>,
    private readonly check: (item: T) => void,
    private readonly perTick: number,
  ) {}

  /** Goes on with the round (or begins the next), unless the last tick's checks are still running. */
  tick(): void {
    if (this.running || this.stopped) return;
    this.running = this.run().finally(() => (this.running = undefined));
  }

  private async run(): Promise<void> {
    for (let done = 1; done <= this.perTick && !this.stopped; done++) {
      this.current ??= this.round()[Symbol.iterator]();
      const next = this.current.next();
      if (next.done) {
        this.current = undefined; // the next round begins at the next tick
        return;
      }
      this.check(next.value);
      if (done % SLICE === 0) await nextTurn();
    }
  }

  /** No check after this resolves. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
