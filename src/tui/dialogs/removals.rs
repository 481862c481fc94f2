//! A re-import that would remove more than a few mailboxes from the project: nothing changed yet; the dialog
//! lists them and asks whether they are really gone from the source server.

use super::Reply;
use crate::inventory::merge::TooManyRemovals;
use crate::protocol::Command;
use crate::tui::app::Action;
use crate::tui::keys::{Binding, Key, bind};
use crate::tui::strings;
use std::path::PathBuf;

pub static KEYS: &[Binding] = &[
    bind(&[Key::Char('y'), Key::Char('Y')], Action::ConfirmYes, "y", "remove them", 1, ""),
    bind(&[Key::Char('n'), Key::Char('N'), Key::Esc], Action::ConfirmNo, "n", "keep the project as it is", 1, ""),
    bind(&[Key::Up, Key::Char('k')], Action::MoveUp, "↑↓", "scroll", 2, ""),
    bind(&[Key::Down, Key::Char('j')], Action::MoveDown, "", "", 0, ""),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removals {
    pub path: PathBuf,
    pub file_name: String,
    pub refused: TooManyRemovals,
    pub scroll: usize,
}

impl Removals {
    pub fn on_action(&mut self, action: Action) -> Reply {
        match action {
            Action::ConfirmYes => Reply::close()
                .info(strings::IMPORTING)
                .send([Command::ImportInventory { path: self.path.clone(), allow_removals: true }]),
            Action::ConfirmNo | Action::Cancel => Reply::close().info(strings::removals_kept(&self.file_name)),
            Action::MoveUp => {
                self.scroll = self.scroll.saturating_sub(1);
                Reply::stay()
            }
            Action::MoveDown => {
                self.scroll = (self.scroll + 1).min(self.refused.removed.len().saturating_sub(1));
                Reply::stay()
            }
            _ => Reply::stay(),
        }
    }

    /// The dialog's text: the question, then the mailboxes from the scroll position on.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            strings::removals_question(&self.file_name, self.refused.removed.len(), self.refused.previous),
            String::new(),
        ];
        lines.extend(self.refused.removed.iter().skip(self.scroll).map(|m| format!("  {m}")));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog() -> Removals {
        let removed = (1..=9).map(|n| format!("user{n}@contoso.example")).collect();
        Removals {
            path: PathBuf::from("/tmp/inv.csv"),
            file_name: "inv.csv".into(),
            refused: TooManyRemovals { removed, previous: 40 },
            scroll: 0,
        }
    }

    #[test]
    fn yes_imports_again_allowing_the_removals_and_no_changes_nothing() {
        let mut d = dialog();
        let reply = d.on_action(Action::ConfirmYes);
        assert_eq!(
            reply.commands,
            vec![Command::ImportInventory { path: PathBuf::from("/tmp/inv.csv"), allow_removals: true }]
        );
        let reply = dialog().on_action(Action::ConfirmNo);
        assert!(reply.close && reply.commands.is_empty());
    }

    #[test]
    fn it_lists_every_mailbox_to_remove() {
        let d = dialog();
        let lines = d.lines();
        assert!(lines[0].contains("9 of the project's 40 mailboxes"), "{}", lines[0]);
        assert!(lines.iter().any(|l| l.contains("user9@contoso.example")));
    }
}
