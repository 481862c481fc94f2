//! Stage 5, Start migration: the cutover batch. Its tasks and checks are defined here; their work is not built
//! yet, and the wizard says so.

use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};

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
    settings: &[],
};
