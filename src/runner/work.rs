//! What every job of the wizard's network work shares: a stage's live checks as a job, and how a task's outcome
//! is recorded under the plan's task ids. Each job runs on a snapshot of the project and its connections, and
//! hands back a change the runner applies; a missing sign-in or password comes back as a request to the
//! engineer, with the command to send again.

use super::checks::CheckError;
use super::connect::Connections;
use super::jobs::{Apply, Job};
use super::tasks::{TaskError, TaskOutcome};
use super::{Command, Event, outcome, record_check_run};
use crate::m365::{M365, M365Error};
use crate::plan::{StageId, TaskId, TaskRecord, TaskStatus};
use crate::project::{Project, ProjectState};
use chrono::Utc;
use std::sync::Arc;

/// The live checks of `stage`, recorded in the project when they come back.
pub fn checks(stage: StageId, state: ProjectState, conn: Arc<Connections>) -> Job {
    Job::new(format!("Running the checks of stage {stage}"), move |ctx| async move {
        let result = super::stages::run_checks(stage, &state, &conn, &ctx.cancel).await;
        let apply: Apply = Box::new(move |project: &mut Project| match result {
            Ok(results) => {
                let changed = record_check_run(project, stage, results, "wizard");
                match changed {
                    Ok(kept) => {
                        let mut note = crate::plan::gating::check_summary(stage.def(), project.state().stage(stage));
                        if !kept.is_empty() {
                            let ids: Vec<&str> = kept.iter().map(|k| k.check.as_str()).collect();
                            note.push_str(&format!(
                                " Not re-run, their last results stand: {} ({}).",
                                ids.join(", "),
                                kept[0].why.trim_end_matches('.')
                            ));
                        }
                        Event::StateChanged { state: project.snapshot(), note: Some(note) }
                    }
                    Err(e) => outcome::<std::convert::Infallible>(project, "checks", Err(e)),
                }
            }
            Err(CheckError::NotSignedIn(reason)) => {
                Event::SignInNeeded { retry: Some(Box::new(Command::RunChecks { stage })), reason }
            }
            Err(CheckError::Cancelled) => Event::Cancelled { what: format!("The checks of stage {stage}") },
            Err(CheckError::NotBuilt) => Event::NotAvailable { stage },
        });
        apply
    })
    .for_stage(stage)
}

/// What a task hands back to be recorded.
pub struct Done {
    pub outcome: TaskOutcome,
    /// The verification TXT text of each domain the task read.
    pub verification: Option<std::collections::BTreeMap<String, String>>,
    /// What the plan's task becomes: Done, still open (stopped early) or Failed; `None` records nothing.
    pub status: Option<TaskStatus>,
}

impl Done {
    /// A task that finished unless the engineer stopped it.
    pub fn ran(outcome: TaskOutcome) -> Done {
        let status = if outcome.cancelled { TaskStatus::Running } else { TaskStatus::Done };
        Done { outcome, verification: None, status: Some(status) }
    }
}

/// Why a task stopped before its work.
pub enum Stop {
    SignIn(String),
    PasswordNeeded,
    Refused(String),
    Failed(TaskError),
}

impl From<TaskError> for Stop {
    fn from(e: TaskError) -> Stop {
        match e {
            TaskError::M365(e) if needs_sign_in(&e) => Stop::SignIn(e.to_string()),
            other => Stop::Failed(other),
        }
    }
}

impl From<M365Error> for Stop {
    fn from(e: M365Error) -> Stop {
        Stop::from(TaskError::M365(e))
    }
}

fn needs_sign_in(e: &M365Error) -> bool {
    use crate::m365::AuthError;
    matches!(e, M365Error::Auth(AuthError::NotSignedIn { .. } | AuthError::SignInExpired { .. }))
}

/// The tenant's clients, or why there are none (the text names the fix).
pub fn m365(conn: &Connections) -> Result<M365, Stop> {
    match &conn.m365 {
        Ok(m) => Ok(m.clone()),
        Err(e) => Err(Stop::Refused(e.to_string())),
    }
}

/// A task's work as a job whose outcome is recorded under `records` (the plan's ids it stands for); `task` is
/// what a sign-in or password prompt sends again.
pub fn task_job<F, Fut>(task: TaskId, records: &'static [TaskId], label: &str, work: F) -> Job
where
    F: FnOnce(super::jobs::JobContext) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Done, Stop>> + Send + 'static,
{
    Job::new(label, move |ctx| async move {
        let result = work(ctx).await;
        let apply: Apply = Box::new(move |project: &mut Project| record_task(project, task, records, result));
        apply
    })
}

/// Records a task's outcome under its plan ids and says what the engineer must do next, if anything.
fn record_task(project: &mut Project, task: TaskId, records: &[TaskId], result: Result<Done, Stop>) -> Event {
    let stage = task.stage();
    let what = task.def().title;
    let (status, detail, verification) = match result {
        Ok(Done { outcome, status: None, .. }) => {
            return Event::TaskDone { state: project.snapshot(), summary: outcome.summary };
        }
        Ok(Done { outcome, verification, status: Some(status) }) => (status, outcome.summary, verification),
        Err(Stop::SignIn(reason)) => {
            return Event::SignInNeeded { retry: Some(super::stages::retry(task)), reason };
        }
        Err(Stop::PasswordNeeded) => return Event::PasswordNeeded { retry: super::stages::retry(task) },
        Err(Stop::Refused(reason)) => return Event::Refused { what: what.to_owned(), reason },
        Err(Stop::Failed(TaskError::M365(M365Error::Cancelled))) => {
            (TaskStatus::Running, "Stopped by the engineer.".to_owned(), None)
        }
        Err(Stop::Failed(e)) => (TaskStatus::Failed, e.to_string(), None),
    };
    let summary = detail.clone();
    let audit = serde_json::json!({ "task": records, "status": status, "detail": detail });
    let changed = project.change(Some(stage), "record-task", audit, |state| {
        let record = state.stage_mut(stage);
        for id in records {
            record.record_task(*id, TaskRecord { status, detail: detail.clone(), at: Utc::now() });
        }
        // Domains read this time update their records; the others keep theirs.
        state.verification.extend(verification.into_iter().flatten());
        Ok::<(), std::convert::Infallible>(())
    });
    match changed {
        Ok(Ok(())) if status == TaskStatus::Failed => Event::TaskFailed { state: project.snapshot(), error: summary },
        Ok(Ok(())) => Event::TaskDone { state: project.snapshot(), summary },
        other => outcome(project, what, other),
    }
}
