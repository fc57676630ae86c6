/** The ragls extension: starts the server for the workspace, wires settings, the status bar and the commands. */
import * as os from "node:os";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification, ExecuteCommandRequest, type LanguageClient, MessageType, State,
} from "vscode-languageclient/node";
import { createClient, currentSection } from "./client";
import { DiagnosticsForwarder } from "./diagnosticsForwarder";
import { INSTALL_HINT, findExecutable, notFoundMessage, resolveLaunch, serverEnv, startFailedMessage } from "./logic/launch";
import { errorText } from "./logic/messages";
import { SERVER_COMMANDS, commandRange, diagnosticsText, rangeLabel, type Range } from "./logic/requests";
import { SECTION, changeEffect, initializationOptions } from "./logic/settings";
import { type ServerStatus, statusMarkdown } from "./logic/status";
import { NextEditView } from "./nextEditView";
import { Answers, StatusBar } from "./ui";
import { ViewedForwarder } from "./viewedForwarder";

const API_KEY_SECRET = "ragls.apiKey";
const OPEN_SETTINGS = "Open Settings";
const SHOW_OUTPUT = "Show Output";

class Extension implements vscode.Disposable {
  private client?: LanguageClient;
  private readonly output = vscode.window.createOutputChannel("ragls", { log: true });
  private readonly status = new StatusBar();
  private readonly answers = new Answers();
  private readonly diagnostics = new DiagnosticsForwarder(() => this.running());
  private readonly viewed = new ViewedForwarder(() => this.running());
  private readonly nextEdit = new NextEditView(() => this.running());
  private readonly disposables: vscode.Disposable[] = [];
  private starting?: Promise<void>;
  private servedFolder?: string;

