/** What the user is told: a failed server request as one clear message, and the server's stderr by level. */

/** JSON-RPC and LSP error codes the extension treats specially. */
export const ErrorCode = {
  RequestCancelled: -32800,
  ServerCancelled: -32802,
  PendingResponseRejected: -32097,
  ConnectionInactive: -32096,
} as const;

interface ErrorLike { code?: unknown; message?: unknown }

/** True when a request failed only because it was cancelled (nothing to tell the user). */
export function isCancellation(error: unknown): boolean {
  const code = (error as ErrorLike | undefined)?.code;
  return code === ErrorCode.RequestCancelled || code === ErrorCode.ServerCancelled ||
    (error instanceof Error && error.name === "Canceled");
}

/** The message for a failed server command: the server's own words (which say how to fix it; the server sends them
 * clean, without an exception name or a "ragls: " prefix, and only in the error response), prefixed once. */
export function errorText(error: unknown, action: string): string | undefined {
  if (isCancellation(error)) return undefined;
  const code = (error as ErrorLike | undefined)?.code;
  if (code === ErrorCode.ConnectionInactive || code === ErrorCode.PendingResponseRejected) {
    return `ragls: ${action} failed: the server is not running. Run "ragls: Restart Server", or see Output › ragls.`;
  }
  const raw = error instanceof Error || typeof (error as ErrorLike)?.message === "string"
    ? String((error as ErrorLike).message) : String(error);
  const message = raw.trim() || "no details (see Output › ragls)";
  return `ragls: ${action} failed: ${message}`;
}

export type LogLevel = "error" | "warn" | "info" | "debug";

const LEVELS: { [prefix: string]: LogLevel } = { CRITICAL: "error", ERROR: "error", WARNING: "warn", INFO: "info", DEBUG: "debug" };

/** The server's stderr ("LEVEL logger: message" lines, tracebacks under them) as leveled log lines, keeping
 * the last lines to explain a failed start. */
export class StderrLog {
  private level: LogLevel = "info";
  readonly tail: string[] = [];

  constructor(private readonly keep = 20) {}

  line(text: string): LogLevel {
    const prefix = /^([A-Z]+) /.exec(text)?.[1];
    if (prefix && prefix in LEVELS) this.level = LEVELS[prefix];
    else if (text.startsWith("Traceback")) this.level = "error";
    else if (!/^\s/.test(text) && this.level !== "error") this.level = "info"; // a traceback's last line stays an error
    this.tail.push(text);
    if (this.tail.length > this.keep) this.tail.shift();
    return this.level;
  }
}
