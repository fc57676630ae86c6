/** The bundle VS Code loads (dist/extension.js, built by `npm run compile`) resolves all its imports. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { test } from "node:test";
import manifest from "../../package.json";
import { withVscodeStub } from "../vscodeStub";

test("dist/extension.js loads and exports activate and deactivate", () => {
  const bundle = path.resolve(__dirname, "..", "..", "..", manifest.main);
  const exported = withVscodeStub({ version: "1.91.0" }, () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(bundle) as { activate?: unknown; deactivate?: unknown };
  });
  assert.equal(typeof exported.activate, "function");
  assert.equal(typeof exported.deactivate, "function");
});
