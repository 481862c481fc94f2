//! Stage 8, Final sync: the incremental sync after the MX change, completing and removing the batch, the X500
//! addresses, and what the customer must do by hand. Its rules live in the submodules: the last-sync rule
//! (`last_sync`), the batch's completion and removal (`completion`), the X500 diff (`x500`) and the advice
//! (`advice`). Pure.

pub mod advice;
pub mod completion;
pub mod last_sync;
pub mod x500;

use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(8);

plan_ids! {
    /// The tasks of stage 8; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        CompleteBatch = "complete-batch",
        RemoveBatch = "remove-batch",
        RemoveEndpoint = "remove-endpoint",
        X500Addresses = "x500-addresses",
    }
}

plan_ids! {
    /// The checks of stage 8; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        LastSyncAfterMx = "last-sync-after-mx",
        BatchCompleted = "batch-completed",
        BatchRemoved = "batch-removed",
        X500Present = "x500-present",
    }
}

/// Stage 8 as data: its tasks and checks, in the order the wizard shows them.
pub static DEF: StageDef = StageDef {
    id: STAGE,
    title: "Final sync",
    help: "Let the incremental sync pick up the last mail sent to the old server, then complete and remove the batch.",
    tasks: &[
        TaskDef {
            id: TaskId::FinalSync(Task::CompleteBatch),
            title: "Complete the batch",
            help: "Complete-MigrationBatch: one last incremental sync, then synchronisation stops for good.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::FinalSync(Task::RemoveBatch),
            title: "Remove the batch",
            help: "Remove-MigrationBatch, once the batch is Completed.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::FinalSync(Task::RemoveEndpoint),
            title: "Remove the migration endpoint",
            help: "Remove-MigrationEndpoint, once no batch uses it.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::FinalSync(Task::X500Addresses),
            title: "Add the X500 addresses",
            help: "Each source LegacyExchangeDN as an X500 address of its cloud mailbox, so replies to old mail arrive.",
            demo_only: false,
        },
    ],
    checks: &[
        CheckDef {
            id: CheckId::FinalSync(Check::LastSyncAfterMx),
            title: "Last sync after the MX change",
            help: "Every mailbox's last sync is later than the MX change and the slowest resolver's switch.",
        },
        CheckDef {
            id: CheckId::FinalSync(Check::BatchCompleted),
            title: "Batch completed",
            help: "The batch reached Completed in Exchange Online.",
        },
        CheckDef {
            id: CheckId::FinalSync(Check::BatchRemoved),
            title: "Batch removed",
            help: "No migration batch is left in the tenant.",
        },
        CheckDef {
            id: CheckId::FinalSync(Check::X500Present),
            title: "X500 addresses in place",
            help: "Every migrated mailbox holds its source LegacyExchangeDN as an X500 address.",
        },
    ],
    settings: &[],
};
