//! Stage 8, Final sync: its tasks (complete the batch, remove it, remove the endpoint, add the X500 addresses),
//! the first three after a question that says what the write does; its checks, whose evidence (the mailboxes
//! still waiting for their incremental sync, those that did not complete) shows in the detail pane; the batch's
//! live table (`m`, as in stage 5); `a` approves the skipped items that block completion (stage 6's task); and,
//! below any row, what the customer must do by hand.

use super::migrate::{open_table, table_action};
use super::{DetailLine, Screen};
use crate::plan::TaskId;
use crate::plan::final_sync::Task;
use crate::plan::final_sync::advice::advice;
use crate::project::ProjectState;
use crate::protocol::Command;
use crate::tui::app::{Action, App, Focus, View};
use crate::tui::dialogs::Dialog;
use crate::tui::dialogs::confirm::Confirm;
use crate::tui::keys::{Binding, Key, bind};
use crate::tui::strings;

pub struct FinalSync;

static KEYS: &[Binding] = &[
    bind(&[Key::Char('m')], Action::OpenMailboxes, "m", "live table", 2, "the batch's mailboxes, live"),
    bind(
        &[Key::Char('a')],
        Action::Approve,
        "a",
        "approve skipped",
        2,
        "approve the skipped items that block completion",
    ),
];

impl Screen for FinalSync {
    fn keys(&self, app: &App) -> &'static [Binding] {
        match (app.view, app.batch_table.search.is_some()) {
            (View::Table, true) => crate::tui::keys::SEARCH,
            (View::Table, false) => super::migrate::TABLE_KEYS,
            (View::Stage, _) => KEYS,
        }
    }

    fn table(&self) -> Option<crate::tui::screens::TableDraw> {
        Some(crate::tui::screens::batch::draw)
    }

    fn on_action(&self, app: &mut App, action: Action) -> Option<Vec<Command>> {
        if app.view == View::Table && app.focus == Focus::Main {
            return table_action(app, action);
        }
        match action {
            Action::OpenMailboxes => Some(open_table(app)),
            Action::Approve => {
                let task = TaskId::Verify(crate::plan::verify::Task::ApproveSkipped);
                ask(app, strings::APPROVE_ALL_TITLE, strings::APPROVE_ALL_QUESTION, task);
                Some(Vec::new())
            }
            _ => None,
        }
    }

    fn on_task(&self, app: &mut App, task: TaskId) -> Vec<Command> {
        let question = match task {
            TaskId::FinalSync(Task::CompleteBatch) => Some((strings::COMPLETE_TITLE, strings::COMPLETE_QUESTION)),
            TaskId::FinalSync(Task::RemoveBatch) => Some((strings::REMOVE_TITLE, strings::REMOVE_QUESTION)),
            TaskId::FinalSync(Task::RemoveEndpoint) => {
                Some((strings::REMOVE_ENDPOINT_TITLE, strings::REMOVE_ENDPOINT_QUESTION))
            }
            _ => None,
        };
        match question {
            Some((title, text)) => {
                ask(app, title, text, task);
                Vec::new()
            }
            None => app.start_task(task),
        }
    }

    fn notes(&self, state: &ProjectState) -> Vec<DetailLine> {
        let mut lines = vec![DetailLine::Key(strings::FINAL_SYNC_KEYS.to_owned()), DetailLine::Text(String::new())];
        lines.push(DetailLine::Strong(strings::ADVICE_HEADER.to_owned()));
        for a in advice(state.source_access.exchange_server.as_deref()) {
            lines.push(DetailLine::Strong(format!("• {}", a.title)));
            lines.push(DetailLine::Text(format!("  {}", a.text)));
            if let Some(command) = a.command {
                lines.push(DetailLine::Key(format!("  {command}")));
            }
        }
        lines
    }
}

/// A question before a write; `y` runs `task`.
fn ask(app: &mut App, title: &str, question: &str, task: TaskId) {
    app.dialog = Some(Dialog::Confirm(Confirm {
        title: title.to_owned(),
        question: question.to_owned(),
        command: Command::RunTask { task },
    }));
}
