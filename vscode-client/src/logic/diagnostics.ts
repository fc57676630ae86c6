/** `ragls/diagnostics`: the editor's diagnostics of an open document (all sources but ragls) as the server takes
 * them, sent again only when they change. */
import type { Range } from "./requests";

export const DIAGNOSTICS_NOTIFICATION = "ragls/diagnostics";

/** A diagnostic as VS Code holds it: severity 0 (error) to 3 (hint). */
export interface EditorDiagnostic {
  range: Range;
  message: string;
  severity?: number;
  source?: string;
  code?: string | number | { value: string | number };
}

/** LSP's Diagnostic JSON: severity 1 (error) to 4 (hint). */
export interface LspDiagnostic {
  range: Range;
  message: string;
  severity: number;
  source?: string;
  code?: string | number;
}

export interface DiagnosticsParams { uri: string; diagnostics: LspDiagnostic[] }

/** One diagnostic as LSP JSON (plain objects: VS Code's Range and Position are classes). */
export function toLsp(d: EditorDiagnostic): LspDiagnostic {
  const { start, end } = d.range;
  const out: LspDiagnostic = {
    range: { start: { line: start.line, character: start.character }, end: { line: end.line, character: end.character } },
    message: d.message,
    severity: typeof d.severity === "number" && d.severity >= 0 && d.severity <= 3 ? d.severity + 1 : 1,
  };
  if (d.source) out.source = d.source;
  const code = typeof d.code === "object" ? d.code.value : d.code;
  if (code !== undefined && code !== "") out.code = code;
  return out;
}

/** The diagnostics the server is told about: every source but ragls's own. */
export function forwarded(diagnostics: readonly EditorDiagnostic[]): LspDiagnostic[] {
  return diagnostics.filter((d) => d.source !== "ragls").map(toLsp);
}

/** What the server holds per document, so that a change of diagnostics elsewhere resends nothing here. */
export class DiagnosticsSync {
  private readonly sent = new Map<string, string>();

  /** The notification to send for a document now, or undefined when the server already has its diagnostics.
   * A document that is not open (closed, or outside the workspace) is cleared with an empty list, once. */
  update(uri: string, open: boolean, diagnostics: readonly EditorDiagnostic[]): DiagnosticsParams | undefined {
    const list = open ? forwarded(diagnostics) : [];
    const key = JSON.stringify(list);
    if ((this.sent.get(uri) ?? "[]") === key) return undefined;
    if (list.length) this.sent.set(uri, key);
    else this.sent.delete(uri);
    return { uri, diagnostics: list };
  }

  /** A new server process: it holds nothing yet. */
  reset(): void {
    this.sent.clear();
  }
}
