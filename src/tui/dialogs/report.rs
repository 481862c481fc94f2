//! The result of an inventory import, scrolled line by line: rejected rows first, since they need acting on.

use super::Reply;
use crate::inventory::report::ImportReport;
use crate::tui::app::Action;
use crate::tui::keys::{Binding, Key, bind};

/// Lines a page key scrolls.
const PAGE: usize = 10;

pub static KEYS: &[Binding] = &[
    bind(&[Key::Up, Key::Char('k')], Action::MoveUp, "↑↓ PgUp PgDn", "scroll", 1, ""),
    bind(&[Key::Down, Key::Char('j')], Action::MoveDown, "", "", 0, ""),
    bind(&[Key::PageUp], Action::PageUp, "", "", 0, ""),
    bind(&[Key::PageDown, Key::Char(' ')], Action::PageDown, "", "", 0, ""),
    bind(&[Key::Esc, Key::Enter, Key::Char('q')], Action::Cancel, "Esc", "close", 1, ""),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub report: Box<ImportReport>,
    pub scroll: usize,
}

impl Report {
    pub fn on_action(&mut self, action: Action) -> Reply {
        let scroll = match action {
            Action::MoveUp => self.scroll.saturating_sub(1),
            Action::MoveDown => self.scroll + 1,
            Action::PageUp => self.scroll.saturating_sub(PAGE),
            Action::PageDown => self.scroll + PAGE,
            Action::Cancel | Action::Activate | Action::RequestQuit => return Reply::close(),
            _ => self.scroll,
        };
        self.scroll = scroll.min(self.report.lines().len().saturating_sub(1));
        Reply::stay()
    }
}
