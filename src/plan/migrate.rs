//! Stage 5, Start migration: the cutover batch. Its ids, definition and settings are here; the live model of the
//! batch watch is in [`view`], what to poll next in [`poll`], each mailbox's health and the stall rule in
//! [`health`], throughput and ETA in [`progress`], what a headless follower prints in [`follow`], and the
//! verdicts of the two checks in [`checks`]. Pure.

pub mod checks;
pub mod follow;
pub mod health;
pub mod poll;
pub mod progress;
pub mod view;

/// The statuses the stage judges, as Exchange names them: the TUI reads them from here, never from the client.
pub use crate::m365::exo::values::{BatchStatus, UserStatus};

use super::settings::Setting;
use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};
use serde::{Deserialize, Serialize};

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(5);

plan_ids! {
    /// The tasks of stage 5; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        CreateBatch = "create-batch",
        StartBatch = "start-batch",
    }
}

plan_ids! {
    /// The checks of stage 5; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        BatchState = "batch-state",
        MailboxProgress = "mailbox-progress",
    }
}

/// Stage 5 as data: its tasks and checks, in the order the wizard shows them.
pub static DEF: StageDef = StageDef {
    id: STAGE,
    title: "Start migration",
    help: "Create and start the cutover batch, then watch every mailbox sync.",
    tasks: &[
        TaskDef {
            id: TaskId::Migrate(Task::CreateBatch),
            title: "Create the cutover batch",
            help: "One batch for the whole organisation: a cutover batch takes no CSV.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Migrate(Task::StartBatch),
            title: "Start the batch",
            help: "The initial sync begins; accounts are provisioned from the source.",
            demo_only: false,
        },
    ],
    checks: &[
        CheckDef {
            id: CheckId::Migrate(Check::BatchState),
            title: "Batch syncing",
            help: "The batch is syncing or synced, not failed or stopped.",
        },
        CheckDef {
            id: CheckId::Migrate(Check::MailboxProgress),
            title: "Mailboxes progressing",
            help: "Every mailbox moves; none is stalled or failed without a reason.",
        },
    ],
    settings: &[
        Setting::StartAtOnce,
        Setting::PollWhileSyncing,
        Setting::PollOnceSynced,
        Setting::StallAfter,
        Setting::Notify,
    ],
};

/// How often the batch watch polls while a mailbox syncs, by default (seconds).
pub const DEFAULT_POLL_ACTIVE_SECS: u32 = 30;
/// How often once every mailbox is synced: incremental syncs come only every 24 hours (seconds).
pub const DEFAULT_POLL_IDLE_SECS: u32 = 300;
/// A syncing mailbox whose counters have not moved for this long is stalled (minutes).
pub const DEFAULT_STALL_MINUTES: u32 = 60;

/// What the engineer sets for stage 5: the watch's pace and the stall rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MigrateSettings {
    pub poll_active_secs: u32,
    pub poll_idle_secs: u32,
    pub stall_minutes: u32,
    /// Ring the bell and send a desktop notification when a mailbox fails or stalls and when the batch syncs.
    pub notify: bool,
    /// Create the batch with `-AutoStart`: its initial sync begins as soon as it exists.
    pub start_at_once: bool,
}

impl Default for MigrateSettings {
    fn default() -> Self {
        MigrateSettings {
            poll_active_secs: DEFAULT_POLL_ACTIVE_SECS,
            poll_idle_secs: DEFAULT_POLL_IDLE_SECS,
            stall_minutes: DEFAULT_STALL_MINUTES,
            notify: true,
            start_at_once: false,
        }
    }
}

impl MigrateSettings {
    pub fn stall_after(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.stall_minutes.max(1)))
    }
}
