/** Debounced calls: each `schedule` of a key replaces the call pending for it (timers injectable for tests). */

export interface Timers {
  set(run: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (run, ms) => setTimeout(run, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class Debouncer<K = string> {
  private readonly pending = new Map<K, unknown>();

  constructor(private readonly ms: number, private readonly timers: Timers = realTimers) {}

  /** Runs `run` once `ms` have passed without another `schedule` of the same key. */
  schedule(key: K, run: () => void, ms = this.ms): void {
    this.cancel(key);
    this.pending.set(key, this.timers.set(() => {
      this.pending.delete(key);
      run();
    }, ms));
  }

  cancel(key: K): void {
    if (this.pending.has(key)) this.timers.clear(this.pending.get(key));
    this.pending.delete(key);
  }

  cancelAll(): void {
    for (const key of [...this.pending.keys()]) this.cancel(key);
  }

  isPending(key: K): boolean {
    return this.pending.has(key);
  }
}
