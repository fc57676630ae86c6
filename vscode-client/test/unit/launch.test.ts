/** Unit tests of how the server is started: command line, environment and failure messages. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { expand, findExecutable, notFoundMessage, resolveLaunch, serverEnv, startFailedMessage } from "../../src/logic/launch";

const vars = { home: "/home/u", workspaceFolder: "/work/repo", env: { VENV: "/opt/venv" } };

test("the default is `ragls serve`; an interpreter runs the module", () => {
  assert.deepEqual(resolveLaunch({ command: "ragls", args: ["serve"], pythonPath: "", env: {} }, vars),
    { command: "ragls", args: ["serve"] });
  assert.deepEqual(resolveLaunch({ command: "", args: ["serve"], pythonPath: "  ", env: {} }, vars),
    { command: "ragls", args: ["serve"] });
  assert.deepEqual(resolveLaunch({ command: "ragls", args: ["serve"], pythonPath: "${workspaceFolder}/.venv/bin/python", env: {} }, vars),
    { command: "/work/repo/.venv/bin/python", args: ["-m", "ragls.server"], python: "/work/repo/.venv/bin/python" });
});

test("paths expand ~, ${userHome}, ${workspaceFolder} and ${env:NAME}", () => {
  assert.equal(expand("~/bin/ragls", vars), "/home/u/bin/ragls");
  assert.equal(expand("${userHome}/x", vars), "/home/u/x");
  assert.equal(expand("${env:VENV}/bin/ragls", vars), "/opt/venv/bin/ragls");
  assert.equal(expand("${env:MISSING}x", vars), "x");
  assert.equal(expand("${workspaceFolder}", { home: "/h", env: {} }), "${workspaceFolder}");
});

test("executables are found on PATH, or by path", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ragls-launch-"));
  const exe = path.join(dir, "ragls");
  fs.writeFileSync(exe, "#!/bin/sh\n", { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "plain"), "", { mode: 0o644 });
  try {
    assert.equal(findExecutable("ragls", { PATH: `/nonexistent:${dir}` }, "linux"), exe);
    assert.equal(findExecutable(exe, {}, "linux"), exe);
    assert.equal(findExecutable("plain", { PATH: dir }, "linux"), undefined);
    assert.equal(findExecutable("ragls", { PATH: "/nonexistent" }, "linux"), undefined);
    const seen: string[] = [];
    findExecutable("ragls", { Path: "C:\\bin", PATHEXT: ".EXE;.CMD" }, "win32", (f) => { seen.push(f); return false; });
    assert.deepEqual(seen, [path.join("C:\\bin", "ragls"), path.join("C:\\bin", "ragls.EXE"), path.join("C:\\bin", "ragls.CMD")]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the API key comes from secret storage, never from ragls.server.env", () => {
  const { env, warnings } = serverEnv({ PATH: "/bin", HOME: undefined }, { RAGLS_LOG_LEVEL: "DEBUG", MY_KEY: "leak", N: 3 },
    "MY_KEY", "sk-secret");
  assert.equal(env.MY_KEY, "sk-secret");
  assert.equal(env.RAGLS_LOG_LEVEL, "DEBUG");
  assert.equal(env.ANONYMIZED_TELEMETRY, "False");
  assert.equal(env.PATH, "/bin");
  assert.ok(!("HOME" in env) && !("N" in env));
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /MY_KEY.*Set API Key/);
  const none = serverEnv({}, {}, "", undefined);
  assert.ok(!("OPENAI_API_KEY" in none.env));
});

test("failures say how to fix them", () => {
  const plain = resolveLaunch({ command: "ragls", args: ["serve"], pythonPath: "", env: {} }, vars);
  assert.match(notFoundMessage(plain), /"ragls" was not found on PATH.*pip install ragls.*ragls\.server\.command/);
  const python = resolveLaunch({ command: "ragls", args: [], pythonPath: "/usr/bin/python3", env: {} }, vars);
  assert.match(notFoundMessage(python), /interpreter "\/usr\/bin\/python3" was not found.*ragls\.server\.pythonPath/);
  const failed = startFailedMessage(python, ["/usr/bin/python3: No module named ragls.server", ""]);
  assert.match(failed, /stopped while starting: \/usr\/bin\/python3: No module named ragls\.server/);
  assert.match(failed, /\/usr\/bin\/python3 -m pip install ragls/);
  assert.match(startFailedMessage(plain, []), /ragls serve\) stopped while starting\. See Output/);
});
