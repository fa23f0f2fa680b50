// Generated from src-tauri/src/ipc.rs by `UPDATE_BINDINGS=1 cargo test -p lookback bindings`.
// Do not edit by hand.

export type ErrorKind = "no_workspace" | "not_found" | "not_a_workspace" | "damaged" | "already_exists" | "newer_version" | "invalid_input" | "internal";

export type IpcError = { kind: ErrorKind, message: string, };

export type StartupState = { workspace: WorkspaceInfo | null, 
/**
 * Where "Open the demo workspace" writes (or finds) the demo.
 */
demo_path: string, 
/**
 * Recently opened workspace files, most recent first, that still exist.
 */
recent: Array<string>, };

export type WorkspaceInfo = { path: string, name: string, reporting_currency: string, reporting_timezone: string, };

export type MoneyAmount = { currency: string, 
/**
 * Exact decimal in major units, e.g. "1234.50".
 */
amount: string, minor: number, };

export type RevenueByCurrency = { currency: string, gross: MoneyAmount, refunds: MoneyAmount, chargebacks: MoneyAmount, net: MoneyAmount, };

export type SourceFreshness = { source_id: string, kind: string, name: string, last_success_at_ms: number | null, last_error: string | null, records: number, };

export type Overview = { workspace: WorkspaceInfo, orders: number, revenue: Array<RevenueByCurrency>, spend: Array<MoneyAmount>, touches: number, creators: number, campaigns: number, first_activity_at_ms: number | null, last_activity_at_ms: number | null, dead_letters: number, sources: Array<SourceFreshness>, };

