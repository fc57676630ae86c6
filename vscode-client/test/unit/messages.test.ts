/** Unit tests of messages: error texts, stderr levels; and command arguments. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { StderrLog, errorText, isCancellation } from "../../src/logic/messages";
import { answerFileName, answerMarkdown, commandRange, diagnosticsText, rangeLabel } from "../../src/logic/requests";

test("a failed command is one clear message; a cancelled one is none", () => {
  // the server's error responses carry its words alone (server/errors.py): shown as they are, prefixed once
  assert.equal(errorText({ code: -32603, message: "the model server at http://h/v1 failed (HTTP 500)" }, "explain"),
    "ragls: explain failed: the model server at http://h/v1 failed (HTTP 500)");
  assert.equal(errorText({ code: -32603, message: "ragls.ask needs a question" }, "ask"),
    "ragls: ask failed: ragls.ask needs a question");
  assert.equal(errorText({ code: -32800, message: "cancelled" }, "ask"), undefined);
  assert.ok(isCancellation(Object.assign(new Error("Canceled"), { name: "Canceled" })));
  assert.match(errorText({ code: -32096, message: "x" }, "fix") ?? "", /server is not running/);
  assert.match(errorText(new Error(""), "ask") ?? "", /no details/);
});

test("stderr lines keep their level; tracebacks are errors", () => {
  const log = new StderrLog(3);
  assert.equal(log.line("INFO ragls.server.app: settings: model m"), "info");
  assert.equal(log.line("WARNING ragls.server.errors: completion: timeout"), "warn");
  assert.equal(log.line("Traceback (most recent call last):"), "error");
  assert.equal(log.line('  File "x.py", line 1'), "error");
  assert.equal(log.line("ValueError: boom"), "error");
  assert.equal(log.line("DEBUG ragls: x"), "debug");
  assert.deepEqual(log.tail, ['  File "x.py", line 1', "ValueError: boom", "DEBUG ragls: x"]);
});

test("explain and fix work on the selection, or the cursor's line", () => {
  const cursor = { start: { line: 4, character: 7 }, end: { line: 4, character: 7 } };
  assert.deepEqual(commandRange(cursor), { start: { line: 4, character: 0 }, end: { line: 5, character: 0 } });
  const sel = { start: { line: 7, character: 0 }, end: { line: 13, character: 0 } };
  assert.deepEqual(commandRange(sel), sel);
  assert.equal(rangeLabel("shop/checkout.py", sel), "shop/checkout.py:8-13");
  assert.equal(rangeLabel("a.py", commandRange(cursor)), "a.py:5");
  const diags = [
    { range: { start: { line: 12, character: 4 }, end: { line: 12, character: 9 } }, message: "bad", code: { value: "E1", target: "" } },
    { range: { start: { line: 30, character: 0 }, end: { line: 30, character: 1 } }, message: "elsewhere" },
    { range: { start: { line: 8, character: 0 }, end: { line: 8, character: 1 } }, message: "plain", code: "" },
  ];
  assert.deepEqual(diagnosticsText(diags, sel), ["line 13: bad [E1]", "line 9: plain"]);
});

test("answers read as Markdown with what was asked as the heading", () => {
  assert.equal(answerMarkdown("explain", "a.py:1-3", "It adds.\n"), "# Explanation of `a.py:1-3`\n\nIt adds.\n");
  assert.equal(answerMarkdown("ask", "how is\ntax computed?", "By TaxPolicy."), "# how is tax computed?\n\nBy TaxPolicy.\n");
  assert.match(answerMarkdown("ask", "q", null), /no answer/);
  assert.equal(answerFileName("explain", "shop/checkout.py:8-13", 2), "explain-2-shop-checkout.py_8-13.md");
});
