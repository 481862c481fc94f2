//! The runner's side of each stage, one file per stage: its checks, tasks and watches. Shared code reaches a
//! stage only through [`of`], by its number; adding a stage means its file and one line in [`of`].

pub mod final_sync;
pub mod kickoff;
pub mod migrate;
pub mod mx;
pub mod post;
pub mod prepare;
pub mod source;
pub mod users;
pub mod verify;

use super::checks::{CheckError, Results};
use super::connect::Connections;
use super::jobs::Job;
use crate::plan::settings::Setting;
use crate::plan::{StageId, TaskId};
use crate::project::ProjectState;
use crate::protocol::{Command, Event};
use futures::future::BoxFuture;
use std::sync::Arc;

/// What a task needs besides the project snapshot.
pub struct TaskInputs {
    pub state: ProjectState,
    pub conn: Arc<Connections>,
    /// The mailboxes the engineer picked (addresses); empty: every one the task applies to.
    pub mailboxes: Vec<String>,
    /// When what the task records happened, as the engineer gave it (the MX change); `None`: now.
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Why a task did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotStarted {
    /// A value is missing or wrong; the text names the fix.
    Refused(String),
    /// The stage's work is not built in this version.
    NotBuilt,
}

impl NotStarted {
    pub fn event(self, task: TaskId) -> Event {
        match self {
            NotStarted::Refused(reason) => Event::Refused { what: task.def().title.to_owned(), reason },
            NotStarted::NotBuilt => Event::NotAvailable { stage: task.stage() },
        }
    }
}

/// A stage's checks that go on the network; read-only.
pub type LiveChecks = for<'a> fn(&'a ProjectState, &'a Connections) -> BoxFuture<'a, Result<Results, CheckError>>;

/// One stage's work. Every method has the answer of a stage that has no such work, so a stage file says only
/// what it does.
pub trait StageWork: Sync {
    /// The stage's checks when they go on the network (they run as a job rather than in place).
    fn live(&self) -> Option<LiveChecks> {
        None
    }

    /// Whether the stage's checks go on the network.
    fn live_checks(&self) -> bool {
        self.live().is_some()
    }

    /// The stage's checks when they read only the project (run in place, at once).
    fn pure_checks(&self, _state: &ProjectState) -> Option<Results> {
        None
    }

    /// The stage's live checks; read-only.
    fn run_checks<'a>(
        &'a self,
        state: &'a ProjectState,
        conn: &'a Connections,
    ) -> BoxFuture<'a, Result<Results, CheckError>> {
        match self.live() {
            Some(checks) => checks(state, conn),
            None => Box::pin(async { Err(CheckError::NotBuilt) }),
        }
    }

    /// Re-takes the checks that read only the project, after any change to it that may touch them.
    fn refresh(&self, _state: &mut ProjectState) {}

    /// Records what follows from a setting of this stage, besides the setting itself.
    fn after_setting(&self, _setting: Setting, _state: &mut ProjectState) {}

    /// Reads what a setting of this stage names (a file) before it is stored: a value that cannot be used is
    /// refused when it is typed, with why, rather than when a task runs hours later.
    fn check_setting(&self, _setting: Setting, _value: &str) -> Result<(), String> {
        Ok(())
    }

    /// A task of this stage as a job.
    fn task(&self, _task: TaskId, _inputs: TaskInputs) -> Result<Job, NotStarted> {
        Err(NotStarted::NotBuilt)
    }

    /// Whether the stage has a watch that runs on its own, read-only ([`StageWork::watch`]).
    fn watches(&self) -> bool {
        false
    }

    /// Whether `task` records a time the engineer may give (`cutover task ID --at TIME`).
    fn takes_time(&self, _task: TaskId) -> bool {
        false
    }

    /// Whether the stage's watch is the one to follow now (`cutover watch` follows the latest stage that wants
    /// it): a watch with something to follow that is not over.
    fn watch_wanted(&self, _state: &ProjectState) -> bool {
        self.watches()
    }

    /// Whether the wizard starts the stage's watch again as it opens the project: it was following something
    /// when the wizard last closed (or died), and what it had seen is recorded.
    fn resume_on_open(&self, _state: &ProjectState) -> bool {
        false
    }

    /// The stage's watch as a job, read-only: it follows what the stage's tasks started and never starts it.
    fn watch(&self, _inputs: TaskInputs) -> Result<Job, NotStarted> {
        Err(NotStarted::NotBuilt)
    }

    /// Whether `task` writes to the tenant, so a headless run asks before it starts (in the wizard, choosing
    /// the task is the ask).
    fn writes_tenant(&self, _task: TaskId) -> bool {
        false
    }

    /// Whether `task` can be run for some mailboxes only ([`TaskInputs::mailboxes`]); the others act on all.
    fn picks_mailboxes(&self, _task: TaskId) -> bool {
        false
    }

    /// Reads back one of the stage's audited writes that a crash cut short (its `action` and `detail` as
    /// recorded), from what it touches; `None` when the action is not one of the stage's writes.
    fn read_back<'a>(
        &'a self,
        _state: &'a ProjectState,
        _write: &'a crate::project::AuditRecord,
        _conn: &'a Connections,
    ) -> super::resume::Reading<'a> {
        None
    }
}

/// The work of `stage`.
pub fn of(stage: StageId) -> &'static dyn StageWork {
    use crate::plan;
    match stage {
        plan::kickoff::STAGE => &kickoff::Work,
        plan::source::STAGE => &source::Work,
        plan::users::STAGE => &users::Work,
        plan::prepare::STAGE => &prepare::Work,
        plan::migrate::STAGE => &migrate::Work,
        plan::verify::STAGE => &verify::Work,
        plan::mx::STAGE => &mx::Work,
        plan::final_sync::STAGE => &final_sync::Work,
        _ => &post::Work,
    }
}

/// Runs the checks of `stage`, live or in place; nothing is written anywhere.
pub async fn run_checks(
    stage: StageId,
    state: &ProjectState,
    conn: &Connections,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<Results, CheckError> {
    let work = async {
        match of(stage).pure_checks(state) {
            Some(results) => Ok(results),
            None => of(stage).run_checks(state, conn).await,
        }
    };
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(CheckError::Cancelled),
        result = work => result,
    }
}

/// The command that runs `task` again, as a sign-in or a password prompt hands it back.
pub fn retry(task: TaskId) -> Box<Command> {
    Box::new(Command::RunTask { task })
}
