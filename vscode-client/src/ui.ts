/** What the extension shows: the status bar item and answers (explain, ask, status) as read-only Markdown previews. */
import * as vscode from "vscode";
import { type AnswerKind, answerFileName, answerMarkdown } from "./logic/requests";
import { StatusModel } from "./logic/status";

export class StatusBar implements vscode.Disposable {
  readonly model = new StatusModel();
  private readonly item = vscode.window.createStatusBarItem("ragls.status", vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = "ragls";
    this.item.command = "ragls.showMenu";
    this.render();
    this.item.show();
  }

  /** Applies a change to the model, then redraws. */
  update(change: (model: StatusModel) => void): void {
    change(this.model);
    this.render();
  }

  private render(): void {
    const view = this.model.view();
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.severity === "ok" ? undefined
      : new vscode.ThemeColor(view.severity === "error" ? "statusBarItem.errorBackground" : "statusBarItem.warningBackground");
  }

  dispose(): void {
    this.item.dispose();
  }
}

const KEEP = 50;

/** Answers live in a read-only virtual document scheme, so closing one never asks to save it. */
export class Answers implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = "ragls-answer";
  private readonly docs = new Map<string, string>();
  private serial = 0;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(Answers.scheme, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? "This answer is no longer kept: ask again.";
  }

  async show(kind: AnswerKind, subject: string, markdown: unknown): Promise<void> {
    const uri = vscode.Uri.from({ scheme: Answers.scheme, path: `/${answerFileName(kind, subject, ++this.serial)}` });
    this.docs.set(uri.toString(), answerMarkdown(kind, subject, markdown));
    while (this.docs.size > KEEP) this.docs.delete(this.docs.keys().next().value as string);
    try {
      await vscode.commands.executeCommand("markdown.showPreviewToSide", uri);
    } catch {
      // the built-in Markdown extension is disabled: show the source instead
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.languages.setTextDocumentLanguage(doc, "markdown");
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    }
  }

  dispose(): void {
    this.registration.dispose();
  }
}
