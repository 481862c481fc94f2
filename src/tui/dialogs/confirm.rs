//! A question before a write the engineer picked (a failed mailbox to restart): what it does, and `y` to do it.

use super::Reply;
use crate::protocol::Command;
use crate::tui::app::Action;
use crate::tui::keys::{Binding, Key, bind};

pub static KEYS: &[Binding] = &[
    bind(&[Key::Char('y'), Key::Char('Y')], Action::ConfirmYes, "y", "do it", 1, ""),
    bind(&[Key::Char('n'), Key::Char('N'), Key::Esc], Action::ConfirmNo, "n", "cancel", 1, ""),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub question: String,
    /// Sent on `y`.
    pub command: Command,
}

impl Confirm {
    pub fn on_action(&self, action: Action) -> Reply {
        match action {
            Action::ConfirmYes => Reply::close().send([self.command.clone()]),
            Action::ConfirmNo | Action::Cancel => Reply::close().info(crate::tui::strings::NOTHING_DONE),
            _ => Reply::stay(),
        }
    }
}
