/** Sends the server the lines the active editor shows of a workspace file (`ragls/viewedRanges`), debounced. */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { Debouncer } from "./logic/debounce";
import { VIEWED_NOTIFICATION, ViewedSync } from "./logic/viewed";

const DEBOUNCE_MS = 500; // scrolling fires an event per frame: the lines where it stops are sent

export class ViewedForwarder implements vscode.Disposable {
  private readonly sync = new ViewedSync();
  private readonly debounce = new Debouncer(DEBOUNCE_MS);
  private readonly disposables: vscode.Disposable[];

  /** `client` answers the running client, or undefined while there is none. */
  constructor(private readonly client: () => LanguageClient | undefined) {
    this.disposables = [
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.changed();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.changed()),
    ];
  }

  /** A (re)started server holds nothing: send it what the active editor shows. */
  started(): void {
    this.sync.reset();
    this.changed();
  }

  private changed(): void {
    this.debounce.schedule("flush", () => this.flush());
  }

  private flush(): void {
    const client = this.client();
    const editor = vscode.window.activeTextEditor;
    if (!client || !editor) return; // started() sends it again
    const uri = editor.document.uri;
    if (uri.scheme !== "file" || vscode.workspace.getWorkspaceFolder(uri) === undefined) return;
    const params = this.sync.update(uri.toString(), editor.visibleRanges);
    if (params) void client.sendNotification(VIEWED_NOTIFICATION, params).catch(() => undefined);
  }

  dispose(): void {
    this.debounce.cancelAll();
    this.disposables.forEach((d) => { d.dispose(); });
  }
}
