/** Unit tests of the viewed ranges sent to the server (`ragls/viewedRanges`). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_RANGES, ViewedSync, wholeLines } from "../../src/logic/viewed";

const visible = (first: number, last: number) => ({ start: { line: first, character: 0 }, end: { line: last, character: 37 } });

test("visible ranges become whole lines, each ending at the start of the line after it", () => {
  assert.deepEqual(wholeLines([visible(10, 49), visible(60, 72)]), [
    { start: { line: 10, character: 0 }, end: { line: 50, character: 0 } },
    { start: { line: 60, character: 0 }, end: { line: 73, character: 0 } },
  ]);
  assert.deepEqual(wholeLines([visible(9, 3)]), [], "backwards: nothing");
  assert.equal(wholeLines(Array.from({ length: 30 }, (_, n) => visible(n * 2, n * 2))).length, MAX_RANGES);
});

test("the same view is sent once; another file or a scroll is sent; a restarted server is sent it again", () => {
  const sync = new ViewedSync();
  const checkout = "file:///repo/shop/checkout.py";
  const pricing = "file:///repo/shop/pricing.py";
  assert.deepEqual(sync.update(checkout, [visible(0, 40)]), { uri: checkout, ranges: wholeLines([visible(0, 40)]) });
  assert.equal(sync.update(checkout, [visible(0, 40)]), undefined);
  assert.equal(sync.update(checkout, []), undefined, "nothing shown: nothing to say");
  assert.equal(sync.update(pricing, [visible(0, 40)])?.uri, pricing);
  assert.deepEqual(sync.update(pricing, [visible(5, 45)])?.ranges[0].start, { line: 5, character: 0 });
  assert.equal(sync.update(checkout, [visible(0, 40)])?.uri, checkout, "back to it: the server moves it to the newest");
  sync.reset();
  assert.equal(sync.update(checkout, [visible(0, 40)])?.uri, checkout);
});
