//! Stage 8, Final sync: the incremental sync after the MX change, completing and removing the batch. Defined
//! here; not built yet, and the wizard says so.

use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(8);

plan_ids! {
    /// The tasks of stage 8; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        CompleteBatch = "complete-batch",
        RemoveBatch = "remove-batch",
    }
}

plan_ids! {
    /// The checks of stage 8; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        LastSyncAfterMx = "last-sync-after-mx",
        BatchCompleted = "batch-completed",
        BatchRemoved = "batch-removed",
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
            help: "Runs the final incremental sync and finishes the migration.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::FinalSync(Task::RemoveBatch),
            title: "Remove the batch",
            help: "Deletes the batch once completed and incremental sync has stopped.",
            demo_only: false,
        },
    ],
    checks: &[
        CheckDef {
            id: CheckId::FinalSync(Check::LastSyncAfterMx),
            title: "Last sync after the MX change",
            help: "Every mailbox's last sync is later than the MX change.",
        },
        CheckDef {
            id: CheckId::FinalSync(Check::BatchCompleted),
            title: "Batch completed",
            help: "The batch reached Completed.",
        },
        CheckDef {
            id: CheckId::FinalSync(Check::BatchRemoved),
            title: "Batch removed",
            help: "No migration batch is left in the tenant.",
        },
    ],
    settings: &[],
};
