/** The client capabilities vscode-languageclient advertises, computed by the library itself with VS Code's API
 * stubbed (VS Code cannot run here): the same object the extension's client sends in `initialize`. */
import type { ClientCapabilities } from "vscode-languageserver-protocol";
import { withVscodeStub } from "../vscodeStub";

export function languageClientCapabilities(vscodeVersion: string): ClientCapabilities {
  return withVscodeStub({ version: vscodeVersion }, () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LanguageClient } = require("vscode-languageclient/node") as typeof import("vscode-languageclient/node");
    const client = new LanguageClient("ragls", "ragls", { command: "ragls" }, { documentSelector: [{ scheme: "file" }] });
    const internal = client as unknown as { computeClientCapabilities: () => ClientCapabilities };
    return JSON.parse(JSON.stringify(internal.computeClientCapabilities())) as ClientCapabilities;
  });
}
