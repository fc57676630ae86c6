/** Unit tests of the diagnostics sent to the server (`ragls/diagnostics`). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DiagnosticsSync, type EditorDiagnostic, forwarded, toLsp } from "../../src/logic/diagnostics";

const range = (line: number) => ({ start: { line, character: 4 }, end: { line, character: 18 } });
const pyright: EditorDiagnostic = {
  range: range(3), message: "\"apply_discount\" is unknown import symbol", severity: 0, source: "Pylance",
  code: { value: "reportAttributeAccessIssue" },
};

test("a VS Code diagnostic becomes LSP JSON: severity 1-4, the code's value", () => {
  assert.deepEqual(toLsp(pyright), {
    range: range(3), message: "\"apply_discount\" is unknown import symbol", severity: 1, source: "Pylance",
    code: "reportAttributeAccessIssue",
  });
  assert.equal(toLsp({ range: range(1), message: "m", severity: 3 }).severity, 4); // hint
  assert.deepEqual(toLsp({ range: range(1), message: "m", code: 12 }), { range: range(1), message: "m", severity: 1, code: 12 });
});

test("ragls's own diagnostics are not sent back to it", () => {
  const ours = { range: range(5), message: "ragls says", severity: 1, source: "ragls" };
  assert.deepEqual(forwarded([ours, pyright]).map((d) => d.source), ["Pylance"]);
});

test("a document's diagnostics are sent when they change, and cleared once when it closes", () => {
  const sync = new DiagnosticsSync();
  const uri = "file:///repo/shop/checkout.py";
  assert.equal(sync.update(uri, true, []), undefined, "nothing to clear: the server holds nothing");
  assert.deepEqual(sync.update(uri, true, [pyright])?.diagnostics.map((d) => d.message), [pyright.message]);
  assert.equal(sync.update(uri, true, [{ ...pyright }]), undefined, "the same diagnostics again: nothing sent");
  const lint = { range: range(11), message: "tax_for expects a positive amount", severity: 1, source: "lint" };
  assert.equal(sync.update(uri, true, [pyright, lint])?.diagnostics.length, 2);
  assert.deepEqual(sync.update(uri, true, []), { uri, diagnostics: [] }, "fixed: an empty list clears them");
  sync.update(uri, true, [lint]);
  assert.deepEqual(sync.update(uri, false, [lint]), { uri, diagnostics: [] }, "closed: cleared");
  assert.equal(sync.update(uri, false, [lint]), undefined, "and only once");
  sync.update(uri, true, [lint]);
  sync.reset(); // a restarted server holds nothing: the same diagnostics are sent again
  assert.equal(sync.update(uri, true, [lint])?.diagnostics.length, 1);
});