  constructor(private readonly context: vscode.ExtensionContext) {
    const command = (id: string, run: (...args: unknown[]) => unknown) => vscode.commands.registerCommand(id, run);
    this.disposables.push(
      this.output, this.status, this.answers, this.diagnostics, this.viewed, this.nextEdit,
      command("ragls.askQuestion", () => this.ask()),
      command("ragls.explainSelection", () => this.onSelection(SERVER_COMMANDS.explain)),
      command("ragls.fixSelection", () => this.onSelection(SERVER_COMMANDS.fix)),
      command("ragls.toggleCompletions", () => this.toggleCompletions()),
      command("ragls.reindexWorkspace", () => this.reindex()),
      command("ragls.showStatus", () => this.showStatus()),
      command("ragls.setApiKey", () => this.setApiKey()),
      command("ragls.restartServer", () => this.restart()),
      command("ragls.showOutput", () => this.output.show()),
      command("ragls.showMenu", () => this.menu()),
      command("ragls.nextEdit", async () => { if (await this.ready()) await this.nextEdit.request(true); }),
      command("ragls.goToNextEdit", () => this.nextEdit.goTo()),
      command("ragls.acceptNextEdit", () => this.nextEdit.accept()),
      command("ragls.nextEditTab", () => this.nextEdit.tab()),
      command("ragls.dismissNextEdit", () => this.nextEdit.dismiss()),
      vscode.workspace.onDidChangeConfiguration((e) => this.configurationChanged(e)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        // the server indexes every folder and follows folder changes itself; it needs starting only for a first folder
        if (!this.servedFolder && this.folder()) void this.start();
      }),
    );
    this.status.update((m) => { m.completionsEnabled = this.completionsEnabled(); });
  }

  /** The first folder: the server's working directory and the scope its (window-wide) settings are read in. */
  private folder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
  }

  /** The client while it is running (features that only send stay quiet otherwise). */
  private running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  private completionsEnabled(): boolean {
    return vscode.workspace.getConfiguration(SECTION, this.folder()).get<boolean>("completion.enabled", true);
  }

  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const folder = this.folder();
    this.servedFolder = folder?.uri.toString();
    if (!folder) {
      this.status.update((m) => m.stopped("open a folder to index it"));
      return;
    }
    const config = vscode.workspace.getConfiguration(SECTION, folder);
    const vars = { home: os.homedir(), workspaceFolder: folder.uri.fsPath, env: process.env };
    const launch = resolveLaunch({
      command: config.get("server.command", "ragls"), args: config.get("server.args", ["serve"]),
      pythonPath: config.get("server.pythonPath", ""), env: {},
    }, vars);
    const apiKeyEnv = config.get("model.apiKeyEnv", "OPENAI_API_KEY");
    const { env, warnings } = serverEnv(process.env, config.get("server.env", {}), apiKeyEnv,
      await this.context.secrets.get(API_KEY_SECRET));
    warnings.forEach((w) => { void this.showMessage(MessageType.Warning, `ragls: ${w}`); });
    if (!findExecutable(launch.command, env)) {
      const message = notFoundMessage(launch);
      this.output.error(message);
      this.status.update((m) => m.stopped(message));
      void this.showMessage(MessageType.Error, message, [OPEN_SETTINGS, "Copy Install Command"]);
      return;
    }
    this.status.update((m) => m.starting());
    let reported = false;
    const client = createClient({
      folder, launch, env, output: this.output,
      startFailed: (tail) => startFailedMessage(launch, tail),
      hooks: {
        progress: (token, value) => {
          this.status.update((m) => m.progress(token, value));
          if (value.kind === "end") void this.refreshStatus();
        },
        message: (type, text) => { void this.showMessage(type, text); },
        runCommand: (command, args) => this.run(command, args),
        stopped: (reason) => {
          reported = true;
          this.status.update((m) => m.stopped(reason));
          void this.showMessage(MessageType.Error, reason, [SHOW_OUTPUT, OPEN_SETTINGS]);
        },
      },
    });
    this.client = client;
    client.onDidChangeState(({ newState }) => {
      if (newState === State.Running) {
        this.status.update((m) => m.running());
        this.diagnostics.started();
        this.viewed.started();
      } else if (newState === State.Starting) this.status.update((m) => m.starting());
    });
    this.output.info(`starting the server: ${launch.command} ${launch.args.join(" ")} in ${folder.uri.fsPath}`);
    try {
      await client.start();
      await this.refreshStatus();
    } catch (error) {
      // the close handler has reported a server that stopped while starting; anything else is reported here
      this.output.error(`the server did not start: ${String(error)}`);
      if (reported || this.client !== client) return;
      const reason = `${startFailedMessage(launch, [])} (${String(error)})`;
      this.status.update((m) => m.stopped(reason));
      void this.showMessage(MessageType.Error, reason, [SHOW_OUTPUT, OPEN_SETTINGS]);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.output.warn(`stopping the server: ${String(error)}`);
      }
    }
    await client?.dispose().catch(() => undefined);
  }

  private async restart(): Promise<void> {
    await this.starting;
    await this.stop();
    await this.start();
  }

  private configurationChanged(e: vscode.ConfigurationChangeEvent): void {
    const effect = changeEffect((key) => e.affectsConfiguration(key, this.folder()));
    this.status.update((m) => { m.completionsEnabled = this.completionsEnabled(); });
    if (e.affectsConfiguration(`${SECTION}.nextEdit`)) this.nextEdit.configurationChanged();
    if (effect === "restart") {
      this.output.info("a setting the server reads at start changed: restarting it");
      void this.restart();
    } else if (effect === "update" && this.client?.state === State.Running) {
      void this.client.sendNotification(DidChangeConfigurationNotification.type,
        { settings: initializationOptions(currentSection(this.folder())) }).then(() => this.refreshStatus());
    }
  }

  /** Shows a message (the server sends each failure once: a failed request's in its error response only). */
  private async showMessage(type: MessageType, text: string, actions: string[] = []): Promise<void> {
    const show = type === MessageType.Error ? vscode.window.showErrorMessage
      : type === MessageType.Warning ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const picked = await show(text, ...actions);
    if (picked === OPEN_SETTINGS) await vscode.commands.executeCommand("workbench.action.openSettings", `@ext:${this.context.extension.id}`);
    else if (picked === SHOW_OUTPUT) this.output.show();
    else if (picked === "Copy Install Command") await vscode.env.clipboard.writeText(INSTALL_HINT);
  }

  /** A running client, or undefined after telling the user why there is none. */
  private async ready(): Promise<LanguageClient | undefined> {
    await this.starting;
    if (this.client?.state === State.Running) return this.client;
    await this.showMessage(MessageType.Error, "ragls: the server is not running. Run \"ragls: Restart Server\", or see Output › ragls.", [SHOW_OUTPUT]);
    return undefined;
  }

  private async request(client: LanguageClient, command: string, args: unknown[], token?: vscode.CancellationToken): Promise<unknown> {
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token);
  }

  /** Runs fix, explain or ask with a cancellable notification, then shows the answer or applies nothing and
   * says why. Code actions and the commands below all come through here. */
  async run(command: string, args: unknown[]): Promise<unknown> {
    const client = await this.ready();
    if (!client) return undefined;
    const subject = this.subject(command, args);
    const verb = command === SERVER_COMMANDS.fix ? "fix" : command === SERVER_COMMANDS.explain ? "explain" : "ask";
    try {
      const result = await vscode.window.withProgress({
        location: vscode.ProgressLocation.Notification, cancellable: true,
        title: `ragls: ${verb === "fix" ? "fixing" : verb === "explain" ? "explaining" : "answering"} ${subject}…`,
      }, (_progress, token) => this.request(client, command, args, token));
      if (command === SERVER_COMMANDS.fix) {
        if ((result as { applied?: boolean } | undefined)?.applied === false) {
          await this.showMessage(MessageType.Warning, "ragls: the fix was not applied (the document changed meanwhile?): try again.");
        }
      } else {
        await this.answers.show(command === SERVER_COMMANDS.explain ? "explain" : "ask", subject, result);
      }
      return result;
    } catch (error) {
      const text = errorText(error, verb);
      if (text) await this.showMessage(MessageType.Error, text, [SHOW_OUTPUT]);
      return undefined;
    }
  }

  private subject(command: string, args: unknown[]): string {
    if (command === SERVER_COMMANDS.ask) return typeof args[0] === "string" ? args[0] : "";
    const uri = typeof args[0] === "string" ? vscode.Uri.parse(args[0]) : undefined;
    const range = args[1] as Range | undefined;
    if (!uri || !range?.start) return "the selection";
    return rangeLabel(vscode.workspace.asRelativePath(uri, false), range);
  }

  private async onSelection(command: string): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme !== "file") {
      await this.showMessage(MessageType.Info, "ragls: open a file of the workspace and select code first.");
      return;
    }
    const range = commandRange(editor.selection);
    const uri = editor.document.uri.toString();
    if (command === SERVER_COMMANDS.fix) {
      const diagnostics = vscode.languages.getDiagnostics(editor.document.uri).map((d) => ({
        range: d.range, message: d.message, code: d.code,
      }));
      await this.run(command, [uri, range, diagnosticsText(diagnostics, range)]);
    } else {
      await this.run(command, [uri, range]);
    }
  }

  private async ask(): Promise<void> {
    const question = await vscode.window.showInputBox({
      title: "ragls: ask about this repository", prompt: "The answer cites the definitions it used.",
      placeHolder: "How is tax computed at checkout?", ignoreFocusOut: true,
      validateInput: (value) => (value.trim() ? undefined : "Type a question"),
    });
    if (question?.trim()) await this.run(SERVER_COMMANDS.ask, [question.trim()]);
  }

  private async toggleCompletions(): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION, this.folder());
    const inspected = config.inspect<boolean>("completion.enabled");
    const target = inspected?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    const enabled = !this.completionsEnabled();
    await config.update("completion.enabled", enabled, target);
    vscode.window.setStatusBarMessage(`ragls: inline completions ${enabled ? "on" : "off"}`, 3000);
  }

  private serverHas(client: LanguageClient, command: string): boolean {
    return client.initializeResult?.capabilities.executeCommandProvider?.commands.includes(command) ?? false;
  }

  private async refreshStatus(): Promise<ServerStatus | undefined> {
    const client = this.client;
    if (client?.state !== State.Running || !this.serverHas(client, SERVER_COMMANDS.status)) return undefined;
    try {
      const status = (await this.request(client, SERVER_COMMANDS.status, [])) as ServerStatus;
      this.status.update((m) => m.serverStatus(status));
      return status;
    } catch (error) {
      this.output.warn(`ragls.status: ${String(error)}`);
      return undefined;
    }
  }

  private async showStatus(): Promise<void> {
    if (!(await this.ready())) return;
    const status = await this.refreshStatus();
    await this.answers.show("status", "ragls status", status ? statusMarkdown(status) : "The server does not report its status.");
  }

  private async reindex(): Promise<void> {
    const client = await this.ready();
    if (!client) return;
    try {
      const summary = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: "ragls: re-indexing" },
        () => this.request(client, SERVER_COMMANDS.reindex, []));
      vscode.window.setStatusBarMessage(`ragls: ${String(summary)}`, 5000);
      await this.refreshStatus();
    } catch (error) {
      const text = errorText(error, "re-index");
      if (text) await this.showMessage(MessageType.Error, text, [SHOW_OUTPUT]);
    }
  }

  private async setApiKey(): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION, this.folder());
    const variable = config.get("model.apiKeyEnv", "OPENAI_API_KEY");
    const key = await vscode.window.showInputBox({
      title: "ragls: API key of the model endpoint", password: true, ignoreFocusOut: true,
      prompt: `Kept in the OS keychain and passed to the server as $${variable}. Leave empty to remove it.`,
    });
    if (key === undefined) return;
    if (key.trim()) await this.context.secrets.store(API_KEY_SECRET, key.trim());
    else await this.context.secrets.delete(API_KEY_SECRET);
    await this.restart();
  }

  private async menu(): Promise<void> {
    const enabled = this.completionsEnabled();
    const items: (vscode.QuickPickItem & { command: string })[] = [
      { label: "$(comment-discussion) Ask about this repository…", command: "ragls.askQuestion" },
      { label: "$(book) Explain selection", command: "ragls.explainSelection" },
      { label: "$(wrench) Fix selection", command: "ragls.fixSelection" },
      { label: `$(${enabled ? "circle-slash" : "check"}) ${enabled ? "Disable" : "Enable"} inline completions`, command: "ragls.toggleCompletions" },
      { label: "$(sparkle) Suggest the next edit", command: "ragls.nextEdit" },
      { label: "$(refresh) Re-index workspace", command: "ragls.reindexWorkspace" },
      { label: "$(info) Show status", command: "ragls.showStatus" },
      { label: "$(key) Set API key", command: "ragls.setApiKey" },
      { label: "$(gear) Open settings", command: "workbench.action.openSettings" },
      { label: "$(output) Show output", command: "ragls.showOutput" },
      { label: "$(debug-restart) Restart server", command: "ragls.restartServer" },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: "ragls", placeHolder: this.status.model.view().tooltip.split("\n")[0] });
    if (!picked) return;
    if (picked.command === "workbench.action.openSettings") {
      await vscode.commands.executeCommand(picked.command, `@ext:${this.context.extension.id}`);
    } else {
      await vscode.commands.executeCommand(picked.command);
    }
  }

  dispose(): void {
    this.disposables.forEach((d) => { d.dispose(); });
  }
}

let extension: Extension | undefined;

export function activate(context: vscode.ExtensionContext): void {
  extension = new Extension(context);
  context.subscriptions.push(extension);
  void extension.start();
}

export async function deactivate(): Promise<void> {
  await extension?.stop();
  extension = undefined;
}
