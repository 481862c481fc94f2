//! Stage 7, MX change: the records to set and the DNS propagation watch. Defined here; not built yet, and the
//! wizard says so.

use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(7);

plan_ids! {
    /// The tasks of stage 7; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        ShowRecords = "show-records",
        RecordMxChange = "record-mx-change",
    }
}

plan_ids! {
    /// The checks of stage 7; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        DnsPropagation = "dns-propagation",
    }
}

/// Stage 7 as data: its tasks and checks, in the order the wizard shows them.
pub static DEF: StageDef = StageDef {
    id: STAGE,
    title: "MX change",
    help: "Point mail at Exchange Online and watch the change reach the world's resolvers.",
    tasks: &[
        TaskDef {
            id: TaskId::Mx(Task::ShowRecords),
            title: "Show the DNS records to set",
            help: "MX, Autodiscover CNAME and SPF, from the tenant's service configuration records.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Mx(Task::RecordMxChange),
            title: "Record the MX change",
            help: "When the customer changed the records.",
            demo_only: false,
        },
    ],
    checks: &[CheckDef {
        id: CheckId::Mx(Check::DnsPropagation),
        title: "DNS propagated",
        help: "Every watched resolver returns the new records.",
    }],
    settings: &[],
};
