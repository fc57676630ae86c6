/** The status bar's state: server lifecycle, indexing progress (work-done progress) and `ragls.status` answers. */

export interface ProgressValue {
  kind: "begin" | "report" | "end";
  title?: string;
  message?: string;
  percentage?: number;
}

interface Percentiles { p50: number; p95: number }

/** What the server's `ragls.status` command answers (fields the status bar uses). */
export interface ServerStatus {
  state?: string;
  index?: string | null;
  folders?: { root?: string; name?: string; state?: string; index?: string | null }[];
  model?: { configured?: boolean; baseUrl?: string | null; chatModel?: string | null; completionModel?: string | null };
  completion?: { requests?: number; own_ms?: Percentiles | null; model_ms?: Percentiles | null };
  acceptance?: Acceptance;
}

/** Shown, accepted and dismissed inline completions (kept on this machine only), overall and per language. */
interface Acceptance {
  shown?: number;
  accepted?: number;
  dismissed?: number;
  rate?: number | null;
  languages?: { [language: string]: { shown?: number; accepted?: number; rate?: number | null } };
}

export type Severity = "ok" | "warning" | "error";

export interface StatusView {
  text: string;
  tooltip: string;
  severity: Severity;
}

type Phase = "starting" | "running" | "stopped";

export class StatusModel {
  private phase: Phase = "starting";
  private readonly tasks = new Map<string, ProgressValue>();
  private lastIndex?: string;
  private stopReason?: string;
  private server?: ServerStatus;
  completionsEnabled = true;

  starting(): void {
    this.phase = "starting";
    this.tasks.clear();
    this.stopReason = undefined;
  }

  running(): void {
    this.phase = "running";
  }

  stopped(reason?: string): void {
    this.phase = "stopped";
    this.tasks.clear();
    this.stopReason = reason;
  }

  /** A `$/progress` value of a work-done token the server created. */
  progress(token: string, value: ProgressValue): void {
    if (value.kind === "end") {
      this.tasks.delete(token);
      if (value.message) this.lastIndex = value.message;
      return;
    }
    const previous = this.tasks.get(token);
    this.tasks.set(token, { ...previous, ...value, title: value.title ?? previous?.title });
  }

  serverStatus(status: ServerStatus): void {
    this.server = status;
    const index = status.index ?? status.folders?.find((f) => f.index)?.index;
    if (index) this.lastIndex = index;
  }

  private indexFailed(): boolean {
    return this.server?.state === "error" || (this.lastIndex ?? "").startsWith("indexing failed");
  }

  view(): StatusView {
    const lines: string[] = [];
    let view: Omit<StatusView, "tooltip">;
    const task = [...this.tasks.values()].pop();
    if (this.phase === "stopped") {
      view = { text: "$(error) ragls", severity: "error" };
      lines.push(`The server stopped${this.stopReason ? `: ${this.stopReason}` : ""}. Click to restart it or see its log.`);
    } else if (this.phase === "starting") {
      view = { text: "$(loading~spin) ragls", severity: "ok" };
      lines.push("Starting the server…");
    } else if (task) {
      const done = task.message ?? (task.percentage !== undefined ? `${task.percentage}%` : "");
      view = { text: `$(sync~spin) ragls${done ? ` ${done}` : ""}`, severity: "ok" };
      lines.push(`Indexing the workspace${done ? `: ${done}` : "…"} (completions work meanwhile)`);
    } else if (this.indexFailed()) {
      view = { text: "$(error) ragls", severity: "error" };
    } else if (this.server?.model?.configured === false) {
      view = { text: "$(warning) ragls: no model", severity: "warning" };
      lines.push("No model configured: set ragls.model.baseUrl and ragls.model.chatModel (or OPENAI_BASE_URL and " +
        "RAGLS_MODEL), and the API key with \"ragls: Set API Key\" if the endpoint needs one.");
    } else if (!this.completionsEnabled) {
      view = { text: "$(circle-slash) ragls", severity: "ok" };
    } else {
      view = { text: "$(check) ragls", severity: "ok" };
    }
    if (this.lastIndex) lines.push(`Index: ${this.lastIndex}`);
    const model = this.server?.model;
    if (model?.configured) {
      const completion = model.completionModel && model.completionModel !== model.chatModel ? `, completions ${model.completionModel}` : "";
      lines.push(`Model: ${model.chatModel ?? "?"}${completion} at ${model.baseUrl ?? "the default endpoint"}`);
    }
    lines.push(`Inline completions: ${this.completionsEnabled ? "on" : "off"}${timings(this.server?.completion)}`);
    const accepted = acceptanceText(this.server?.acceptance);
    if (accepted) lines.push(`Accepted: ${accepted}`);
    lines.push("Click for ragls commands.");
    return { ...view, tooltip: lines.join("\n") };
  }
}

function timings(completion: ServerStatus["completion"]): string {
  if (!completion?.requests || !completion.own_ms) return "";
  const model = completion.model_ms ? `, model p50 ${Math.round(completion.model_ms.p50)} ms` : "";
  return ` (${completion.requests} served; ragls p50 ${Math.round(completion.own_ms.p50)} ms${model})`;
}

/** "12 of 30 (40%)", or "" before any completion was shown. */
export function acceptanceText(a?: Acceptance): string {
  if (!a?.shown) return "";
  return `${a.accepted ?? 0} of ${a.shown} (${Math.round((a.rate ?? 0) * 100)}%)`;
}

/** `ragls.status` as a Markdown page ("ragls: Show Status"). */
export function statusMarkdown(status: ServerStatus & { root?: string | null; model?: { fimTemplate?: string | null } }): string {
  const ms = (p?: Percentiles | null) => (p ? `p50 ${p.p50} ms, p95 ${p.p95} ms` : "none yet");
  const m = status.model ?? {};
  const c = status.completion ?? {};
  return [
    `- **State**: ${status.state ?? "unknown"}`,
    ...(status.folders?.length
      ? status.folders.map((f) => `- **${f.name ?? f.root ?? "folder"}** (${f.state ?? "?"}): ${f.index ?? "not indexed yet"}`)
      : [`- **Workspace**: ${status.root ?? "none"}`, `- **Index**: ${status.index ?? "not built yet"}`]),
    `- **Model**: ${m.configured ? "configured" : "not configured"}; chat \`${m.chatModel ?? "-"}\`, completions ` +
      `\`${m.completionModel ?? "-"}\`, FIM template \`${m.fimTemplate ?? "none (chat prompts)"}\`, endpoint ` +
      `${m.baseUrl ?? "the default (OpenAI)"}`,
    `- **Completions**: ${c.requests ?? 0} served; ragls's own time ${ms(c.own_ms)}; model ${ms(c.model_ms)}`,
    `- **Accepted**: ${acceptanceText(status.acceptance) || "none shown yet"}` +
      Object.entries(status.acceptance?.languages ?? {}).map(([name, l]) => `; ${name} ${acceptanceText(l)}`).join(""),
  ].join("\n");
}
