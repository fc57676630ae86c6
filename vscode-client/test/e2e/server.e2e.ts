/** End to end: the real ragls server over stdio, driven as the extension's client drives it (its launch, its
 * settings, vscode-languageclient's capabilities), against the tests' local model server.
 *
 * Run by tests/test_vscode_client.py, which starts the model server with queued replies, makes the workspace (a
 * git repository) and asserts on the prompts the model server recorded. Environment: RAGLS_E2E_WORKSPACE,
 * RAGLS_E2E_BASE_URL, RAGLS_E2E_API_KEY, RAGLS_E2E_REPORT (a JSON file this test writes), RAGLS_PYTHON. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";
import { TextDocument } from "vscode-languageserver-textdocument";
import {
  ApplyWorkspaceEditRequest, CancellationTokenSource, type CodeAction, CodeActionRequest, CodeActionResolveRequest,
  ConfigurationRequest, DidChangeTextDocumentNotification, DidCloseTextDocumentNotification, DidOpenTextDocumentNotification, ExecuteCommandRequest, ExitNotification, InitializeRequest,
  type InitializeResult, InitializedNotification, InlineCompletionRequest, InlineCompletionTriggerKind,
  LogMessageNotification, type ProtocolConnection, RegistrationRequest, ShutdownRequest, ShowMessageNotification,
  type TextEdit, WorkDoneProgress, WorkDoneProgressCreateRequest, createProtocolConnection,
} from "vscode-languageserver-protocol/node";
import { StreamMessageReader, StreamMessageWriter } from "vscode-languageserver-protocol/node";
import manifest from "../../package.json";
import { findExecutable, resolveLaunch, serverEnv } from "../../src/logic/launch";
import { DIAGNOSTICS_NOTIFICATION, DiagnosticsSync } from "../../src/logic/diagnostics";
import { StderrLog, errorText } from "../../src/logic/messages";
import { NEXT_EDIT_REQUEST, chooseSuggestion, nextEditParams, parseResult, tabAction } from "../../src/logic/nextEdit";
import { SERVER_COMMANDS, answerMarkdown, commandRange, rangeLabel } from "../../src/logic/requests";
import { type Section, configurationAnswers, explicitSection, initializationOptions, sectionFromManifest } from "../../src/logic/settings";
import { StatusModel } from "../../src/logic/status";
import { VIEWED_NOTIFICATION, ViewedSync } from "../../src/logic/viewed";
import { languageClientCapabilities } from "./capabilities";

const WORKSPACE = process.env.RAGLS_E2E_WORKSPACE;
const STEP_MS = 60_000;
const skip = WORKSPACE ? false : "needs the model server and workspace that tests/test_vscode_client.py provides";

interface Recorded {
  configurationPulls: number;
  registrations: string[];
  progress: unknown[];
  statusTexts: string[];
  messages: { type: number; message: string }[];
  logs: string[];
  results: { [step: string]: unknown };
}

const seen: Recorded = { configurationPulls: 0, registrations: [], progress: [], statusTexts: [], messages: [], logs: [], results: {} };
let server: ChildProcess | undefined;
let connection: ProtocolConnection | undefined;
let section: Section;
/** What the extension sends of it: only what the user set (src/client.ts, `currentSection`). */
let sent: Section;
const stderr = new StderrLog(200);
const status = new StatusModel();
let indexed: Promise<string>;
let advertised: string[] = [];

