//! Upgrading a workspace written by an older Lookback to this binary's schema, as a step of its
//! own that shows progress and can be stopped.
//!
//! `Store::open` applies pending migrations silently, which is right for a small file. On a
//! year of data an upgrade rebuilds indexes and backfills totals over millions of rows and can
//! take many seconds (13.9 s for 4M touches from schema 14), so the CLI and the window call
//! [`Store::upgrade`] first: it reports which change it is applying and how long it has run, at
//! each change and every `tick` while one runs, and stops when the observer says so.
//!
//! Architecture Invariant: an upgrade is one transaction (see `migrations`). Stopping it — by
//! the observer, by Ctrl-C or by killing the process — leaves the file exactly as it was, at its
//! old schema version, and the next open upgrades it from the start.

use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::migrations::{MIGRATIONS, SCHEMA_VERSION, apply_pending_observed};
use crate::opening::{check_workspace, configure_read_write};
use crate::{Store, StoreError, StoreResult};

/// A workspace whose schema is older than this binary's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingUpgrade {
    /// The file's schema version.
    pub from_version: i64,
    /// This binary's schema version, which the upgrade brings it to.
    pub to_version: i64,
    /// How many numbered changes (migrations) the upgrade applies.
    pub changes: usize,
}

/// Where a running upgrade stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeProgress {
    pub upgrade: PendingUpgrade,
    /// The change being applied, 1-based (`changes` once finished).
    pub change: usize,
    /// What that change does, in words ("workspace totals").
    pub change_title: String,
    /// Time since the upgrade began.
    pub elapsed: Duration,
    /// Whether the upgrade has committed (the last report of a successful upgrade).
    pub finished: bool,
}

/// What the observer of an upgrade wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeControl {
    Continue,
    /// Stop now and leave the file as it was.
    Stop,
}

/// The state the upgrading thread and its ticker share.
struct Shared<'a> {
    change: usize,
    change_title: String,
    stopped: bool,
    done: bool,
    observer: &'a mut (dyn FnMut(&UpgradeProgress) -> UpgradeControl + Send),
}

impl Store {
    /// Whether the workspace at `path` needs upgrading, found from its header alone (nothing is
    /// written). Missing, foreign, damaged and newer files are refused as by [`Store::open`].
    pub fn pending_upgrade(path: impl AsRef<Path>) -> StoreResult<Option<PendingUpgrade>> {
        let found = check_workspace(path.as_ref())?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerVersion {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok((found < SCHEMA_VERSION).then(|| PendingUpgrade {
            from_version: found,
            to_version: SCHEMA_VERSION,
            changes: MIGRATIONS.iter().filter(|m| m.version > found).count(),
        }))
    }

    /// Upgrades the workspace at `path` to this binary's schema, if it is older, telling
    /// `observer` how it goes: before each change, every `tick` while one runs, and once when it
    /// has committed (`finished`). Returns what was upgraded, or `None` for an up-to-date file
    /// (the observer then hears nothing).
    ///
    /// When the observer answers [`UpgradeControl::Stop`], the running statement is interrupted
    /// and the transaction rolls back: the result is `UpgradeStopped` and the file is unchanged.
    /// The observer is called from a second thread too, never from two at once.
    pub fn upgrade(
        path: impl AsRef<Path>,
        tick: Duration,
        observer: &mut (dyn FnMut(&UpgradeProgress) -> UpgradeControl + Send),
    ) -> StoreResult<Option<PendingUpgrade>> {
        let path = path.as_ref();
        let Some(upgrade) = Store::pending_upgrade(path)? else {
            return Ok(None);
        };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure_read_write(&conn)?;
        let interrupt = conn.get_interrupt_handle();
        let started = Instant::now();
        let progress = |shared: &Shared<'_>, finished: bool| UpgradeProgress {
            upgrade,
            change: shared.change,
            change_title: shared.change_title.clone(),
            elapsed: started.elapsed(),
            finished,
        };
        let shared = Mutex::new(Shared {
            change: 0,
            change_title: String::new(),
            stopped: false,
            done: false,
            observer,
        });
        let wake = Condvar::new();
        let lock = || shared.lock().unwrap_or_else(PoisonError::into_inner);

        let applied = std::thread::scope(|scope| {
            // The ticker: reports while a long statement runs, and interrupts it on Stop.
            scope.spawn(|| {
                let mut guard = lock();
                loop {
                    // Checked before waiting too: the upgrade may have ended before this
                    // thread first took the lock, and its wake-up would then be missed.
                    if guard.done || guard.stopped {
                        return;
                    }
                    guard = wake
                        .wait_timeout(guard, tick)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    if guard.done || guard.stopped {
                        return;
                    }
                    if guard.change == 0 {
                        continue;
                    }
                    let report = progress(&guard, false);
                    if (guard.observer)(&report) == UpgradeControl::Stop {
                        guard.stopped = true;
                        interrupt.interrupt();
                        return;
                    }
                }
            });
            let applied = apply_pending_observed(&mut conn, &mut |migration| {
                let mut guard = lock();
                if guard.stopped {
                    return false;
                }
                guard.change += 1;
                guard.change_title = migration.title();
                let report = progress(&guard, false);
                if (guard.observer)(&report) == UpgradeControl::Stop {
                    guard.stopped = true;
                }
                !guard.stopped
            });
            lock().done = true;
            wake.notify_all();
            applied
        });

        let mut guard = lock();
        match applied {
            Ok(()) => {
                let report = progress(&guard, true);
                (guard.observer)(&report);
                Ok(Some(upgrade))
            }
            // Stopped by the observer: between changes (UpgradeStopped) or inside one (SQLite's
            // interrupt). Either way the transaction rolled back.
            Err(_) if guard.stopped => Err(StoreError::UpgradeStopped {
                path: path.to_path_buf(),
                found: upgrade.from_version,
            }),
            Err(err) => Err(err.in_file(path)),
        }
    }
}
