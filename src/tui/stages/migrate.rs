//! Stage 5, Start migration: the batch's tasks (create; start, which goes on as the watch) and the live table of
//! the batch (`m`): every mailbox with its status, items, data moved, last sync and error, failed and stalled
//! first, a filter (`f`), a sort (`s`), a search (`/`), and the selected mailbox's statistics, error and its cause
//! and fix below.

use super::Screen;
use crate::plan::TaskId;
use crate::protocol::Command;
use crate::tui::app::{Action, App, Focus, View};
use crate::tui::keys::{Binding, Key, bind};
use crate::tui::strings;

pub struct Migrate;

/// Rows a page key moves in the table.
const PAGE: isize = 10;

static KEYS: &[Binding] =
    &[bind(&[Key::Char('m')], Action::OpenMailboxes, "m", "live table", 2, "the batch's mailboxes, live")];

pub static TABLE_KEYS: &[Binding] = &[
    bind(&[Key::Up, Key::Char('k')], Action::MoveUp, "↑↓ PgUp PgDn", "move", 1, "move in the table"),
    bind(&[Key::Down, Key::Char('j')], Action::MoveDown, "", "", 0, ""),
    bind(&[Key::PageUp], Action::PageUp, "", "", 0, ""),
    bind(&[Key::PageDown], Action::PageDown, "", "", 0, ""),
    bind(
        &[Key::Char('f')],
        Action::NextFilter,
        "f",
        "filter",
        2,
        "next filter: all, failed or stalled, in progress, synced, VIP",
    ),
    bind(&[Key::Char('/')], Action::Search, "/", "search", 2, "search the addresses"),
    bind(&[Key::Char('s')], Action::NextSort, "s", "sort", 2, "next sort: attention, address, least done, size"),
    bind(&[Key::Esc], Action::Cancel, "Esc", "back", 1, "back to the stage"),
];

impl Screen for Migrate {
    fn keys(&self, app: &App) -> &'static [Binding] {
        match (app.view, app.batch_table.search.is_some()) {
            (View::Table, true) => crate::tui::keys::SEARCH,
            (View::Table, false) => TABLE_KEYS,
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
            _ => None,
        }
    }

    fn on_task(&self, app: &mut App, task: TaskId) -> Vec<Command> {
        app.start_task(task)
    }
}

/// Opens the live table, once there is a view of the batch.
pub fn open_table(app: &mut App) -> Vec<Command> {
    if app.batch.is_none() {
        app.info(strings::NO_BATCH_VIEW);
    } else {
        app.view = View::Table;
        app.focus = Focus::Main;
    }
    Vec::new()
}

/// The live table's keys (moving, filter, sort, search, back); `None` hands the action on to the shared keys.
pub fn table_action(app: &mut App, action: Action) -> Option<Vec<Command>> {
    {
        {
            if let Some(input) = app.batch_table.search.as_mut() {
                match action {
                    Action::Edit(key) => {
                        input.apply(key);
                        app.batch_table.query = input.value().to_owned();
                    }
                    Action::Cancel => {
                        app.batch_table.query.clear();
                        app.batch_table.search = None;
                    }
                    Action::Activate => app.batch_table.search = None,
                    _ => {}
                }
                return Some(Vec::new());
            }
            let delta = match action {
                Action::MoveUp => -1,
                Action::MoveDown => 1,
                Action::PageUp => -PAGE,
                Action::PageDown => PAGE,
                Action::NextFilter => {
                    app.batch_table.filter = app.batch_table.filter.next();
                    return Some(Vec::new());
                }
                Action::NextSort => {
                    app.batch_table.sort = app.batch_table.sort.next();
                    return Some(Vec::new());
                }
                Action::Search => {
                    let typed = crate::tui::widgets::input::TextInput::new(&app.batch_table.query);
                    app.batch_table.search = Some(typed);
                    return Some(Vec::new());
                }
                Action::Cancel => {
                    app.view = View::Stage;
                    return Some(Vec::new());
                }
                _ => return None,
            };
            let Some(view) = app.batch.clone() else { return Some(Vec::new()) };
            let now = app.now.unwrap_or_else(chrono::Utc::now);
            app.batch_table.step(&view, &app.state, now, delta);
            Some(Vec::new())
        }
    }
}
