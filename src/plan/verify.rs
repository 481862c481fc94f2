//! Stage 6, Verify: item counts, failures explained, retries and the migration report. Defined here; not built
//! yet, and the wizard says so.

use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(6);

plan_ids! {
    /// The tasks of stage 6; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        RetryFailed = "retry-failed",
        ExportReport = "export-report",
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
            help: "Restart the sync of each failed mailbox after its cause is fixed.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Verify(Task::ExportReport),
            title: "Export the migration report",
            help: "Migrated and failed mailboxes, with reasons.",
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
    settings: &[],
};
