//! Stage 6, Verify: its checks (item counts, failures explained) and tasks (restart the failed mailboxes, write
//! the migration report) run; what is not built yet, the screen says.

use super::Screen;
use crate::plan::TaskId;
use crate::protocol::Command;
use crate::tui::app::App;
use crate::tui::strings;

pub struct Verify;

impl Screen for Verify {
    fn unfinished(&self) -> Option<&'static str> {
        Some(strings::VERIFY_UNFINISHED)
    }

    fn on_task(&self, app: &mut App, task: TaskId) -> Vec<Command> {
        app.start_task(task)
    }
}
