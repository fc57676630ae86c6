/** The client capabilities vscode-languageclient advertises, computed by the library itself with VS Code's API
 * stubbed (VS Code cannot run here): the same object the extension's client sends in `initialize`. */
import Module from "node:module";
import type { ClientCapabilities } from "vscode-languageserver-protocol";

type Loader = (request: string, ...rest: unknown[]) => unknown;

/** A stand-in for any VS Code API object: every property, call and construction yields the stand-in again. */
function anything(): object {
  const target = function () { /* callable */ };
  const proxy: object = new Proxy(target, {
    get: (_t, key) => (key === "then" || typeof key === "symbol" ? undefined : proxy),
    apply: () => proxy,
    construct: () => proxy,
  });
  return proxy;
}

export function languageClientCapabilities(vscodeVersion: string): ClientCapabilities {
  const stub = anything();
  const known: Record<string | symbol, unknown> = { version: vscodeVersion };
  const vscode = new Proxy(known, { get: (target, key) => (key in target ? target[key] : stub) });
  const mod = Module as unknown as { _load: Loader };
  const load = mod._load;
  mod._load = function (this: unknown, request: string, ...rest: unknown[]) {
    return request === "vscode" ? vscode : load.call(this, request, ...rest);
  };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LanguageClient } = require("vscode-languageclient/node") as typeof import("vscode-languageclient/node");
    const client = new LanguageClient("ragls", "ragls", { command: "ragls" }, { documentSelector: [{ scheme: "file" }] });
    const internal = client as unknown as { computeClientCapabilities: () => ClientCapabilities };
    return JSON.parse(JSON.stringify(internal.computeClientCapabilities())) as ClientCapabilities;
  } finally {
    mod._load = load;
  }
}
