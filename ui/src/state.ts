// What the user chose and expects to find again: date range, model, settled-only, bucket,
// basis and which touches count are shared by every screen and survive a restart (kept in
// localStorage, per workspace file).

import type { Basis, Bucket, ModelChoice, ModelName, Touches, ViewBy, ViewRequest } from "./bindings";

export interface ViewSettings {
  from: string | null;
  to: string | null;
  settledOnly: boolean;
  bucket: Bucket | null;
  /** Which day a credit counts on: its order's (cash) or its touch's (accrual). */
  basis: Basis;
  /** Which touches the runs read; null = the workspace's setting (bot touches excluded unless changed). */
  touches: Touches | null;
  /** null = the workspace's default model. */
  model: ModelChoice | null;
  /** The key each screen groups by. */
  by: Record<string, string>;
  /** Models chosen on the compare screen. */
  compare: ModelName[];
}

const DEFAULTS: ViewSettings = { from: null, to: null, settledOnly: false, bucket: null, basis: "cash", touches: null, model: null, by: {}, compare: ["last-touch", "linear", "position-based", "markov"] };

let workspaceKey = "default";
let current: ViewSettings = { ...DEFAULTS };
const listeners = new Set<() => void>();

function storageKey(): string {
  return `lookback.view-settings.${workspaceKey}`;
}

/** Loads the settings remembered for this workspace file. */
export function loadSettings(workspacePath: string): ViewSettings {
  workspaceKey = workspacePath;
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey()) ?? "null");
    current = { ...DEFAULTS, ...(saved ?? {}), by: { ...(saved?.by ?? {}) } };
  } catch {
    current = { ...DEFAULTS };
  }
  return current;
}

export function settings(): ViewSettings {
  return current;
}

/** Changes some settings, remembers them, and tells every open screen. */
export function updateSettings(patch: Partial<ViewSettings>): void {
  current = { ...current, ...patch };
  try {
    localStorage.setItem(storageKey(), JSON.stringify(current));
  } catch {
    // Private mode or a full disk: the settings still apply for this session.
  }
  for (const l of listeners) l();
}

export function onSettingsChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The request a view screen sends, grouped by `by`. */
export function viewRequest(by: ViewBy): ViewRequest {
  const request: ViewRequest = { model: current.model, by, from: current.from, to: current.to, bucket: current.bucket, settled_only: current.settledOnly, basis: current.basis };
  if (current.touches) request.touches = current.touches;
  return request;
}