function within<T>(promise: Promise<T>, what: string, ms = STEP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s; server log:\n${stderr.tail.join("\n")}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function lsp(): ProtocolConnection {
  assert.ok(connection, "the server is not connected");
  return connection;
}

const root = WORKSPACE ?? "";
const checkoutPath = path.join(root, "shop", "checkout.py");
const checkoutUri = pathToFileURL(checkoutPath).href;
/** checkout.py as if the user were typing line 12: "    net = " and nothing after the cursor on it. */
const typing = () => fs.readFileSync(checkoutPath, "utf8").replace("    net = apply_discount(cart.total(), discount)", "    net = ");

before(() => {
  if (skip) return;
  // The user's settings.json for this workspace; everything else keeps the manifest's defaults.
  const userSettings = {
    "server.pythonPath": process.env.RAGLS_PYTHON ?? "/work/main/.venv/bin/python",
    "model.baseUrl": process.env.RAGLS_E2E_BASE_URL ?? "",
    "model.chatModel": "test-chat",
    "model.maxRetries": 0,
    "model.timeoutS": 10,
    "index.debounceMs": 50,
  };
  section = sectionFromManifest(manifest, userSettings);
  sent = explicitSection(section, (key) => (key in userSettings
    ? { globalValue: userSettings[key as keyof typeof userSettings] } : {}));
  const serverSection = section.server as { command: string; args: string[]; pythonPath: string; env: { [k: string]: string } };
  const launch = resolveLaunch(serverSection, { home: process.env.HOME ?? "/", workspaceFolder: root, env: process.env });
  const { env } = serverEnv(process.env, serverSection.env, "OPENAI_API_KEY", process.env.RAGLS_E2E_API_KEY);
  assert.ok(findExecutable(launch.command, env), `${launch.command} not found`);
  assert.deepEqual(launch.args, ["-m", "ragls.server"]);
  server = spawn(launch.command, launch.args, { cwd: root, env, stdio: ["pipe", "pipe", "pipe"] });
  server.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    for (const line of chunk.split(/\r?\n/).filter(Boolean)) {
      stderr.line(line);
      process.stderr.write(`[server] ${line}\n`);
    }
  });
  const conn = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  connection = conn;
  let done: (line: string) => void;
  indexed = new Promise((resolve) => { done = resolve; });
  // What vscode-languageclient and the extension's hooks (src/client.ts) answer.
  conn.onRequest(ConfigurationRequest.type, (params) => {
    seen.configurationPulls += 1;
    // VS Code finds the section for every scope (one folder here: the same settings for each)
    return configurationAnswers(params.items, params.items.map((item) => (item.section === "ragls" ? {} : null)), () => sent);
  });
  conn.onRequest(RegistrationRequest.type, (params) => {
    seen.registrations.push(...params.registrations.map((r) => r.method));
  });
  conn.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
    const listener = conn.onProgress(WorkDoneProgress.type, token, (value) => {
      seen.progress.push(value);
      status.progress(String(token), value);
      seen.statusTexts.push(status.view().text);
      if (value.kind === "end") {
        listener.dispose();
        done(value.message ?? "");
      }
    });
  });
  conn.onRequest(ApplyWorkspaceEditRequest.type, () => ({ applied: true }));
  conn.onNotification(ShowMessageNotification.type, (m) => { seen.messages.push(m); });
  conn.onNotification(LogMessageNotification.type, (m) => { seen.logs.push(m.message); });
  conn.listen();
});

after(async () => {
  if (skip) return;
  const child = server;
  try {
    if (connection && child?.exitCode === null) {
      await within(Promise.resolve(lsp().sendRequest(ShutdownRequest.type)), "shutdown", 10_000);
      await lsp().sendNotification(ExitNotification.type);
    }
  } finally {
    connection?.dispose();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    seen.results.exitCode = child?.exitCode;
    const report = process.env.RAGLS_E2E_REPORT;
    if (report) fs.writeFileSync(report, JSON.stringify(seen, null, 2));
  }
});

