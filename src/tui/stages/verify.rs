//! Stage 6, Verify: its checks (item counts, failures explained) and tasks (restart the failed mailboxes,
//! approve skipped items, write the migration report), and the batch's live table (`m`, as in stage 5) where
//! `r` restarts the selected failed mailbox and `a` approves its skipped items, each after a question.

use super::Screen;
use super::migrate::{open_table, table_action};
use crate::plan::TaskId;
use crate::plan::migrate::health::Health;
use crate::plan::verify::Task;
use crate::protocol::Command;
use crate::tui::app::{Action, App, Focus, View};
use crate::tui::batch::TableRow;
use crate::tui::dialogs::Dialog;
use crate::tui::dialogs::confirm::Confirm;
use crate::tui::keys::{Binding, Key, bind};
use crate::tui::strings;

pub struct Verify;

static KEYS: &[Binding] =
    &[bind(&[Key::Char('m')], Action::OpenMailboxes, "m", "live table", 2, "the batch's mailboxes, live")];

/// What acts on the selected mailbox; the rest of the live table's keys are stage 5's.
static TABLE_KEYS: &[Binding] = &[
    bind(&[Key::Char('r')], Action::Retry, "r", "restart", 1, "restart the selected failed mailbox"),
    bind(&[Key::Char('a')], Action::Approve, "a", "approve skipped", 2, "approve the selected mailbox's skipped items"),
];

impl Screen for Verify {
    fn keys(&self, app: &App) -> &'static [Binding] {
        match (app.view, app.batch_table.search.is_some()) {
            (View::Table, true) => crate::tui::keys::SEARCH,
            (View::Table, false) => TABLE_KEYS,
            (View::Stage, _) => KEYS,
        }
    }

    fn more_keys(&self, app: &App) -> &'static [Binding] {
        match (app.view, app.batch_table.search.is_some()) {
            (View::Table, false) => super::migrate::TABLE_KEYS,
            _ => &[],
        }
    }

    fn table(&self) -> Option<crate::tui::screens::TableDraw> {
        Some(crate::tui::screens::batch::draw)
    }

    fn on_action(&self, app: &mut App, action: Action) -> Option<Vec<Command>> {
        if app.view == View::Table && app.focus == Focus::Main {
            if app.batch_table.search.is_none() {
                match action {
                    Action::Retry => {
                        ask_restart(app);
                        return Some(Vec::new());
                    }
                    Action::Approve => {
                        ask_approve(app);
                        return Some(Vec::new());
                    }
                    _ => {}
                }
            }
            return table_action(app, action);
        }
        match action {
            Action::OpenMailboxes => Some(open_table(app)),
            _ => None,
        }
    }

    fn on_task(&self, app: &mut App, task: TaskId) -> Vec<Command> {
        app.start_task(task)
    }
}

/// Asks before restarting the selected mailbox; only a failed one.
fn ask_restart(app: &mut App) {
    let Some(view) = app.batch.clone() else { return };
    let now = app.now.unwrap_or_else(chrono::Utc::now);
    let (rows, _) = app.batch_table.rows(&view, &app.state, now);
    let Some(TableRow { key: address, health, .. }) = rows.get(app.batch_table.cursor(&rows)) else { return };
    if *health != Health::Failed {
        app.info(strings::not_failed(address));
        return;
    }
    let cause = view
        .mailbox(address)
        .and_then(|m| crate::plan::verify::catalogue::explain(m, &app.state.migrate, now))
        .map_or_else(|| "no error given".to_owned(), |e| e.cause.title().to_owned());
    let command =
        Command::RunTaskFor { task: TaskId::Verify(Task::RetryFailed), mailboxes: vec![address.clone()] };
    app.dialog = Some(Dialog::Confirm(Confirm {
        title: strings::RESTART_TITLE.to_owned(),
        question: strings::restart_question(address, &cause),
        command,
    }));
}

/// Asks before approving the selected mailbox's skipped items; only one that has some.
fn ask_approve(app: &mut App) {
    let Some(view) = app.batch.clone() else { return };
    let now = app.now.unwrap_or_else(chrono::Utc::now);
    let (rows, _) = app.batch_table.rows(&view, &app.state, now);
    let Some(TableRow { key: address, .. }) = rows.get(app.batch_table.cursor(&rows)) else { return };
    let skipped = view.mailbox(address).map_or(0, |m| m.skipped_items());
    if skipped == 0 {
        app.info(strings::no_skipped(address));
        return;
    }
    let command =
        Command::RunTaskFor { task: TaskId::Verify(Task::ApproveSkipped), mailboxes: vec![address.clone()] };
    app.dialog = Some(Dialog::Confirm(Confirm {
        title: strings::APPROVE_TITLE.to_owned(),
        question: strings::approve_question(address, skipped),
        command,
    }));
}
