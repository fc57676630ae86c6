/** Unit tests of next-edit suggestions: the answer read, what is shown, its preview, Tab, and the manifest's keys. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import manifest from "../../package.json";
import {
  type NextEditResult, chooseSuggestion, nextEditParams, parseResult, preview, suggestionLabel, tabAction,
} from "../../src/logic/nextEdit";

const checkout = "file:///repo/shop/checkout.py";
const pricing = "file:///repo/shop/pricing.py";
const at = (line: number, character = 0) => ({ line, character });
const lines = (first: number, end: number) => ({ start: at(first), end: at(end) });

/** The server's answer after `def apply_discount` became `def discounted` in pricing.py. */
const answer = {
  locations: [
    { uri: checkout, range: lines(3, 3), score: 4.6, why: "still uses apply_discount" },
    { uri: checkout, range: lines(11, 11), score: 4.1, why: "still uses apply_discount" },
    { uri: pricing, range: lines(8, 8), score: 1.3, why: "" },
  ],
  edits: [
    { uri: checkout, range: lines(3, 4), newText: "from .pricing import TaxPolicy, discounted\n" },
    { uri: checkout, range: lines(11, 12), newText: "    net = discounted(cart.total(), discount)\n" },
  ],
};

test("the request's params and a defensive read of the answer", () => {
  assert.deepEqual(nextEditParams(pricing, { line: 4, character: 14 }), { textDocument: { uri: pricing }, position: at(4, 14) });
  assert.deepEqual(parseResult(answer), answer);
  assert.deepEqual(parseResult(null), { locations: [], edits: [] });
  const spelled = parseResult(answer, (uri) => uri.replace("file:///repo", "file:///c%3A/repo"));
  assert.deepEqual([...spelled.locations, ...spelled.edits].map((x) => x.uri.slice(0, 17)), Array(5).fill("file:///c%3A/repo"));
  const odd = parseResult({ locations: [{ uri: 1 }, { uri: checkout, range: lines(2, 2) }], edits: [{ uri: checkout }], error: "timeout" });
  assert.deepEqual(odd, { locations: [{ uri: checkout, range: lines(2, 2), score: 0, why: "" }], edits: [], error: "timeout" });
});

test("an edit is shown over its lines, with the reason of its location", () => {
  const s = chooseSuggestion(parseResult(answer), { uri: pricing, line: 4 });
  assert.ok(s);
  assert.equal(s.kind, "edit");
  assert.equal(s.uri, checkout);
  assert.deepEqual(s.range, lines(3, 12));
  assert.equal(s.why, "still uses apply_discount");
  assert.equal(s.edits.length, 2);
  const label = suggestionLabel(s, "shop/checkout.py");
  assert.equal(label.text, "$(sparkle) next edit: shop/checkout.py:4");
  assert.match(label.tooltip, /still uses apply_discount/);
});

test("without an edit, the best location with a reason of its own is shown, never the cursor's line", () => {
  const result: NextEditResult = { ...parseResult(answer), edits: [] };
  assert.deepEqual(chooseSuggestion(result, { uri: pricing, line: 4 })?.range, lines(3, 3));
  assert.equal(chooseSuggestion(result, { uri: checkout, line: 3 })?.range.start.line, 11);
  const weak: NextEditResult = { locations: [{ uri: pricing, range: lines(9, 9), score: 0, why: "near the cursor" }], edits: [] };
  assert.equal(chooseSuggestion(weak, { uri: pricing, line: 4 }), undefined);
  assert.equal(chooseSuggestion({ locations: [], edits: [] }, { uri: pricing, line: 4 }), undefined);
});

test("the preview highlights replaced lines and shows what replaces each", () => {
  assert.deepEqual(preview(answer.edits), {
    removed: [{ first: 3, last: 3 }, { first: 11, last: 11 }],
    hints: [{ line: 3, text: "→ from .pricing import TaxPolicy, discounted" }, { line: 11, text: "→ net = discounted(cart.total(), discount)" }],
  });
  // an insertion shows after the line above; a deletion says so; a different line count is joined
  assert.deepEqual(preview([
    { uri: checkout, range: lines(5, 5), newText: "import os\nimport sys\n" },
    { uri: checkout, range: lines(8, 10), newText: "" },
    { uri: checkout, range: { start: at(12), end: at(13, 20) }, newText: "x = 1" },
  ]), {
    removed: [{ first: 8, last: 9 }, { first: 12, last: 13 }],
    hints: [{ line: 4, text: "+ import os ⏎ import sys" }, { line: 9, text: "delete these 2 lines" }, { line: 13, text: "→ x = 1" }],
  });
  const long = preview([{ uri: checkout, range: lines(1, 2), newText: `${"x".repeat(300)}\n` }]).hints[0].text;
  assert.ok(long.length <= 123 && long.endsWith("…"));
});

test("Tab goes to an edit elsewhere, then accepts it at the cursor", () => {
  const s = chooseSuggestion(parseResult(answer), { uri: pricing, line: 4 });
  assert.ok(s);
  assert.equal(tabAction(s, { uri: pricing, line: 4 }), "goto");
  assert.equal(tabAction(s, { uri: checkout, line: 40 }), "goto");
  assert.equal(tabAction(s, { uri: checkout, line: 3 }), "accept");
  assert.equal(tabAction(s, { uri: checkout, line: 0 }), "accept");
  assert.equal(tabAction({ ...s, kind: "location", edits: [] }, { uri: checkout, line: 3 }), "goto");
});

test("the manifest binds Tab while an edit is shown, Escape while a suggestion is, and neither over an inline completion", () => {
  const bindings = manifest.contributes.keybindings;
  const tab = bindings.find((b) => b.key === "tab");
  const escape = bindings.find((b) => b.key === "escape");
  assert.equal(tab?.command, "ragls.nextEditTab");
  assert.equal(escape?.command, "ragls.dismissNextEdit");
  assert.match(tab?.when ?? "", /^ragls\.nextEditVisible && /); // an edit to accept
  assert.match(escape?.when ?? "", /^ragls\.nextEditShown && /); // any suggestion
  for (const b of [tab, escape]) {
    assert.match(b?.when ?? "", /!inlineSuggestionVisible/);
    assert.match(b?.when ?? "", /!suggestWidgetVisible/);
  }
  assert.equal(manifest.contributes.configuration.properties["ragls.nextEdit.enabled"].default, true);
});

test("every command the extension registers is contributed, and every contributed one registered", () => {
  const source = fs.readFileSync(path.resolve(__dirname, "..", "..", "..", "src", "extension.ts"), "utf8");
  const registered = new Set([...source.matchAll(/command\("(ragls\.\w+)"/g)].map((m) => m[1]));
  const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
  assert.deepEqual([...registered].sort(), [...contributed].sort());
  for (const b of manifest.contributes.keybindings) assert.ok(contributed.has(b.command), b.command);
  const titles = Object.fromEntries(manifest.contributes.commands.map((c) => [c.command, `${c.category}: ${c.title}`]));
  assert.equal(titles["ragls.goToNextEdit"], "ragls: Go to Next Edit");
  assert.equal(titles["ragls.acceptNextEdit"], "ragls: Accept Next Edit");
});