test("initialize with the extension's options and the language client's capabilities", { skip }, async () => {
  const capabilities = languageClientCapabilities(manifest.engines.vscode.replace(/^\^/, ""));
  assert.equal(capabilities.window?.workDoneProgress, true);
  assert.ok(capabilities.textDocument?.inlineCompletion, "vscode-languageclient advertises inline completion");
  assert.deepEqual(capabilities.textDocument?.codeAction?.resolveSupport?.properties, ["edit", "command"]);
  const result: InitializeResult = await within(Promise.resolve(lsp().sendRequest(InitializeRequest.type, {
    processId: null, clientInfo: { name: "Visual Studio Code", version: "1.91.0" }, locale: "en",
    rootPath: root, rootUri: pathToFileURL(root).href, capabilities, trace: "off",
    initializationOptions: initializationOptions(sent),
    workspaceFolders: [{ uri: pathToFileURL(root).href, name: path.basename(root) }],
  })), "initialize");
  const caps = result.capabilities;
  assert.ok(caps.inlineCompletionProvider, "inline completions");
  assert.ok(typeof caps.codeActionProvider === "object" && caps.codeActionProvider.resolveProvider, "lazy code actions");
  advertised = caps.executeCommandProvider?.commands ?? [];
  for (const command of [SERVER_COMMANDS.fix, SERVER_COMMANDS.explain, SERVER_COMMANDS.ask, SERVER_COMMANDS.reindex]) {
    assert.ok(advertised.includes(command), `${command} is advertised`);
  }
  assert.equal(caps.hoverProvider ?? undefined, undefined, "hover is off by default");
  seen.results.serverInfo = result.serverInfo;
  status.running();
  await lsp().sendNotification(InitializedNotification.type, {});
});

test("indexing shows as work-done progress in the status bar", { skip }, async () => {
  const summary = await within(indexed, "indexing progress", 180_000);
  assert.match(summary, /^indexed /);
  assert.ok(seen.configurationPulls >= 1, "the server pulled workspace/configuration");
  assert.ok(seen.registrations.includes("workspace/didChangeWatchedFiles"), "file watchers registered");
  assert.match(seen.statusTexts[0], /^\$\(sync~spin\) ragls/);
  assert.equal(seen.statusTexts[seen.statusTexts.length - 1], "$(check) ragls");
});

test("a model failure is one clear error message", { skip }, async () => {
  await lsp().sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri: checkoutUri, languageId: "python", version: 1, text: typing() },
  });
  const range = { start: { line: 7, character: 0 }, end: { line: 13, character: 0 } };
  const error = await lsp().sendRequest(ExecuteCommandRequest.type, { command: SERVER_COMMANDS.explain, arguments: [checkoutUri, range] })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(error, "the command failed");
  assert.match(String((error as { message?: unknown }).message), /^the model server at .* failed \(HTTP 500/,
    "the error response holds the server's words alone: no exception name, no prefix");
  const text = errorText(error, "explain") ?? "";
  assert.match(text, /^ragls: explain failed: the model server at .* failed \(HTTP 500/);
  const shown = seen.messages.filter((m) => m.type === 1);
  assert.deepEqual(shown, [], "the failure is said once: in the error response, not again as window/showMessage");
  seen.results.failure = { request: text };
});

test("an inline completion while typing", { skip }, async () => {
  // the README was on screen (as the extension sends it): its lines reach the completion's prompt
  const readme = pathToFileURL(path.join(WORKSPACE ?? "", "README.md")).href;
  const view = new ViewedSync().update(readme, [{ start: { line: 0, character: 0 }, end: { line: 2, character: 47 } }]);
  await lsp().sendNotification(VIEWED_NOTIFICATION, view);
  const result = await within(Promise.resolve(lsp().sendRequest(InlineCompletionRequest.type, {
    textDocument: { uri: checkoutUri }, position: { line: 11, character: 10 },
    context: { triggerKind: InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined },
  })), "inline completion");
  const items = Array.isArray(result) ? result : result?.items ?? [];
  assert.ok(items.length > 0, "one suggestion");
  const insert = items[0].insertText;
  assert.equal(typeof insert === "string" ? insert : insert.value, "apply_discount(cart.total(), discount)");
  seen.results.completion = insert;
  // VS Code runs an accepted item's command; vscode-languageclient registered every command the server advertised,
  // and sends it as workspace/executeCommand (the middleware passes non-interactive ones through)
  const command = items[0].command;
  assert.equal(command?.command, "ragls.completionAccepted");
  assert.ok(advertised.includes(command.command), "the client registers the accept command");
  const recorded: unknown = await within(Promise.resolve(lsp().sendRequest(ExecuteCommandRequest.type, {
    command: command.command, arguments: command.arguments,
  })), "ragls.completionAccepted");
  assert.deepEqual(recorded, { recorded: true });
  const state = await lsp().sendRequest(ExecuteCommandRequest.type, { command: SERVER_COMMANDS.status, arguments: [] }) as
    { acceptance: { shown: number; accepted: number; rate: number } };
  assert.deepEqual([state.acceptance.shown, state.acceptance.accepted, state.acceptance.rate], [1, 1, 1]);
});

