/** Unit tests of the status bar's state: progress, server status and lifecycle. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { StatusModel, statusMarkdown } from "../../src/logic/status";

test("indexing progress shows in the status bar, then ready", () => {
  const model = new StatusModel();
  assert.match(model.view().text, /loading~spin/);
  model.running();
  model.progress("t", { kind: "begin", title: "ragls: indexing", percentage: 0 });
  assert.equal(model.view().text, "$(sync~spin) ragls 0%");
  model.progress("t", { kind: "report", message: "12/40 files", percentage: 30 });
  assert.equal(model.view().text, "$(sync~spin) ragls 12/40 files");
  assert.match(model.view().tooltip, /Indexing the workspace: 12\/40 files/);
  model.progress("t", { kind: "end", message: "indexed 40 files (120 symbols) in 1.2 s" });
  assert.equal(model.view().text, "$(check) ragls");
  assert.match(model.view().tooltip, /Index: indexed 40 files/);
});

test("a failed index, a missing model and disabled completions are visible", () => {
  const model = new StatusModel();
  model.running();
  model.progress("t", { kind: "end", message: "indexing failed: disk full" });
  assert.deepEqual([model.view().text, model.view().severity], ["$(error) ragls", "error"]);
  model.serverStatus({ state: "ready", index: "indexed 3 files", model: { configured: false } });
  assert.deepEqual([model.view().text, model.view().severity], ["$(warning) ragls: no model", "warning"]);
  assert.match(model.view().tooltip, /ragls\.model\.baseUrl/);
  model.serverStatus({ state: "ready", index: "indexed 3 files", model: { configured: true, chatModel: "qwen", baseUrl: "http://h/v1" },
    completion: { requests: 4, own_ms: { p50: 12.4, p95: 30 }, model_ms: { p50: 210, p95: 400 } } });
  assert.equal(model.view().text, "$(check) ragls");
  assert.match(model.view().tooltip, /Model: qwen at http:\/\/h\/v1/);
  assert.match(model.view().tooltip, /4 served; ragls p50 12 ms, model p50 210 ms/);
  assert.doesNotMatch(model.view().tooltip, /Accepted/, "nothing shown yet: no line");
  model.serverStatus({ state: "ready", model: { configured: true }, acceptance: { shown: 30, accepted: 12, dismissed: 18, rate: 0.4 } });
  assert.match(model.view().tooltip, /Accepted: 12 of 30 \(40%\)/);
  model.completionsEnabled = false;
  assert.equal(model.view().text, "$(circle-slash) ragls");
});

test("a stopped server says why; a restart clears it", () => {
  const model = new StatusModel();
  model.stopped("ragls was not found on PATH");
  assert.equal(model.view().severity, "error");
  assert.match(model.view().tooltip, /not found on PATH/);
  model.starting();
  assert.match(model.view().text, /loading/);
});

test("the status page lists state, index, model and timings", () => {
  const md = statusMarkdown({ state: "ready", root: "/r", index: "indexed 3 files",
    model: { configured: true, chatModel: "c", completionModel: "c", baseUrl: null, fimTemplate: null },
    completion: { requests: 0, own_ms: null, model_ms: null } });
  assert.match(md, /\*\*State\*\*: ready/);
  assert.match(md, /chat `c`/);
  assert.match(md, /none yet/);
  assert.match(md, /\*\*Accepted\*\*: none shown yet/);
  const rates = statusMarkdown({ acceptance: { shown: 4, accepted: 3, rate: 0.75,
    languages: { go: { shown: 1, accepted: 0, rate: 0 }, python: { shown: 3, accepted: 3, rate: 1 } } } });
  assert.match(rates, /\*\*Accepted\*\*: 3 of 4 \(75%\); go 0 of 1 \(0%\); python 3 of 3 \(100%\)/);
  const folders = statusMarkdown({ state: "ready", folders: [{ root: "/r", name: "shop", state: "ready", index: "indexed 7 files" }] });
  assert.match(folders, /- \*\*shop\*\* \(ready\): indexed 7 files/);
  const model = new StatusModel();
  model.running();
  model.serverStatus({ state: "ready", folders: [{ name: "shop", index: "indexed 7 files" }], model: { configured: true } });
  assert.match(model.view().tooltip, /Index: indexed 7 files/);
});
