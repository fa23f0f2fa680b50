// The UI's only door to Rust: typed wrappers over the Tauri commands. Errors arrive as
// {kind, message}; the UI branches on kind and shows message, never parses it.

import { invoke } from "@tauri-apps/api/core";
import type { IpcError, Overview, StartupState, WorkspaceInfo } from "./bindings";

export function isIpcError(e: unknown): e is IpcError {
  return typeof e === "object" && e !== null && "kind" in e && "message" in e;
}

/** Any thrown value as an IpcError, so screens have one shape to show. */
export function asIpcError(e: unknown): IpcError {
  return isIpcError(e) ? e : { kind: "internal", message: String(e) };
}

export const api = {
  startupState: () => invoke<StartupState>("startup_state"),
  openWorkspace: (path: string) => invoke<WorkspaceInfo>("open_workspace", { path }),
  openDemoWorkspace: () => invoke<WorkspaceInfo>("open_demo_workspace"),
  createWorkspace: (path: string, name: string) => invoke<WorkspaceInfo>("create_workspace", { path, name }),
  overview: () => invoke<Overview>("workspace_overview"),
};
