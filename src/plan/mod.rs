//! The migration plan as data: the nine stages with their tasks and checks, check results, stage gating and
//! the kickoff rules. Pure: nothing here touches the disk, the network or the terminal.

pub mod check;
pub mod final_sync;
pub mod gating;
pub mod kickoff;
pub mod migrate;
pub mod mx;
pub mod post;
pub mod prepare;
pub mod settings;
pub mod source;
pub mod stages;
pub mod users;
pub mod verify;

pub use check::{CheckResult, Outcome, Override};
pub use gating::{StageRecord, StageStatus, TaskRecord, TaskStatus};
pub use stages::{CheckDef, CheckId, PLAN, StageDef, StageId, TaskDef, TaskId};
