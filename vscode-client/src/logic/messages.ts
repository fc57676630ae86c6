/** What the user is told: server errors as one clear message (never twice), and the server's stderr by level. */

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

/** The message for a failed server command: the server's own words (which say how to fix it), prefixed once. */
export function errorText(error: unknown, action: string): string | undefined {
  if (isCancellation(error)) return undefined;
  const code = (error as ErrorLike | undefined)?.code;
  if (code === ErrorCode.ConnectionInactive || code === ErrorCode.PendingResponseRejected) {
    return `ragls: ${action} failed: the server is not running. Run "ragls: Restart Server", or see Output › ragls.`;
  }
  const raw = error instanceof Error || typeof (error as ErrorLike)?.message === "string"
    ? String((error as ErrorLike).message) : String(error);
  // pygls names the exception's class ("ragls.server.actions.CommandError: ..."): the user needs only its words
  const message = raw.replace(/^[\w.]*(Error|Exception): /, "").replace(/^(ragls: )+/, "").trim() || "no details (see Output › ragls)";
  return `ragls: ${action} failed: ${message}`;
}

/** Key under which two messages count as the same: the server says "ragls: X" where a failed request says
 * "ragls: explain failed: X". */
function sameness(text: string): string {
  return text.replace(/^ragls: ([a-z ]+ failed: )?/i, "").replace(/^(ragls: )+/, "").trim().toLowerCase();
}

/** Shows each message once: the server reports a failed command through window/showMessage and the failed
 * request says the same again. */
export class MessageDeduper {
  private readonly recent = new Map<string, number>();

  constructor(private readonly windowMs = 10_000) {}

  shouldShow(text: string, now: number = Date.now()): boolean {
    for (const [key, at] of this.recent) if (now - at > this.windowMs) this.recent.delete(key);
    const key = sameness(text);
    const seen = [...this.recent.keys()].some((other) => other.includes(key) || key.includes(other));
    this.recent.set(key, now);
    return !seen;
  }
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
