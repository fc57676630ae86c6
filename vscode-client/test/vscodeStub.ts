/** A stand-in for the `vscode` module (VS Code cannot run here), for loading code that imports it. */
import Module from "node:module";

type Loader = (request: string, ...rest: unknown[]) => unknown;

/** A stand-in for any VS Code API object: every property, call and construction yields the stand-in again. */
export function anything(): object {
  const target = function () { /* callable */ };
  const proxy: object = new Proxy(target, {
    get: (_t, key) => (key === "then" || typeof key === "symbol" ? undefined : proxy),
    apply: () => proxy,
    construct: () => proxy,
  });
  return proxy;
}

/** Runs `body` with `require("vscode")` answering `known` properties and a stand-in for everything else. */
export function withVscodeStub<T>(known: Record<string | symbol, unknown>, body: () => T): T {
  const stub = anything();
  const vscode = new Proxy(known, { get: (target, key) => (key in target ? target[key] : stub) });
  const mod = Module as unknown as { _load: Loader };
  const load = mod._load;
  mod._load = function (this: unknown, request: string, ...rest: unknown[]) {
    return request === "vscode" ? vscode : load.call(this, request, ...rest);
  };
  try {
    return body();
  } finally {
    mod._load = load;
  }
}
