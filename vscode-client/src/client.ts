/** The window's language client (its server indexes every workspace folder): how the server starts, what it is sent, and the extension's hooks. */
import * as vscode from "vscode";
import {
  CloseAction, ErrorAction, type Executable, type FeatureState, LanguageClient, type LanguageClientOptions,
  type MessageType, RevealOutputChannelOn, ShowMessageNotification, State, type StaticFeature, WorkDoneProgress,
  WorkDoneProgressCreateRequest,
} from "vscode-languageclient/node";
import type { Launch } from "./logic/launch";
import { StderrLog } from "./logic/messages";
import { SERVER_COMMANDS } from "./logic/requests";
import { SECTION, type Section, configurationAnswers, explicitSection, initializationOptions } from "./logic/settings";
import type { ProgressValue } from "./logic/status";

const INTERACTIVE = new Set<string>([SERVER_COMMANDS.fix, SERVER_COMMANDS.explain, SERVER_COMMANDS.ask]);

export interface ClientHooks {
  /** A work-done progress value (indexing) of a token the server created. */
  progress(token: string, value: ProgressValue): void;
  /** A window/showMessage from the server. */
  message(type: MessageType, text: string): void;
  /** Runs an interactive server command (fix, explain, ask) invoked from a code action or a command link. */
  runCommand(command: string, args: unknown[]): Promise<unknown>;
  /** The server process stopped for good (not restarted); `reason` says why and how to fix it. */
  stopped(reason: string): void;
}

/** The `ragls` settings the user set in VS Code (defaults left out: the server's own layers fill them), as JSON. */
export function currentSection(scope?: vscode.ConfigurationScope): Section {
  const whole = JSON.parse(JSON.stringify(vscode.workspace.getConfiguration(undefined, scope).get(SECTION) ?? {})) as Section;
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return explicitSection(whole, (key) => config.inspect(key));
}

/** Routes the server's progress and messages to the extension. Registered after the client's own features,
 * so on every (re)start its handlers replace the default ones (a notification per progress, a toast per
 * message), which the status bar and the extension's message handling supersede. */
class StatusFeature implements StaticFeature {
  constructor(private readonly client: LanguageClient, private readonly hooks: ClientHooks) {}

  getState(): FeatureState {
    return { kind: "static" };
  }

  fillClientCapabilities(): void {
    // window.workDoneProgress is advertised by the client's own progress feature
  }

  initialize(): void {
    this.client.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
      const key = String(token);
      const listener = this.client.onProgress(WorkDoneProgress.type, token, (value) => {
        this.hooks.progress(key, value);
        if (value.kind === "end") listener.dispose();
      });
    });
    this.client.onNotification(ShowMessageNotification.type, ({ type, message }) => this.hooks.message(type, message));
  }

  clear(): void {}
}

/** At most `max` automatic restarts within `windowMs` after the server crashed while running. */
class RestartBudget {
  private readonly times: number[] = [];

  constructor(private readonly max = 4, private readonly windowMs = 3 * 60_000) {}

  allow(now = Date.now()): boolean {
    while (this.times.length && now - this.times[0] > this.windowMs) this.times.shift();
    this.times.push(now);
    return this.times.length <= this.max;
  }
}

export interface ClientSetup {
  folder: vscode.WorkspaceFolder;
  launch: Launch;
  env: { [name: string]: string };
  output: vscode.LogOutputChannel;
  hooks: ClientHooks;
  /** Why a server that stopped while starting failed, from its stderr. */
  startFailed(stderrTail: string[]): string;
}

export function createClient(setup: ClientSetup): LanguageClient {
  const { folder, launch, env, output, hooks } = setup;
  const stderr = new StderrLog();
  const budget = new RestartBudget();
  let running = false;
  const server: Executable = { command: launch.command, args: launch.args, options: { env, cwd: folder.uri.fsPath } };
  const log = (text: string) => {
    const level = stderr.line(text);
    output[level](text);
  };
  const options: LanguageClientOptions = {
    // every folder of a multi-root workspace: the client sends them all at initialize and their changes after;
    // the server reads no document outside them
    documentSelector: [{ scheme: "file" }],
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: () => initializationOptions(currentSection(folder)),
    stdioOptions: {
      stdout: (input) => { input.setEncoding("utf8").on("data", (chunk: string) => chunk.split(/\r?\n/).filter(Boolean).forEach(log)); },
      stderr: (input) => { input.setEncoding("utf8").on("data", (chunk: string) => chunk.split(/\r?\n/).filter(Boolean).forEach(log)); },
    },
    errorHandler: {
      error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
      closed: () => {
        if (running && budget.allow()) {
          output.warn("the server stopped unexpectedly: restarting it");
          return { action: CloseAction.Restart, handled: true };
        }
        hooks.stopped(running ? "the server stopped 5 times in 3 minutes; it is not restarted again. See Output › ragls."
          : setup.startFailed(stderr.tail));
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    },
    middleware: {
      workspace: {
        configuration: async (params, token, next) => {
          const result = await next(params, token);
          if (!Array.isArray(result)) return result;
          // a folder's scope: its own settings (multi-root); none: the first folder's, as initializationOptions
          return configurationAnswers(params.items, result as unknown[],
            (scopeUri) => currentSection(scopeUri ? vscode.Uri.parse(scopeUri) : folder));
        },
      },
      executeCommand: (command, args: unknown[], next): Promise<unknown> => (INTERACTIVE.has(command) ? hooks.runCommand(command, args)
        : Promise.resolve(next(command, args) as unknown)),
    },
  };
  const client = new LanguageClient("ragls", "ragls", server, options);
  client.registerFeature(new StatusFeature(client, hooks));
  client.onDidChangeState(({ newState }) => {
    if (newState === State.Running) running = true;
  });
  return client;
}
