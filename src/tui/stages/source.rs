//! Stage 2, Source health check: the settings and the password row, the inventory import (`i`) and the mailbox
//! table (`m`: VIP marks, search, filter, sort), whose rows keep the selected mailbox when they re-sort; in a
//! rehearsal, the time estimate beside the simulated initial sync.

use super::Screen;
use crate::plan::TaskId;
use crate::plan::source::Task;
use crate::protocol::Command;
use crate::tui::app::{Action, App, Focus, Row, View};
use crate::tui::dialogs::Dialog;
use crate::tui::dialogs::import::Import;
use crate::tui::keys::{Binding, Key, bind};
use crate::tui::strings;
use crate::tui::widgets::input::TextInput;

pub struct Source;

/// Rows a page key moves in the table.
const PAGE: isize = 10;

static KEYS: &[Binding] = &[
    bind(&[Key::Char('i')], Action::Import, "i", "import", 2, "import the mailbox inventory CSV"),
    bind(&[Key::Char('m')], Action::OpenMailboxes, "m", "mailboxes", 2, "the mailbox table"),
];

static TABLE_KEYS: &[Binding] = &[
    bind(&[Key::Up, Key::Char('k')], Action::MoveUp, "↑↓ PgUp PgDn", "move", 1, "move in the table"),
    bind(&[Key::Down, Key::Char('j')], Action::MoveDown, "", "", 0, ""),
    bind(&[Key::PageUp], Action::PageUp, "", "", 0, ""),
    bind(&[Key::PageDown], Action::PageDown, "", "", 0, ""),
    bind(
        &[Key::Char('v'), Key::Enter],
        Action::ToggleVip,
        "v",
        "VIP",
        1,
        "mark or unmark the selected mailbox as a VIP",
    ),
    bind(&[Key::Char('/')], Action::Search, "/", "search", 2, "search names and addresses"),
    bind(&[Key::Char('f')], Action::NextFilter, "f", "filter", 2, "next filter: all, high-risk, VIP, hidden, shared"),
    bind(&[Key::Char('s')], Action::NextSort, "s", "sort", 2, "next sort: size, name, items, Recoverable Items"),
    bind(&[Key::Esc], Action::Cancel, "Esc", "back", 1, "back to the stage"),
];

impl Screen for Source {
    fn table(&self) -> Option<crate::tui::screens::TableDraw> {
        Some(crate::tui::screens::mailboxes::draw)
    }

    fn after_settings(&self) -> Vec<Row> {
        vec![Row::Password]
    }

    /// A rehearsal's estimate beside its simulated run.
    fn notes(&self, state: &crate::project::ProjectState) -> Vec<super::DetailLine> {
        state.rehearsal.as_ref().map_or_else(Vec::new, |r| {
            let line = crate::plan::source::rehearsal::comparison(r, state.inventory.as_deref(), &state.source);
            vec![super::DetailLine::Strong(line)]
        })
    }

    fn keys(&self, app: &App) -> &'static [Binding] {
        match (app.view, app.mailboxes.search.is_some()) {
            (View::Table, true) => crate::tui::keys::SEARCH,
            (View::Table, false) => TABLE_KEYS,
            (View::Stage, _) => KEYS,
        }
    }

    fn on_action(&self, app: &mut App, action: Action) -> Option<Vec<Command>> {
        if app.view == View::Table && app.focus == Focus::Main {
            return table_action(app, action);
        }
        match action {
            Action::Import => start_import(app),
            Action::OpenMailboxes => open_mailboxes(app),
            _ => return None,
        }
        Some(Vec::new())
    }

    fn on_task(&self, app: &mut App, task: TaskId) -> Vec<Command> {
        match task {
            TaskId::Source(Task::ImportInventory) => start_import(app),
            _ => open_mailboxes(app),
        }
        Vec::new()
    }
}

fn start_import(app: &mut App) {
    if !app.state.is_open(app.stage) {
        app.error(strings::locked(app.stage));
        return;
    }
    // A demo offers the simulated server's inventory; a real project starts from an empty path.
    let offered = app.state.simulator.as_ref().and_then(|s| s.inventory.as_deref());
    app.dialog = Some(Dialog::Import(Import::new(offered)));
}

fn open_mailboxes(app: &mut App) {
    if app.state.inventory.is_none() {
        app.info(strings::NO_INVENTORY);
        return;
    }
    app.view = View::Table;
    app.focus = Focus::Main;
}

/// Keys of the mailbox table; `None` hands the action on to the shared keys.
fn table_action(app: &mut App, action: Action) -> Option<Vec<Command>> {
    if let Some(input) = app.mailboxes.search.as_mut() {
        match action {
            Action::Edit(key) => {
                input.apply(key);
                app.mailboxes.query = input.value().to_owned();
            }
            Action::Cancel => {
                app.mailboxes.query.clear();
                app.mailboxes.search = None;
            }
            Action::Activate => app.mailboxes.search = None,
            _ => {}
        }
        return Some(Vec::new());
    }
    match action {
        Action::MoveUp => move_by(app, -1),
        Action::MoveDown => move_by(app, 1),
        Action::PageUp => move_by(app, -PAGE),
        Action::PageDown => move_by(app, PAGE),
        Action::Cancel => app.view = View::Stage,
        Action::NextFilter => app.mailboxes.filter = app.mailboxes.filter.next(),
        Action::NextSort => app.mailboxes.sort = app.mailboxes.sort.next(),
        Action::Search => app.mailboxes.search = Some(TextInput::new(&app.mailboxes.query)),
        Action::ToggleVip | Action::Activate => {
            let inventory = app.state.inventory.clone()?;
            let key = app.mailboxes.selected_key(&app.mailbox_rows(), &inventory.mailboxes)?;
            let vip = !app.state.vips.contains(&key);
            return Some(vec![Command::SetVip { key, vip }]);
        }
        _ => return None,
    }
    Some(Vec::new())
}

fn move_by(app: &mut App, delta: isize) {
    let rows = app.mailbox_rows();
    if let Some(inventory) = app.state.inventory.clone() {
        app.mailboxes.step(&rows, &inventory.mailboxes, delta);
    }
}
