/** The diagnostics forwarder's wiring against a stand-in VS Code: what reaches the client, and when. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import type { DiagnosticsForwarder as Forwarder } from "../../src/diagnosticsForwarder";
import type { DiagnosticsParams, EditorDiagnostic } from "../../src/logic/diagnostics";
import { withVscodeStub } from "../vscodeStub";

type Listener = (event: unknown) => void;
const uri = (value: string) => ({ scheme: value.split(":")[0], toString: () => value });
const checkout = "file:///repo/shop/checkout.py";
const pricing = "file:///repo/shop/pricing.py";
const outside = "file:///elsewhere/notes.py";

/** A VS Code with open documents, diagnostics per URI and the events the forwarder listens to. */
function fakeVscode() {
  const on: { [event: string]: Listener[] } = { diagnostics: [], open: [], close: [] };
  const listen = (event: string) => (l: Listener) => { on[event].push(l); return { dispose: () => undefined }; };
  const state = { open: [checkout, outside], diagnostics: new Map<string, EditorDiagnostic[]>() };
  const vscode = {
    Uri: { parse: uri },
    languages: {
      onDidChangeDiagnostics: listen("diagnostics"),
      getDiagnostics: (u: { toString(): string }) => state.diagnostics.get(u.toString()) ?? [],
    },
    workspace: {
      onDidOpenTextDocument: listen("open"),
      onDidCloseTextDocument: listen("close"),
      get textDocuments() { return state.open.map((u) => ({ uri: uri(u) })); },
      getWorkspaceFolder: (u: { toString(): string }) => (u.toString().startsWith("file:///repo/") ? { name: "repo" } : undefined),
    },
  };
  const fire = (event: string, value: unknown) => on[event].forEach((l) => l(value));
  return { vscode, state, fire };
}

test("open workspace documents' diagnostics reach the server, debounced; a closed one is cleared", async () => {
  const { vscode, state, fire } = fakeVscode();
  const module = path.resolve(__dirname, "..", "..", "src", "diagnosticsForwarder.js");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DiagnosticsForwarder } = withVscodeStub(vscode, () => require(module) as { DiagnosticsForwarder: typeof Forwarder });
  const sent: DiagnosticsParams[] = [];
  let arrived: () => void = () => undefined;
  const client = {
    sendNotification: (method: string, params: DiagnosticsParams) => {
      assert.equal(method, "ragls/diagnostics");
      sent.push(params);
      arrived();
      return Promise.resolve();
    },
  };
  const next = () => new Promise<void>((resolve) => { arrived = resolve; });
  const forwarder = new DiagnosticsForwarder(() => client as never);
  const lint: EditorDiagnostic = { range: { start: { line: 12, character: 4 }, end: { line: 12, character: 40 } },
    message: "tax_for expects a positive amount", severity: 0, source: "lint" };
  const ours: EditorDiagnostic = { ...lint, message: "ragls's own", source: "ragls" };
  try {
    for (const u of [checkout, pricing, outside]) state.diagnostics.set(u, [lint, ours]);
    let arriving = next();
    fire("diagnostics", { uris: [uri(checkout), uri(pricing), uri(outside)] });
    fire("diagnostics", { uris: [uri(checkout)] }); // a burst is one send
    await arriving;
    assert.deepEqual(sent, [{ uri: checkout, diagnostics: [{ range: lint.range, message: lint.message, severity: 1, source: "lint" }] }],
      "only the open workspace document, without ragls's own diagnostic");
    arriving = next();
    state.open = [outside];
    fire("close", { uri: uri(checkout) });
    await arriving;
    assert.deepEqual(sent[1], { uri: checkout, diagnostics: [] });
    arriving = next();
    state.open = [checkout, outside];
    forwarder.started(); // a restarted server is sent what is open again
    await arriving;
    assert.equal(sent.length, 3);
    assert.equal(sent[2].uri, checkout);
  } finally {
    forwarder.dispose();
  }
});
