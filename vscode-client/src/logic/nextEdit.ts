/** `ragls/nextEdit`: the request, its answer read defensively, which suggestion to show, how it previews and what
 * Tab does with it. */
import type { Position, Range } from "./requests";

export const NEXT_EDIT_REQUEST = "ragls/nextEdit";
/** Wait this long after the last change of a document before asking where the change goes next. */
export const NEXT_EDIT_DEBOUNCE_MS = 700;
/** Locations whose only reason is nearness to the cursor are no suggestion of their own. */
const WEAK_REASONS = new Set(["", "near the cursor"]);
const HINT_CHARS = 120;
/** Tab accepts when the cursor is this close (lines) to the edit; farther away, it goes there first. */
const NEAR_LINES = 3;

export interface NextEditLocation { uri: string; range: Range; score: number; why: string }
export interface NextEditEdit { uri: string; range: Range; newText: string }
export interface NextEditResult { locations: NextEditLocation[]; edits: NextEditEdit[]; error?: string }

export interface NextEditParams { textDocument: { uri: string }; position: Position }

export function nextEditParams(uri: string, position: Position): NextEditParams {
  return { textDocument: { uri }, position: { line: position.line, character: position.character } };
}

function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === "object" && value !== null;
}

function asPosition(value: unknown): Position | undefined {
  if (!isObject(value) || typeof value.line !== "number" || typeof value.character !== "number") return undefined;
  return { line: value.line, character: value.character };
}

function asRange(value: unknown): Range | undefined {
  if (!isObject(value)) return undefined;
  const start = asPosition(value.start);
  const end = asPosition(value.end);
  return start && end ? { start, end } : undefined;
}

/** The server's answer with anything malformed dropped; `uri` spells its URIs as the editor does. */
export function parseResult(raw: unknown, uri: (value: string) => string = (value) => value): NextEditResult {
  const out: NextEditResult = { locations: [], edits: [] };
  if (!isObject(raw)) return out;
  for (const item of Array.isArray(raw.locations) ? raw.locations as unknown[] : []) {
    const range = isObject(item) ? asRange(item.range) : undefined;
    if (isObject(item) && typeof item.uri === "string" && range) {
      out.locations.push({ uri: uri(item.uri), range, score: typeof item.score === "number" ? item.score : 0,
        why: typeof item.why === "string" ? item.why : "" });
    }
  }
  for (const item of Array.isArray(raw.edits) ? raw.edits as unknown[] : []) {
    const range = isObject(item) ? asRange(item.range) : undefined;
    if (isObject(item) && typeof item.uri === "string" && typeof item.newText === "string" && range) {
      out.edits.push({ uri: uri(item.uri), range, newText: item.newText });
    }
  }
  if (typeof raw.error === "string" && raw.error) out.error = raw.error;
  return out;
}

/** What is shown: an edit to accept, or (without a model, or when it saw nothing to change) only where to go. */
export interface Suggestion {
  kind: "edit" | "location";
  uri: string;
  /** The lines the edit covers (its first edit's start to its last edit's end), or the location. */
  range: Range;
  edits: NextEditEdit[];
  why: string;
}

function before(p: Position, q: Position): boolean {
  return p.line < q.line || (p.line === q.line && p.character < q.character);
}

/** The suggestion to show for an answer: the model's edit at the best location, else the best location that has
 * a reason of its own (not the cursor's line). */
export function chooseSuggestion(result: NextEditResult, cursor: { uri: string; line: number }): Suggestion | undefined {
  const edits = result.edits.filter((e) => e.uri === result.edits[0]?.uri);
  if (edits.length) {
    const start = edits.map((e) => e.range.start).reduce((a, b) => (before(b, a) ? b : a));
    const end = edits.map((e) => e.range.end).reduce((a, b) => (before(a, b) ? b : a));
    const at = result.locations.find((l) => l.uri === edits[0].uri) ?? result.locations[0];
    return { kind: "edit", uri: edits[0].uri, range: { start, end }, edits, why: at?.why ?? "" };
  }
  const best = result.locations.find((l) => !WEAK_REASONS.has(l.why)
    && !(l.uri === cursor.uri && l.range.start.line === cursor.line));
  return best && { kind: "location", uri: best.uri, range: best.range, edits: [], why: best.why };
}

/** The whole lines an edit replaces, first to last (0-based, inclusive); none for a pure insertion. */
export function replacedLines(range: Range): { first: number; last: number } | undefined {
  const { start, end } = range;
  if (start.line === end.line && start.character === end.character) return undefined;
  const last = end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
  return { first: start.line, last };
}

function short(text: string): string {
  const t = text.trim();
  return t.length > HINT_CHARS ? `${t.slice(0, HINT_CHARS - 1)}…` : t;
}

export interface Preview {
  /** Lines the edit replaces or deletes, highlighted. */
  removed: { first: number; last: number }[];
  /** Text shown after the end of a line: what replaces it, or what is inserted below it. */
  hints: { line: number; text: string }[];
}

/** How an edit shows in the editor without changing it: replaced lines highlighted, each followed by its
 * replacement (line by line when the counts agree, else the new lines joined), insertions after the line above. */
export function preview(edits: readonly NextEditEdit[]): Preview {
  const out: Preview = { removed: [], hints: [] };
  for (const edit of edits) {
    const text = edit.newText.replace(/\r?\n$/, "");
    const lines = edit.newText === "" ? [] : text.split(/\r?\n/);
    const span = replacedLines(edit.range);
    if (!span) {
      out.hints.push({ line: Math.max(0, edit.range.start.line - 1), text: `+ ${short(lines.map((l) => l.trim()).join(" ⏎ "))}` });
      continue;
    }
    out.removed.push(span);
    const count = span.last - span.first + 1;
    if (!lines.length) {
      out.hints.push({ line: span.last, text: count > 1 ? `delete these ${count} lines` : "delete this line" });
    } else if (lines.length === count) {
      lines.forEach((line, i) => out.hints.push({ line: span.first + i, text: `→ ${short(line)}` }));
    } else {
      out.hints.push({ line: span.last, text: `→ ${short(lines.map((l) => l.trim()).join(" ⏎ "))}` });
    }
  }
  return out;
}

/** What Tab does with a shown edit: accept it when the cursor is at it, else go to it first. */
export function tabAction(s: Suggestion, cursor: { uri: string; line: number }): "accept" | "goto" {
  if (s.kind !== "edit") return "goto";
  const near = cursor.uri === s.uri && cursor.line >= s.range.start.line - NEAR_LINES && cursor.line <= s.range.end.line + NEAR_LINES;
  return near ? "accept" : "goto";
}

/** The status bar's text for a suggestion: where it is (1-based line) and what it is for. */
export function suggestionLabel(s: Suggestion, relativePath: string): { text: string; tooltip: string } {
  const where = `${relativePath}:${s.range.start.line + 1}`;
  const reason = s.why && !WEAK_REASONS.has(s.why) ? ` (${s.why})` : "";
  return s.kind === "edit"
    ? { text: `$(sparkle) next edit: ${where}`, tooltip: `ragls: next edit at ${where}${reason}. Tab: go to it, then accept; Escape: dismiss.` }
    : { text: `$(arrow-right) next: ${where}`, tooltip: `ragls: the change may continue at ${where}${reason}. Click to go there.` };
}
