//! Each stage's screen, one file per stage: the rows it shows besides its tasks and checks, its own keys and
//! what they do, and what its tasks say. Shared code reaches a stage only through [`of`], by its number; adding
//! a stage means its file and one line in [`of`].

pub mod final_sync;
pub mod kickoff;
pub mod migrate;
pub mod mx;
pub mod post;
pub mod prepare;
pub mod source;
pub mod users;
pub mod verify;

use super::app::{Action, App, Row};
use super::keys::Binding;
use crate::plan::{StageId, TaskId, TaskStatus};
use crate::project::ProjectState;
use crate::protocol::Command;

/// A line of a task's details, and how it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailLine {
    /// Something to act on, such as a record to publish.
    Strong(String),
    /// A key to press for it.
    Key(String),
    /// Plain text that explains.
    Text(String),
}

/// One stage's screen. The defaults are those of a stage with nothing of its own.
pub trait Screen: Sync {
    /// Whether the stage's work is built in this version; an unbuilt stage says so on screen.
    fn built(&self) -> bool {
        true
    }

    /// How the stage's table (View::Table) is drawn, if it has one.
    fn table(&self) -> Option<crate::tui::screens::TableDraw> {
        None
    }

    /// Rows above the tasks (the kickoff form).
    fn form(&self) -> Vec<Row> {
        Vec::new()
    }

    /// Rows after the stage's settings (the password of the migration account).
    fn after_settings(&self) -> Vec<Row> {
        Vec::new()
    }

    /// The stage's own keys in the main pane, given what is on screen; searched before the shared ones.
    fn keys(&self, _app: &App) -> &'static [Binding] {
        &[]
    }

    /// Keys the stage borrows from another table after its own (stage 6's live table is stage 5's, plus `r`).
    fn more_keys(&self, _app: &App) -> &'static [Binding] {
        &[]
    }

    /// Handles `action` when the stage has a meaning for it; `None` hands it to the shared keys.
    fn on_action(&self, _app: &mut App, _action: Action) -> Option<Vec<Command>> {
        None
    }

    /// Enter on a task.
    fn on_task(&self, app: &mut App, _task: TaskId) -> Vec<Command> {
        app.info(super::strings::not_available(app.stage));
        Vec::new()
    }

    /// A task's status when it is not the task record's (stage 1's tasks are the form's fields).
    fn task_status(&self, _state: &ProjectState, _task: TaskId) -> Option<TaskStatus> {
        None
    }

    /// Lines the stage shows below any row's details, whatever is selected (stage 8's advice to the customer).
    fn notes(&self, _state: &ProjectState) -> Vec<DetailLine> {
        Vec::new()
    }

    /// What a task's details add to its record and help.
    fn task_detail(&self, _state: &ProjectState, _task: TaskId) -> Vec<DetailLine> {
        Vec::new()
    }
}

/// The screen of `stage`.
pub fn of(stage: StageId) -> &'static dyn Screen {
    use crate::plan;
    match stage {
        plan::kickoff::STAGE => &kickoff::Kickoff,
        plan::source::STAGE => &source::Source,
        plan::users::STAGE => &users::Users,
        plan::prepare::STAGE => &prepare::Prepare,
        plan::migrate::STAGE => &migrate::Migrate,
        plan::verify::STAGE => &verify::Verify,
        plan::mx::STAGE => &mx::MxChange,
        plan::final_sync::STAGE => &final_sync::FinalSync,
        _ => &post::Post,
    }
}
