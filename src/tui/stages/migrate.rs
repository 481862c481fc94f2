//! Stage 5, Start migration: the batch's tasks run (create, start); the live view of the batch and the stage's
//! checks are not built yet, and the screen says so.

use super::Screen;
use crate::plan::TaskId;
use crate::protocol::Command;
use crate::tui::app::App;
use crate::tui::strings;

pub struct Migrate;

impl Screen for Migrate {
    fn unfinished(&self) -> Option<&'static str> {
        Some(strings::MIGRATE_UNFINISHED)
    }

    fn on_task(&self, app: &mut App, task: TaskId) -> Vec<Command> {
        app.start_task(task)
    }
}
