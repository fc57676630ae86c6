/** Unit tests of the debouncer, on fake timers. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Debouncer, type Timers } from "../../src/logic/debounce";

/** Timers that fire only when the test advances the clock. */
class FakeTimers implements Timers {
  now = 0;
  private next = 0;
  private readonly due = new Map<number, { at: number; run: () => void }>();

  set(run: () => void, ms: number): unknown {
    this.due.set(++this.next, { at: this.now + ms, run });
    return this.next;
  }

  clear(handle: unknown): void {
    this.due.delete(handle as number);
  }

  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.due].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.now && this.due.delete(id)) t.run();
    }
  }
}

test("a call runs once the key has been quiet for the delay", () => {
  const timers = new FakeTimers();
  const d = new Debouncer<string>(700, timers);
  const ran: string[] = [];
  d.schedule("a", () => ran.push("a1"));
  timers.advance(500);
  d.schedule("a", () => ran.push("a2")); // typing goes on: the first call is replaced
  timers.advance(600);
  assert.deepEqual(ran, []);
  assert.ok(d.isPending("a"));
  timers.advance(100);
  assert.deepEqual(ran, ["a2"]);
  assert.ok(!d.isPending("a"));
});

test("keys are independent and can be cancelled", () => {
  const timers = new FakeTimers();
  const d = new Debouncer<string>(300, timers);
  const ran: string[] = [];
  d.schedule("a", () => ran.push("a"));
  d.schedule("b", () => ran.push("b"), 100);
  d.cancel("a");
  timers.advance(1000);
  assert.deepEqual(ran, ["b"]);
  d.schedule("a", () => ran.push("a"));
  d.schedule("b", () => ran.push("b"));
  d.cancelAll();
  timers.advance(1000);
  assert.deepEqual(ran, ["b"]);
});
