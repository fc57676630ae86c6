/** Sends the server the editor's diagnostics of open workspace documents (`ragls/diagnostics`), debounced. */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { Debouncer } from "./logic/debounce";
import { DIAGNOSTICS_NOTIFICATION, DiagnosticsSync } from "./logic/diagnostics";

const DEBOUNCE_MS = 400;

export class DiagnosticsForwarder implements vscode.Disposable {
  private readonly sync = new DiagnosticsSync();
  private readonly pending = new Set<string>();
  private readonly debounce = new Debouncer(DEBOUNCE_MS);
  private readonly disposables: vscode.Disposable[];

  /** `client` answers the running client, or undefined while there is none. */
  constructor(private readonly client: () => LanguageClient | undefined) {
    this.disposables = [
      vscode.languages.onDidChangeDiagnostics((e) => this.changed(e.uris)),
      vscode.workspace.onDidOpenTextDocument((doc) => this.changed([doc.uri])),
      vscode.workspace.onDidCloseTextDocument((doc) => this.changed([doc.uri])),
    ];
  }

  /** A (re)started server holds nothing: send it the diagnostics of every open document. */
  started(): void {
    this.sync.reset();
    this.changed(vscode.workspace.textDocuments.map((doc) => doc.uri));
  }

  private changed(uris: readonly vscode.Uri[]): void {
    uris.filter((uri) => uri.scheme === "file").forEach((uri) => this.pending.add(uri.toString()));
    if (this.pending.size) this.debounce.schedule("flush", () => this.flush());
  }

  private isOpen(uri: vscode.Uri): boolean {
    const key = uri.toString();
    return vscode.workspace.getWorkspaceFolder(uri) !== undefined
      && vscode.workspace.textDocuments.some((doc) => doc.uri.toString() === key);
  }

  private flush(): void {
    const client = this.client();
    const uris = [...this.pending];
    this.pending.clear();
    if (!client) return; // started() sends everything again
    for (const key of uris) {
      const uri = vscode.Uri.parse(key);
      const params = this.sync.update(key, this.isOpen(uri), vscode.languages.getDiagnostics(uri));
      if (params) void client.sendNotification(DIAGNOSTICS_NOTIFICATION, params).catch(() => undefined);
    }
  }

  dispose(): void {
    this.debounce.cancelAll();
    this.disposables.forEach((d) => { d.dispose(); });
  }
}
