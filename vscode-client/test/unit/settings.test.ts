/** Unit tests of the settings section: what the server receives and what a change needs. */
import assert from "node:assert/strict";
import { test } from "node:test";
import manifest from "../../package.json";
import { type Section, changeEffect, configurationAnswers, explicitSection, initializationOptions, nest, sectionFromManifest, serverSettings } from "../../src/logic/settings";

test("the server gets its own settings, with empty strings as unset", () => {
  const section = sectionFromManifest(manifest, { "model.baseUrl": "http://localhost:11434/v1", "completion.debounceMs": 50 });
  const sent = serverSettings(section);
  assert.deepEqual(Object.keys(sent).sort(), ["chat", "completion", "index", "logPrompts", "model", "nextEdit", "review"]);
  assert.deepEqual(sent.model, {
    baseUrl: "http://localhost:11434/v1", apiKeyEnv: "OPENAI_API_KEY", chatModel: null, completionModel: null,
    fimTemplate: null, timeoutS: 30, maxRetries: 2, maxConcurrency: 4,
  });
  assert.equal((sent.completion as { debounceMs: number }).debounceMs, 50);
  assert.deepEqual(sent.index, {
    embedder: null, embedBaseUrl: null, embedApiKeyEnv: "RAGLS_EMBED_API_KEY", store: null, dataDir: null, debounceMs: 300,
  });
  assert.deepEqual(sent.nextEdit, { enabled: true, maxTokens: 400, budget: 3000, historyChars: 4000 });
});

test("only the settings the user set are sent: the server's config files and environment fill the rest", () => {
  const section = sectionFromManifest(manifest, { "model.chatModel": "qwen", "completion.budget": 4096, "server.command": "x" });
  const set: { [key: string]: { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown } } = {
    "model.chatModel": { globalValue: "qwen" },
    "completion.budget": { globalValue: 1024, workspaceValue: 2048, workspaceFolderValue: 4096 },
    "completion.enabled": { workspaceValue: false },
    "server.command": { globalValue: "x" },
  };
  const sent = initializationOptions(explicitSection(section, (key) => set[key] ?? {}));
  assert.deepEqual(sent, { ragls: {
    // the extension passes the stored key in this variable: the server must read that one, even at its default
    model: { apiKeyEnv: "OPENAI_API_KEY", chatModel: "qwen" },
    completion: { enabled: false, budget: 4096 },
  } });
});

test("initializationOptions wrap the section as the server expects", () => {
  const options = initializationOptions({ server: { command: "ragls" }, trace: { server: "off" }, chat: { hover: true } });
  assert.deepEqual(options, { ragls: { chat: { hover: true } } });
});

test("the manifest's defaults nest like VS Code's configuration object", () => {
  const section = sectionFromManifest(manifest);
  assert.deepEqual(section.server, { command: "ragls", args: ["serve"], pythonPath: "", env: {} });
  assert.deepEqual(section.trace, { server: "off" });
  assert.deepEqual(nest({ "a.b": 1, "a.c": 2, d: 3 }), { a: { b: 1, c: 2 }, d: 3 });
});

test("a change restarts the server only for what it reads at start", () => {
  const effect = (...keys: string[]) => changeEffect((key) => keys.some((k) => k === key || k.startsWith(`${key}.`)));
  assert.equal(effect("ragls.server.command"), "restart");
  assert.equal(effect("ragls.index.store"), "restart");
  assert.equal(effect("ragls.chat.hover"), "restart");
  assert.equal(effect("ragls.model.apiKeyEnv"), "restart");
  assert.equal(effect("ragls.model.chatModel"), "update");
  assert.equal(effect("ragls.completion.enabled"), "update");
  assert.equal(effect("ragls.review.onSave"), "update");
  assert.equal(effect("ragls.logPrompts"), "update");
  assert.equal(effect("ragls.nextEdit.enabled"), "update");
  assert.equal(effect("ragls.trace.server"), "none");
  assert.equal(effect("editor.fontSize"), "none");
});

test("each workspace/configuration item gets the section of its scope: a folder's own in a multi-root workspace", () => {
  const sections: { [scope: string]: Section } = {
    "": { completion: { maxTokens: 11 }, server: { command: "ragls" } },
    "file:///work/second": { completion: { maxTokens: 29 }, model: { chatModel: "" } },
  };
  const items = [{ section: "ragls" }, { section: "ragls", scopeUri: "file:///work/second" }, { section: "editor" }, { section: "ragls" }];
  const found = [{}, {}, { fontSize: 12 }, null];
  assert.deepEqual(configurationAnswers(items, found, (scope) => sections[scope ?? ""]), [
    { completion: { maxTokens: 11 } }, // the extension's own keys are not the server's
    { completion: { maxTokens: 29 }, model: { chatModel: null } }, // an empty string: unset
    { fontSize: 12 }, // another section: as the client found it
    null, // nothing found: nothing to answer
  ]);
});

test("the server's settings may differ by folder, but for those read once at its start", () => {
  const properties = manifest.contributes.configuration.properties as { [key: string]: { scope?: string } };
  const byFolder = Object.keys(properties).filter((key) => properties[key].scope === "resource");
  assert.ok(byFolder.includes("ragls.completion.maxTokens") && byFolder.includes("ragls.index.dataDir"));
  for (const key of ["ragls.model.apiKeyEnv", "ragls.chat.hover", "ragls.trace.server", "ragls.server.command"]) {
    assert.ok(!byFolder.includes(key), key);
  }
});
