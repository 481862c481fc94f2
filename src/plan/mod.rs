//! The migration plan as data: the nine stages with their tasks and checks, check results, stage gating and
//! the kickoff rules. Pure: nothing here touches the disk, the network or the terminal.

pub mod check;
pub mod gating;
pub mod kickoff;
pub mod mx;
pub mod prepare;
pub mod settings;
pub mod source;
pub mod stages;
pub mod users;

pub use check::{CheckResult, Outcome, Override};
pub use gating::{StageRecord, StageStatus, TaskRecord, TaskStatus};
pub use stages::{CheckDef, PLAN, StageDef, StageId, TaskDef};