test("the fix code action resolves to an edit of the selected lines", { skip }, async () => {
  const diagnostic = { range: { start: { line: 12, character: 4 }, end: { line: 12, character: 41 } },
    message: "tax_for expects a positive amount", source: "lint" };
  const actions = (await within(Promise.resolve(lsp().sendRequest(CodeActionRequest.type, {
    textDocument: { uri: checkoutUri }, range: diagnostic.range, context: { diagnostics: [diagnostic], triggerKind: 1 },
  })), "code actions")) as CodeAction[];
  const titles = actions.map((a) => a.title);
  const fix = actions.find((a) => a.title.startsWith("ragls: fix"));
  assert.ok(fix, `a fix among ${titles.join(", ")}`);
  assert.ok(titles.includes("ragls: explain the selection"));
  assert.equal(fix.edit, undefined, "the edit is computed lazily");
  const resolved = await within(Promise.resolve(lsp().sendRequest(CodeActionResolveRequest.type, fix)), "codeAction/resolve");
  const edits: TextEdit[] = resolved.edit?.changes?.[checkoutUri] ?? [];
  assert.equal(edits.length, 1);
  const doc = TextDocument.create(checkoutUri, "python", 1, typing());
  const before = doc.getText().split("\n");
  const after = TextDocument.applyEdits(doc, edits).split("\n");
  assert.equal(after[12], "    tax = TaxPolicy(country).tax_for(max(net, 0.0))");
  assert.equal(after.length, before.length);
  assert.deepEqual([after[11], after[13]], [before[11], before[13]]);
  seen.results.fix = edits[0];
});

