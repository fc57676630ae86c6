/** The viewed-ranges forwarder's wiring against a stand-in VS Code: what reaches the client, and when. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import type { Range } from "../../src/logic/requests";
import type { ViewedRangesParams } from "../../src/logic/viewed";
import type { ViewedForwarder as Forwarder } from "../../src/viewedForwarder";
import { withVscodeStub } from "../vscodeStub";

type Listener = (event: unknown) => void;
const uri = (value: string) => ({ scheme: value.split(":")[0], toString: () => value });
const checkout = "file:///repo/shop/checkout.py";
const outside = "file:///elsewhere/notes.py";
const lines = (first: number, last: number): Range => ({ start: { line: first, character: 0 }, end: { line: last, character: 12 } });

/** A VS Code with an active editor, its visible ranges and the events the forwarder listens to. */
function fakeVscode() {
  const on: { [event: string]: Listener[] } = { visible: [], active: [] };
  const listen = (event: string) => (l: Listener) => { on[event].push(l); return { dispose: () => undefined }; };
  const editor = (u: string, visibleRanges: Range[]) => ({ document: { uri: uri(u) }, visibleRanges });
  const state: { active?: ReturnType<typeof editor> } = { active: editor(checkout, [lines(0, 30)]) };
  const vscode = {
    window: {
      onDidChangeTextEditorVisibleRanges: listen("visible"),
      onDidChangeActiveTextEditor: listen("active"),
      get activeTextEditor() { return state.active; },
    },
    workspace: {
      getWorkspaceFolder: (u: { toString(): string }) => (u.toString().startsWith("file:///repo/") ? { name: "repo" } : undefined),
    },
  };
  const fire = (event: string, value: unknown) => on[event].forEach((l) => l(value));
  return { vscode, state, fire, editor };
}

test("the active editor's lines reach the server once scrolling stops; other editors and files outside do not", async () => {
  const { vscode, state, fire, editor } = fakeVscode();
  const module = path.resolve(__dirname, "..", "..", "src", "viewedForwarder.js");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ViewedForwarder } = withVscodeStub(vscode, () => require(module) as { ViewedForwarder: typeof Forwarder });
  const sent: ViewedRangesParams[] = [];
  let arrived: () => void = () => undefined;
  const client = {
    sendNotification: (method: string, params: ViewedRangesParams) => {
      assert.equal(method, "ragls/viewedRanges");
      sent.push(params);
      arrived();
      return Promise.resolve();
    },
  };
  const next = () => new Promise<void>((resolve) => { arrived = resolve; });
  const forwarder = new ViewedForwarder(() => client as never);
  try {
    let arriving = next();
    for (let top = 0; top <= 40; top += 10) { // a scroll: one event a frame, one send where it stops
      state.active = editor(checkout, [lines(top, top + 30)]);
      fire("visible", { textEditor: state.active });
    }
    fire("visible", { textEditor: editor(outside, [lines(0, 9)]) }); // another editor's scroll: not the active one
    await arriving;
    assert.deepEqual(sent, [{ uri: checkout, ranges: [{ start: { line: 40, character: 0 }, end: { line: 71, character: 0 } }] }]);

    state.active = editor(outside, [lines(0, 9)]); // outside the workspace: never sent
    fire("active", state.active);
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(sent.length, 1);

    arriving = next();
    state.active = editor(checkout, [lines(40, 70)]);
    forwarder.started(); // a restarted server is sent the view again
    await arriving;
    assert.equal(sent.length, 2);
    assert.equal(sent[1].uri, checkout);
  } finally {
    forwarder.dispose();
  }
});
