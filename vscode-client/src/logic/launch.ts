/** How the server is started: its command line and environment from settings, and why it cannot start. */
import * as fs from "node:fs";
import * as path from "node:path";

export interface LaunchSettings {
  command: string;
  args: string[];
  pythonPath: string;
  env: { [name: string]: string };
}

export interface Launch {
  command: string;
  args: string[];
  /** Set when started as `<python> -m ragls.server`. */
  python?: string;
}

export interface Vars {
  home: string;
  workspaceFolder?: string;
  env: { [name: string]: string | undefined };
}

export const INSTALL_HINT = "pip install ragls";

/** `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}` expanded, as VS Code users write paths. */
export function expand(value: string, vars: Vars): string {
  let out = value.trim();
  if (out === "~" || out.startsWith("~/") || out.startsWith("~\\")) out = vars.home + out.slice(1);
  return out.replace(/\$\{(userHome|workspaceFolder|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (whole, name: string, env?: string) => {
    if (env !== undefined) return vars.env[env] ?? "";
    if (name === "userHome") return vars.home;
    return vars.workspaceFolder ?? whole;
  });
}

/** The command line: `<pythonPath> -m ragls.server` when an interpreter is set, else `<command> <args>`. */
export function resolveLaunch(settings: LaunchSettings, vars: Vars): Launch {
  const python = expand(settings.pythonPath ?? "", vars);
  if (python) return { command: python, args: ["-m", "ragls.server"], python };
  const command = expand(settings.command ?? "", vars) || "ragls";
  const args = (settings.args ?? []).map((arg) => expand(String(arg), vars));
  return { command, args };
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `command` resolves: itself when it holds a path separator, else the first match on PATH (with
 * PATHEXT on Windows); undefined when there is none. */
export function findExecutable(command: string, env: { [name: string]: string | undefined },
  platform: NodeJS.Platform = process.platform, exists: (file: string) => boolean = isExecutableFile): string | undefined {
  const windows = platform === "win32";
  const exts = windows ? ["", ...(env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter(Boolean)] : [""];
  const candidates = (base: string) => exts.map((ext) => base + ext);
  if (command.includes("/") || (windows && command.includes("\\"))) {
    return candidates(command).find(exists);
  }
  const dirs = (env.PATH ?? env.Path ?? "").split(windows ? ";" : ":").filter(Boolean);
  for (const dir of dirs) {
    const found = candidates(path.join(dir, command)).find(exists);
    if (found) return found;
  }
  return undefined;
}

export interface ServerEnv {
  env: { [name: string]: string };
  warnings: string[];
}

/** The server process's environment: VS Code's own, `ragls.server.env`, no telemetry from the vector store,
 * and the API key (from VS Code's secret storage) in the variable named by `ragls.model.apiKeyEnv`. The key
 * is never taken from settings. */
export function serverEnv(base: { [name: string]: string | undefined }, extra: { [name: string]: unknown },
  apiKeyEnv: string, apiKey: string | undefined): ServerEnv {
  const env: { [name: string]: string } = {};
  for (const [name, value] of Object.entries(base)) if (value !== undefined) env[name] = value;
  const warnings: string[] = [];
  const keyVar = apiKeyEnv.trim() || "OPENAI_API_KEY";
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (name === keyVar) {
      warnings.push(`ragls.server.env sets ${name}, the API key's variable: ignored. Use "ragls: Set API Key", which keeps the key in the OS keychain.`);
    } else if (typeof value === "string") {
      env[name] = value;
    } else {
      warnings.push(`ragls.server.env.${name} should be a string: ignored.`);
    }
  }
  env.ANONYMIZED_TELEMETRY = "False";
  if (apiKey) env[keyVar] = apiKey;
  return { env, warnings };
}

export function commandLine(launch: Launch): string {
  return [launch.command, ...launch.args].map((part) => (/\s/.test(part) ? JSON.stringify(part) : part)).join(" ");
}

/** Why the server cannot be found, and how to fix it. */
export function notFoundMessage(launch: Launch): string {
  if (launch.python) {
    return `ragls: cannot start the server: the Python interpreter "${launch.python}" was not found. ` +
      `Set ragls.server.pythonPath to an interpreter that has ragls installed (${INSTALL_HINT}), or clear it to run "ragls serve".`;
  }
  return `ragls: cannot start the server: "${launch.command}" was not found${launch.command.includes("/") ? "" : " on PATH"}. ` +
    `Install it with "${INSTALL_HINT}", or set ragls.server.command to its full path, or ragls.server.pythonPath ` +
    "to a Python interpreter that has ragls installed.";
}

/** Why a server that was found stopped while starting (its last stderr line says why), and how to fix it. */
export function startFailedMessage(launch: Launch, stderrTail: string[]): string {
  const last = [...stderrTail].reverse().find((line) => line.trim())?.trim();
  const missing = stderrTail.some((line) => /No module named '?ragls/.test(line));
  let hint = "See Output › ragls for its log.";
  if (missing && launch.python) hint = `ragls is not installed for ${launch.python}: run "${launch.python} -m pip install ragls", or set ragls.server.pythonPath to another interpreter.`;
  else if (missing) hint = `Reinstall it with "${INSTALL_HINT}".`;
  return `ragls: the server (${commandLine(launch)}) stopped while starting${last ? `: ${last}` : ""}. ${hint}`;
}
