//! What every write task shares, whatever its stage: its outcome, its errors, and the one audited write path.
//! Each task reads the live state first and writes only the difference, through [`JobContext::audited`], so a
//! resume after a crash never repeats a write blindly and a second run says there was nothing to do. The tasks
//! themselves live in their stage's file under `runner/stages/`.

use super::jobs::{AuditedError, JobContext};
use crate::m365::M365Error;
use crate::plan::StageId;
use crate::project::ProjectError;
use std::future::Future;

pub use crate::runner::stages::prepare::registrar::RegistrarError;

/// What a task did, for the screen and the record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskOutcome {
    /// One line for the screen.
    pub summary: String,
    /// The writes made, one line each.
    pub done: Vec<String>,
    /// What needed no write, one line each (already there, already set).
    pub skipped: Vec<String>,
    /// The engineer stopped it; what is in `done` happened, the rest did not.
    pub cancelled: bool,
}

impl TaskOutcome {
    /// Nothing was written.
    pub fn nothing_done(&self) -> bool {
        self.done.is_empty()
    }
}

/// Why a task stopped. Every message names what to do.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    M365(#[from] M365Error),
    #[error("the audit log could not record the change, so it was not made: {0}")]
    NotRecorded(ProjectError),
    #[error(transparent)]
    Registrar(#[from] RegistrarError),
    /// A value handed to the task is not usable.
    #[error("{what}: {fix}")]
    BadInput { what: String, fix: String },
    #[error("the domain {0} is not in the tenant yet: run the task Add email domains first, then verify")]
    DomainNotAdded(String),
    #[error(
        "a migration endpoint named {name} exists already, of type {kind}: remove it in Exchange Online or choose another endpoint name"
    )]
    EndpointNameTaken { name: String, kind: String },
    #[error(
        "the tenant has a cutover batch already, {name} ({status}), and Exchange Online runs one at a time: finish it, or remove it in the Exchange admin center (Remove-MigrationBatch) if it is a leftover, then create this project's batch"
    )]
    OtherCutoverBatch { name: String, status: String },
}

impl<E: Into<TaskError>> From<AuditedError<E>> for TaskError {
    fn from(e: AuditedError<E>) -> TaskError {
        match e {
            AuditedError::NotRecorded(p) => TaskError::NotRecorded(p),
            AuditedError::Failed(e) => e.into(),
        }
    }
}

/// A write through the audit path whose failure ends the task with a [`TaskError`].
pub(crate) async fn write<T, E>(
    ctx: &JobContext,
    stage: StageId,
    action: &str,
    detail: serde_json::Value,
    future: impl Future<Output = Result<T, E>>,
) -> Result<T, TaskError>
where
    E: std::fmt::Display + Into<TaskError>,
{
    ctx.audited(stage, action, detail, future).await.map_err(TaskError::from)
}

/// `n thing` or `n things`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
