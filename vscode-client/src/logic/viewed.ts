/** `ragls/viewedRanges`: the lines an editor shows of a document, as the server takes them (whole lines, the end
 * exclusive), sent again only when they change. */
import type { Range } from "./requests";

export const VIEWED_NOTIFICATION = "ragls/viewedRanges";
export const MAX_RANGES = 10; // of one notification: the server reads no more

export interface ViewedRangesParams { uri: string; ranges: Range[] }

/** The lines of `visible` (VS Code's visible ranges: folds split them) as whole-line LSP ranges, each ending at the
 * start of the line after it; empty or backwards ranges left out. */
export function wholeLines(visible: readonly Range[]): Range[] {
  return visible
    .filter((r) => r.end.line >= r.start.line)
    .slice(0, MAX_RANGES)
    .map((r) => ({ start: { line: r.start.line, character: 0 }, end: { line: r.end.line + 1, character: 0 } }));
}

/** What the server was told last: a scroll of a few pixels, or a switch back to the same view, resends nothing. */
export class ViewedSync {
  private last = "";

  /** The notification to send for the lines `visible` of `uri` now, or undefined when they are what it holds. */
  update(uri: string, visible: readonly Range[]): ViewedRangesParams | undefined {
    const ranges = wholeLines(visible);
    const key = JSON.stringify([uri, ranges]);
    if (!ranges.length || key === this.last) return undefined;
    this.last = key;
    return { uri, ranges };
  }

  /** A new server process: it holds nothing yet. */
  reset(): void {
    this.last = "";
  }
}
