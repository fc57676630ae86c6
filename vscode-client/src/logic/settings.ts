/** The `ragls` settings section: what the server receives, defaults from the manifest, and what a change needs. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Section = { [key: string]: Json };

export const SECTION = "ragls";
/** Groups of the section that only the extension reads (how to start the server, the protocol trace). */
const EXTENSION_ONLY = new Set(["server", "trace"]);
/** Server settings read once when it starts: changing one restarts the server. */
const RESTART_KEYS = ["server", "index", "chat.hover", "model.apiKeyEnv"];
/** Server settings the running server applies on `workspace/didChangeConfiguration`. */
const LIVE_KEYS = ["model", "completion", "chat", "nextEdit", "review", "logPrompts"];

function isObject(value: unknown): value is Section {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function emptyToNull(value: Json): Json {
  if (value === "") return null; // an empty string setting means "unset": the server's default or env applies
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, emptyToNull(v)]));
  return value;
}

/** The section as the server reads it: the extension's own keys dropped, empty strings as null. */
export function serverSettings(section: Section): Section {
  return Object.fromEntries(Object.entries(section).filter(([key]) => !EXTENSION_ONLY.has(key))
    .map(([key, value]) => [key, emptyToNull(value)]));
}

/** The answers to a `workspace/configuration` request, given what the client found for its items: each item of
 * the `ragls` section gets the server's settings as VS Code holds them in the item's scope (a folder's own, in a
 * multi-root workspace; no scope: `sectionFor(undefined)`), any other item what was found. */
export function configurationAnswers(items: readonly { section?: string; scopeUri?: string }[], found: readonly unknown[],
  sectionFor: (scopeUri: string | undefined) => Section): unknown[] {
  return found.map((value, i) => (items[i]?.section === SECTION && isObject(value)
    ? serverSettings(sectionFor(items[i]?.scopeUri)) : value));
}

/** `initializationOptions` of the `initialize` request: `{"ragls": {...}}`, as the server expects. */
export function initializationOptions(section: Section): { [SECTION]: Section } {
  return { [SECTION]: serverSettings(section) };
}

/** Nested settings from dotted keys: {"model.baseUrl": x} -> {model: {baseUrl: x}}, later keys winning. */
export function nest(flat: { [key: string]: Json }): Section {
  const out: Section = {};
  for (const [dotted, value] of Object.entries(flat)) {
    const parts = dotted.split(".");
    let node = out;
    for (const part of parts.slice(0, -1)) {
      if (!isObject(node[part])) node[part] = {};
      node = node[part];
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

/** What VS Code's `WorkspaceConfiguration.inspect` tells of one key: the value of each scope that sets it. */
export interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** Keys sent even at their default: the extension acts on them itself (it passes the stored API key to the
 * server in the variable `model.apiKeyEnv` names, so the server must read that one). */
const ALWAYS_SENT = ["model.apiKeyEnv"];

/** Dotted keys of the section's server settings (the extension's own groups left out). */
function serverKeys(section: Section, prefix = ""): string[] {
  return Object.entries(section).flatMap(([key, value]) => {
    if (!prefix && EXTENSION_ONLY.has(key)) return [];
    return isObject(value) ? serverKeys(value, `${prefix}${key}.`) : [`${prefix}${key}`];
  });
}

/** The server settings the user set (the folder's, else the workspace's, else the user's value), without VS Code's
 * defaults: a key left at its default is not sent, so that the server's lower layers (a project's `.ragls.toml`,
 * the user's `config.toml`, the environment) apply to it. `section` is VS Code's whole section (for its keys). */
export function explicitSection(section: Section, inspect: (key: string) => Inspected | undefined): Section {
  const flat: { [key: string]: Json } = {};
  for (const key of serverKeys(section)) {
    const found = inspect(key);
    const value = found?.workspaceFolderValue ?? found?.workspaceValue ?? found?.globalValue;
    if (value !== undefined) flat[key] = value as Json;
    else if (ALWAYS_SENT.includes(key)) flat[key] = lookup(section, key);
  }
  return nest(flat);
}

function lookup(section: Section, dotted: string): Json {
  let node: Json = section;
  for (const part of dotted.split(".")) node = isObject(node) ? node[part] ?? null : null;
  return node;
}

interface Manifest {
  contributes?: { configuration?: { properties?: { [key: string]: { default?: Json } } } };
}

/** The section VS Code would hand out with no user settings: the manifest's defaults, then `overrides`
 * (dotted keys without the `ragls.` prefix, as in settings.json). */
export function sectionFromManifest(manifest: Manifest, overrides: { [key: string]: Json } = {}): Section {
  const flat: { [key: string]: Json } = {};
  for (const [key, spec] of Object.entries(manifest.contributes?.configuration?.properties ?? {})) {
    if (key.startsWith(`${SECTION}.`)) flat[key.slice(SECTION.length + 1)] = spec.default ?? null;
  }
  return nest({ ...flat, ...overrides });
}

export type ChangeEffect = "restart" | "update" | "none";

/** What a configuration change needs, given VS Code's `affectsConfiguration` for it: a server restart (how it
 * starts, the index, hover registration, the API key's variable), pushing new settings, or nothing (trace only:
 * the language client applies it). */
export function changeEffect(affects: (key: string) => boolean): ChangeEffect {
  if (!affects(SECTION)) return "none";
  if (RESTART_KEYS.some((key) => affects(`${SECTION}.${key}`))) return "restart";
  if (LIVE_KEYS.some((key) => affects(`${SECTION}.${key}`))) return "update";
  return "none";
}
