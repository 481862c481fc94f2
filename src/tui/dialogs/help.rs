//! The help overlay: every key of the screen it was opened on, read from the same tables as the key map, and
//! what the stage glyphs mean.

use super::Reply;
use crate::tui::app::Action;
use crate::tui::keys::{Binding, Key, bind};

pub static KEYS: &[Binding] = &[bind(
    &[Key::Esc, Key::Char('?'), Key::Char('q'), Key::Enter, Key::F(1)],
    Action::Cancel,
    "Esc or ?",
    "close help",
    1,
    "",
)];

pub fn on_action(action: Action) -> Reply {
    match action {
        Action::Cancel => Reply::close(),
        _ => Reply::stay(),
    }
}
