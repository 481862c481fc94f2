//! Stage 6, Verify: its ids, definition and settings. The failure catalogue (every failed or stalled mailbox to
//! a known cause and its fix) is in [`catalogue`]; the `item-counts` and `failures-explained` verdicts are in
//! [`checks`]. Pure: they judge stage 5's live view of the batch.

pub mod catalogue;
pub mod checks;

use super::settings::Setting;
use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};
use serde::{Deserialize, Serialize};

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(6);

plan_ids! {
    /// The tasks of stage 6; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        RetryFailed = "retry-failed",
        ExportReport = "export-report",
        ApproveSkipped = "approve-skipped",
    }
}

plan_ids! {
    /// The checks of stage 6; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        ItemCounts = "item-counts",
        FailuresExplained = "failures-explained",
    }
}

/// Stage 6 as data: its tasks and checks, in the order the wizard shows them.
pub static DEF: StageDef = StageDef {
    id: STAGE,
    title: "Verify",
    help: "Compare what arrived with the source inventory, retry what failed and report.",
    tasks: &[
        TaskDef {
            id: TaskId::Verify(Task::RetryFailed),
            title: "Retry failed mailboxes",
            help: "Restart the sync of each failed mailbox after its cause is fixed; one only: r on it in the live \
                   table (m).",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Verify(Task::ExportReport),
            title: "Export the migration report",
            help: "Migrated and failed mailboxes, with reasons.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Verify(Task::ApproveSkipped),
            title: "Approve the skipped items",
            help: "List each mailbox's skipped items (too large or corrupt), then approve them so the batch can \
                   complete; a mailbox approved already is left. One only: a on it in the live table (m).",
            demo_only: false,
        },
    ],
    checks: &[
        CheckDef {
            id: CheckId::Verify(Check::ItemCounts),
            title: "Item counts match",
            help: "Per mailbox, items synced against the source inventory.",
        },
        CheckDef {
            id: CheckId::Verify(Check::FailuresExplained),
            title: "Failures explained",
            help: "Every failed mailbox has a named cause and fix.",
        },
    ],
    settings: &[Setting::ItemTolerance],
};

/// How far, in percent, the items that arrived may fall short of the source's count before the check says so.
pub const DEFAULT_ITEM_TOLERANCE_PERCENT: u32 = 1;

/// What the engineer sets for stage 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VerifySettings {
    pub item_tolerance_percent: u32,
}

impl Default for VerifySettings {
    fn default() -> Self {
        VerifySettings { item_tolerance_percent: DEFAULT_ITEM_TOLERANCE_PERCENT }
    }
}
