//! Stage 1, Kickoff: the form above the tasks; its tasks are done by filling the form in.

use super::Screen;
use crate::plan::kickoff::Field;
use crate::plan::{TaskId, TaskStatus};
use crate::project::ProjectState;
use crate::protocol::Command;
use crate::tui::app::{App, Row};
use crate::tui::strings;

pub struct Kickoff;

impl Screen for Kickoff {
    fn form(&self) -> Vec<Row> {
        let mut rows = vec![Row::Header(strings::FORM_HEADER)];
        rows.extend(Field::ALL.into_iter().map(Row::Field));
        rows.push(Row::Budget);
        rows
    }

    fn on_task(&self, app: &mut App, _task: TaskId) -> Vec<Command> {
        app.info(strings::KICKOFF_TASKS_BY_FORM);
        Vec::new()
    }

    fn task_status(&self, state: &ProjectState, task: TaskId) -> Option<TaskStatus> {
        let TaskId::Kickoff(task) = task else { return None };
        Some(if state.kickoff.task_done(task) { TaskStatus::Done } else { TaskStatus::NotStarted })
    }
}
