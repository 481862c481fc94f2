//! Stage 9, Post-migration: its write tasks (transport rules, Exchange Online Protection, licences, the test
//! mail) after a question that says what the write does, the test mail's naming the permission it needs; the
//! closeout report is not built in this version, and the screen says so above its tasks and on Enter.

use super::{DetailLine, Screen};
use crate::plan::TaskId;
use crate::plan::post::Task;
use crate::project::ProjectState;
use crate::protocol::Command;
use crate::tui::app::App;
use crate::tui::dialogs::Dialog;
use crate::tui::dialogs::confirm::Confirm;
use crate::tui::strings;

pub struct Post;

impl Screen for Post {
    fn on_task(&self, app: &mut App, task: TaskId) -> Vec<Command> {
        let question = match task {
            TaskId::Post(Task::TransportRules) => (strings::TRANSPORT_RULES_TITLE, strings::TRANSPORT_RULES_QUESTION),
            TaskId::Post(Task::LicencesFinal) => (strings::LICENCES_TITLE, strings::LICENCES_QUESTION),
            TaskId::Post(Task::EopSettings) => (strings::EOP_TITLE, strings::EOP_QUESTION),
            TaskId::Post(Task::SendTestMail) => (strings::TEST_MAIL_TITLE, strings::TEST_MAIL_QUESTION),
            _ => return app.start_task(task),
        };
        app.dialog = Some(Dialog::Confirm(Confirm {
            title: question.0.to_owned(),
            question: question.1.to_owned(),
            command: Command::RunTask { task },
        }));
        Vec::new()
    }

    fn task_detail(&self, _state: &ProjectState, task: TaskId) -> Vec<DetailLine> {
        match task {
            TaskId::Post(Task::TransportRules) => vec![DetailLine::Text(strings::POST_RULES_FILE.to_owned())],
            _ => Vec::new(),
        }
    }
}
