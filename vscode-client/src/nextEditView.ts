/** Next-edit suggestions in the editor: asked for after a pause in typing (or on command), previewed as
 * decorations with a status bar hint, then gone to, accepted (Tab) or dismissed (Escape). */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { Debouncer } from "./logic/debounce";
import {
  NEXT_EDIT_DEBOUNCE_MS, NEXT_EDIT_REQUEST, type Suggestion, chooseSuggestion, nextEditParams, parseResult, preview,
  suggestionLabel, tabAction,
} from "./logic/nextEdit";
import type { Range } from "./logic/requests";
import { SECTION } from "./logic/settings";

/** Context keys: an edit is shown (Tab accepts it), any suggestion is shown (Escape dismisses it). */
const VISIBLE = "ragls.nextEditVisible";
const SHOWN = "ragls.nextEditShown";

function toRange(r: Range): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

function lineEnd(doc: vscode.TextDocument, line: number): vscode.Range {
  const at = doc.lineAt(Math.min(line, doc.lineCount - 1)).range.end;
  return new vscode.Range(at, at);
}

export class NextEditView implements vscode.Disposable {
  private current?: Suggestion;
  private inFlight?: vscode.CancellationTokenSource;
  private readonly debounce = new Debouncer(NEXT_EDIT_DEBOUNCE_MS);
  private readonly removed = vscode.window.createTextEditorDecorationType({
    isWholeLine: true, backgroundColor: new vscode.ThemeColor("diffEditor.removedLineBackground"),
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.modifiedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });
  private readonly hint = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor("editorGhostText.foreground"), fontStyle: "italic", margin: "0 0 0 2em" },
  });
  private readonly item = vscode.window.createStatusBarItem("ragls.nextEdit", vscode.StatusBarAlignment.Right, 99);
  private readonly disposables: vscode.Disposable[];

  /** `client` answers the running client, or undefined while there is none. */
  constructor(private readonly client: () => LanguageClient | undefined) {
    this.item.name = "ragls next edit";
    this.item.command = "ragls.goToNextEdit";
    this.disposables = [
      this.removed, this.hint, this.item,
      vscode.workspace.onDidChangeTextDocument((e) => this.changed(e)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.render()),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc.uri.toString() === this.current?.uri) this.clear();
      }),
    ];
    void this.setVisible(false);
  }

  enabled(): boolean {
    return vscode.workspace.getConfiguration(SECTION, vscode.workspace.workspaceFolders?.[0]).get<boolean>("nextEdit.enabled", true);
  }

  /** A setting changed: a turned-off feature shows nothing. */
  configurationChanged(): void {
    if (!this.enabled()) this.dismiss();
  }

  private changed(e: vscode.TextDocumentChangeEvent): void {
    if (!e.contentChanges.length || e.document.uri.scheme !== "file" || !vscode.workspace.getWorkspaceFolder(e.document.uri)) return;
    this.dismiss(); // the edit was computed for the text before this change
    const editor = vscode.window.activeTextEditor;
    if (!this.enabled() || editor?.document !== e.document) return;
    this.debounce.schedule("request", () => { void this.request(false); });
  }

  /** Asks the server for the next edit at the active editor's cursor; `explicit` (the command) reports outcomes. */
  async request(explicit: boolean): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const client = this.client();
    if (explicit && !this.enabled()) {
      vscode.window.setStatusBarMessage("ragls: next edit is turned off (ragls.nextEdit.enabled)", 4000);
      return;
    }
    if (!editor || !client || editor.document.uri.scheme !== "file") return;
    this.debounce.cancelAll();
    this.inFlight?.cancel();
    const source = this.inFlight = new vscode.CancellationTokenSource();
    const doc = editor.document;
    const version = doc.version;
    const cursor = { uri: doc.uri.toString(), line: editor.selection.active.line };
    try {
      const raw: unknown = await client.sendRequest(NEXT_EDIT_REQUEST, nextEditParams(cursor.uri, editor.selection.active), source.token);
      if (source.token.isCancellationRequested || doc.version !== version) return;
      const result = parseResult(raw, (uri) => vscode.Uri.parse(uri).toString());
      if (result.error && explicit) void vscode.window.showWarningMessage(`ragls: next edit: ${result.error}`);
      const suggestion = chooseSuggestion(result, cursor);
      if (suggestion) await this.show(suggestion);
      else if (explicit) vscode.window.setStatusBarMessage("ragls: no next edit found", 4000);
    } catch (error) {
      if (explicit && !source.token.isCancellationRequested) void vscode.window.showErrorMessage(`ragls: next edit failed: ${String(error)}`);
    } finally {
      if (this.inFlight === source) this.inFlight = undefined;
      source.dispose();
    }
  }

  private async show(s: Suggestion): Promise<void> {
    this.current = s;
    const label = suggestionLabel(s, vscode.workspace.asRelativePath(vscode.Uri.parse(s.uri), false));
    this.item.text = label.text;
    this.item.tooltip = label.tooltip;
    this.item.show();
    this.render();
    await this.setVisible(s.kind === "edit", true);
  }

  /** Draws the suggestion in every visible editor of its document. */
  private render(): void {
    const s = this.current;
    for (const editor of vscode.window.visibleTextEditors) {
      if (!s || editor.document.uri.toString() !== s.uri) {
        editor.setDecorations(this.removed, []);
        editor.setDecorations(this.hint, []);
        continue;
      }
      const doc = editor.document;
      const p = s.kind === "edit" ? preview(s.edits)
        : { removed: [], hints: [{ line: s.range.start.line, text: `← ragls: next edit here${s.why ? ` (${s.why})` : ""}` }] };
      editor.setDecorations(this.removed, p.removed.map((r) => new vscode.Range(r.first, 0, r.last, 0)));
      editor.setDecorations(this.hint, p.hints.map((h) => ({
        range: lineEnd(doc, h.line), renderOptions: { after: { contentText: h.text } },
        hoverMessage: new vscode.MarkdownString("ragls: suggested next edit — **Tab** to go to it and accept, **Escape** to dismiss"),
      })));
    }
  }

  /** Shows the suggestion's place (opening its document), keeping the suggestion. */
  async goTo(): Promise<void> {
    const s = this.current;
    if (!s) return;
    const start = toRange(s.range).start;
    const editor = await vscode.window.showTextDocument(vscode.Uri.parse(s.uri), { selection: new vscode.Range(start, start) });
    editor.revealRange(toRange(s.range), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  /** Applies the shown edit (one undo step); the change that makes starts the next suggestion. */
  async accept(): Promise<void> {
    const s = this.current;
    if (s?.kind !== "edit") return;
    const edit = new vscode.WorkspaceEdit();
    for (const e of s.edits) edit.replace(vscode.Uri.parse(e.uri), toRange(e.range), e.newText);
    this.dismiss();
    if (!(await vscode.workspace.applyEdit(edit))) {
      vscode.window.setStatusBarMessage("ragls: the next edit could not be applied", 4000);
    }
  }

  /** Tab while an edit is shown: go to it when the cursor is elsewhere, else accept it. */
  async tab(): Promise<void> {
    const s = this.current;
    const editor = vscode.window.activeTextEditor;
    if (!s) return;
    const cursor = { uri: editor?.document.uri.toString() ?? "", line: editor?.selection.active.line ?? -1 };
    if (tabAction(s, cursor) === "accept") await this.accept();
    else await this.goTo();
  }

  dismiss(): void {
    this.debounce.cancelAll();
    this.inFlight?.cancel();
    this.clear();
  }

  private clear(): void {
    if (!this.current) return;
    this.current = undefined;
    this.item.hide();
    this.render();
    void this.setVisible(false);
  }

  private async setVisible(edit: boolean, shown = edit): Promise<void> {
    await vscode.commands.executeCommand("setContext", VISIBLE, edit);
    await vscode.commands.executeCommand("setContext", SHOWN, shown);
  }

  dispose(): void {
    this.dismiss();
    this.disposables.forEach((d) => { d.dispose(); });
  }
}
