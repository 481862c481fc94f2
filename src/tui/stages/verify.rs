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
    let command = Command::RunTaskFor { task: TaskId::Verify(Task::RetryFailed), mailboxes: vec![address.clone()] };
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
    let command = Command::RunTaskFor { task: TaskId::Verify(Task::ApproveSkipped), mailboxes: vec![address.clone()] };
    app.dialog = Some(Dialog::Confirm(Confirm {
        title: strings::APPROVE_TITLE.to_owned(),
        question: strings::approve_question(address, skipped),
        command,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::migrate::UserStatus;
    use crate::plan::migrate::view::tests::{read, t0, user};
    use crate::plan::migrate::view::{BatchView, apply_poll};
    use crate::project::ProjectState;
    use crate::tui::app::Msg;
    use std::sync::Arc;

    /// Stage 6's live table over a batch with a failed mailbox and one synced with 3 skipped items.
    fn table_app() -> App {
        let mut view = BatchView::default();
        let mut skipped = user("b@x.example", UserStatus::Synced, 40);
        skipped.skipped_items = Some(3);
        apply_poll(&mut view, read(vec![user("a@x.example", UserStatus::Failed, 1), skipped], Vec::new()), t0());
        let mut app = App::new(ProjectState::new("acme", t0(), false), None);
        app.stage = crate::plan::verify::STAGE;
        app.view = View::Table;
        app.focus = Focus::Main;
        app.batch = Some(Arc::new(view));
        app.update(Msg::Tick(t0()));
        app
    }

    fn confirmed(app: &App) -> Option<&Command> {
        match &app.dialog {
            Some(Dialog::Confirm(c)) => Some(&c.command),
            _ => None,
        }
    }

    #[test]
    fn a_asks_before_approving_the_selected_mailboxs_skipped_items_and_only_those() {
        let mut app = table_app();
        // The failed mailbox is first: it has nothing skipped, so nothing is asked.
        app.update(Msg::Action(Action::Approve));
        assert_eq!(confirmed(&app), None);
        assert!(app.visible_notice().is_some_and(|n| n.text.contains("a@x.example has no skipped items")));
        app.update(Msg::Action(Action::MoveDown));
        app.update(Msg::Action(Action::Approve));
        let expected = Command::RunTaskFor {
            task: TaskId::Verify(Task::ApproveSkipped),
            mailboxes: vec!["b@x.example".to_owned()],
        };
        assert_eq!(confirmed(&app), Some(&expected));
        let Some(Dialog::Confirm(c)) = &app.dialog else { unreachable!() };
        assert!(c.question.contains("3 skipped item(s) of b@x.example"), "{}", c.question);
    }

    #[test]
    fn r_asks_before_restarting_only_a_failed_mailbox() {
        let mut app = table_app();
        app.update(Msg::Action(Action::Retry));
        let expected =
            Command::RunTaskFor { task: TaskId::Verify(Task::RetryFailed), mailboxes: vec!["a@x.example".to_owned()] };
        assert_eq!(confirmed(&app), Some(&expected));
        app.dialog = None;
        app.update(Msg::Action(Action::MoveDown));
        app.update(Msg::Action(Action::Retry));
        assert_eq!(confirmed(&app), None, "b@x.example is synced");
    }
}
