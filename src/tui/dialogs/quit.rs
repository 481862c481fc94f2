//! The quit question: everything is saved already, so it only guards against a stray `q`.

use super::Reply;
use crate::tui::app::Action;
use crate::tui::keys::{Binding, Key, bind};

pub static KEYS: &[Binding] = &[
    bind(&[Key::Char('y'), Key::Char('Y'), Key::Enter, Key::Ctrl('c')], Action::ConfirmYes, "y", "quit", 1, ""),
    bind(&[Key::Char('n'), Key::Char('N'), Key::Esc], Action::ConfirmNo, "n", "stay", 1, ""),
];

pub fn on_action(action: Action) -> Reply {
    match action {
        Action::ConfirmYes => Reply { quit: true, ..Reply::close() },
        Action::ConfirmNo | Action::Cancel => Reply::close(),
        _ => Reply::stay(),
    }
}
