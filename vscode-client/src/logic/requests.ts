/** Arguments of the server's commands (ragls.explain, ragls.fix) from an editor selection, and how answers read. */

/** The server's commands (workspace/executeCommand) the extension uses. */
export const SERVER_COMMANDS = {
  fix: "ragls.fix", explain: "ragls.explain", ask: "ragls.ask", reindex: "ragls.reindex", status: "ragls.status",
} as const;

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }
export interface DiagnosticLike { range: Range; message: string; code?: string | number | { value: string | number } }

/** The range a command works on: the selection, or the cursor's whole line when nothing is selected. */
export function commandRange(selection: Range): Range {
  const { start, end } = selection;
  if (start.line === end.line && start.character === end.character) {
    return { start: { line: start.line, character: 0 }, end: { line: start.line + 1, character: 0 } };
  }
  return { start: { ...start }, end: { ...end } };
}

function overlaps(a: Range, b: Range): boolean {
  const before = (p: Position, q: Position) => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

/** The diagnostics within a range as the server's fix command takes them ("line N: message [code]"). */
export function diagnosticsText(diagnostics: DiagnosticLike[], range: Range): string[] {
  return diagnostics.filter((d) => overlaps(d.range, range)).map((d) => {
    const code = typeof d.code === "object" ? d.code.value : d.code;
    return `line ${d.range.start.line + 1}: ${d.message}${code !== undefined && code !== "" ? ` [${code}]` : ""}`;
  });
}

/** `path:8-13` for a range (1-based lines; a selection ending at column 0 ends on the line before). */
export function rangeLabel(relativePath: string, range: Range): string {
  const first = range.start.line + 1;
  const last = Math.max(first, range.end.line + (range.end.character === 0 && range.end.line > range.start.line ? 0 : 1));
  return `${relativePath}:${first === last ? first : `${first}-${last}`}`;
}

export type AnswerKind = "explain" | "ask" | "status";

/** The Markdown document that shows an answer: what was asked as its heading, then the server's Markdown. */
export function answerMarkdown(kind: AnswerKind, subject: string, markdown: unknown): string {
  const heading = kind === "explain" ? `Explanation of \`${subject}\`` : subject.replace(/\s+/g, " ").trim();
  const body = typeof markdown === "string" && markdown.trim() ? markdown.trim() : "_The server returned no answer._";
  return `# ${heading}\n\n${body}\n`;
}

/** A short file name for an answer's tab. */
export function answerFileName(kind: AnswerKind, subject: string, serial: number): string {
  const slug = subject.replace(/[^A-Za-z0-9_.:-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48) || kind;
  return `${kind}-${serial}-${slug.replace(/:/g, "_")}.md`;
}