test("explain and ask answer Markdown that cites definitions", { skip }, async () => {
  const selection = commandRange({ start: { line: 7, character: 0 }, end: { line: 13, character: 0 } });
  const actions = (await lsp().sendRequest(CodeActionRequest.type, {
    textDocument: { uri: checkoutUri }, range: selection, context: { diagnostics: [] },
  })) as CodeAction[];
  const explain = actions.find((a) => a.command?.command === SERVER_COMMANDS.explain);
  assert.ok(explain?.command, "an explain action");
  // VS Code runs the action's command; the extension's middleware sends it as workspace/executeCommand.
  const md = await within(Promise.resolve(lsp().sendRequest(ExecuteCommandRequest.type, {
    command: explain.command.command, arguments: explain.command.arguments,
  })), "ragls.explain") as string;
  assert.match(md, /applies the discount/);
  assert.match(md, /shop\/pricing\.py:\d+/);
  const page = answerMarkdown("explain", rangeLabel("shop/checkout.py", selection), md);
  assert.match(page, /^# Explanation of `shop\/checkout\.py:8-13`\n\n/);
  const answer = await within(Promise.resolve(lsp().sendRequest(ExecuteCommandRequest.type, {
    command: SERVER_COMMANDS.ask, arguments: ["how is tax computed?"],
  })), "ragls.ask") as string;
  assert.match(answer, /TaxPolicy/);
  assert.match(answer, /shop\/pricing\.py/);
  seen.results.explain = md;
  seen.results.ask = answer;
});

test("a cancelled inline completion returns without a result", { skip }, async () => {
  const source = new CancellationTokenSource();
  const pending = lsp().sendRequest(InlineCompletionRequest.type, { // a new position: no cached suggestion
    textDocument: { uri: checkoutUri }, position: { line: 13, character: 4 },
    context: { triggerKind: InlineCompletionTriggerKind.Invoked, selectedCompletionInfo: undefined },
  }, source.token);
  source.cancel(); // as VS Code does on the next keystroke
  const outcome = await within(pending.then((value) => ({ value }), (error: { code?: number }) => ({ error })), "cancelled request");
  if ("error" in outcome) assert.equal(outcome.error.code, -32800, "RequestCancelled");
  else assert.equal(outcome.value, null);
  seen.results.cancelled = outcome;
  // the server still answers afterwards (and has handled the cancellation before this reply)
  const command = advertised.includes(SERVER_COMMANDS.status) ? SERVER_COMMANDS.status : SERVER_COMMANDS.reindex;
  seen.results.after = await within(Promise.resolve(lsp().sendRequest(ExecuteCommandRequest.type, { command, arguments: [] })), command);
});

test("diagnostics are forwarded, and a rename's remaining call sites are the next edit", { skip }, async () => {
  // the user closes checkout.py without saving and opens it again: as on disk, with no edit of it in the history
  const full = fs.readFileSync(checkoutPath, "utf8");
  await lsp().sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: checkoutUri } });
  await lsp().sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri: checkoutUri, languageId: "python", version: 1, text: full },
  });
  // the editor's diagnostics of checkout.py as the extension forwards them: ragls's own are left out
  const at = (line: number) => ({ start: { line, character: 0 }, end: { line, character: 40 } });
  const forwarded = new DiagnosticsSync().update(checkoutUri, true, [
    { range: at(3), message: "\"apply_discount\" is unknown import symbol", severity: 0, source: "Pylance",
      code: { value: "reportAttributeAccessIssue" } },
    { range: at(12), message: "a finding of ragls itself", severity: 1, source: "ragls" },
  ]);
  assert.ok(forwarded);
  await lsp().sendNotification(DIAGNOSTICS_NOTIFICATION, forwarded);
  // the user renames apply_discount where it is defined...
  const pricingPath = path.join(root, "shop", "pricing.py");
  const pricingUri = pathToFileURL(pricingPath).href;
  const pricing = fs.readFileSync(pricingPath, "utf8");
  await lsp().sendNotification(DidOpenTextDocumentNotification.type, {
    textDocument: { uri: pricingUri, languageId: "python", version: 1, text: pricing },
  });
  await lsp().sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri: pricingUri, version: 2 },
    contentChanges: [{ range: { start: { line: 4, character: 4 }, end: { line: 4, character: 18 } }, text: "discounted" }],
  });
  // ...and comes to checkout.py, where it is still used
  const raw: unknown = await within(Promise.resolve(lsp().sendRequest(NEXT_EDIT_REQUEST, nextEditParams(checkoutUri, { line: 0, character: 0 }))),
    NEXT_EDIT_REQUEST);
  const result = parseResult(raw);
  const sites = result.locations.filter((l) => l.uri === checkoutUri && l.why === "still uses apply_discount").map((l) => l.range.start.line);
  assert.deepEqual(sites.sort((a, b) => a - b), [3, 11], "the import and the call are where the rename goes next");
  const shown = chooseSuggestion(result, { uri: checkoutUri, line: 0 });
  assert.equal(shown?.kind, "edit", `an edit to preview (${result.error ?? "no error"})`);
  assert.equal(shown.uri, checkoutUri);
  assert.equal(tabAction(shown, { uri: checkoutUri, line: 0 }), "accept");
  const accepted = TextDocument.applyEdits(TextDocument.create(checkoutUri, "python", 1, full), shown.edits);
  assert.equal(accepted, full.replaceAll("apply_discount", "discounted"));
  seen.results.nextEdit = result;
});
