//! Asking for the inventory file's path; a demo offers the simulated server's inventory.

use super::Reply;
use crate::protocol::Command;
use crate::tui::app::Action;
use crate::tui::strings;
use crate::tui::widgets::input::TextInput;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub input: TextInput,
    pub error: Option<String>,
}

impl Import {
    pub fn new(offered: Option<&std::path::Path>) -> Import {
        let input = offered.map_or_else(TextInput::default, |p| TextInput::new(&p.display().to_string()));
        Import { input, error: None }
    }

    pub fn on_action(&mut self, action: Action) -> Reply {
        match action {
            Action::Edit(key) => {
                self.input.apply(key);
                Reply::stay()
            }
            Action::Cancel => Reply::close(),
            Action::Activate => match import_path(self.input.value()) {
                Some(path) => Reply::close()
                    .info(strings::IMPORTING)
                    .send([Command::ImportInventory { path, allow_removals: false }]),
                None => {
                    self.error = Some(strings::IMPORT_PATH_NEEDED.to_owned());
                    Reply::stay()
                }
            },
            _ => Reply::stay(),
        }
    }
}

/// The path typed at the import prompt, with a leading `~/` meaning the home folder.
fn import_path(typed: &str) -> Option<PathBuf> {
    let typed = typed.trim().trim_matches(['"', '\'']);
    if typed.is_empty() {
        return None;
    }
    match typed.strip_prefix("~/").zip(dirs::home_dir()) {
        Some((rest, home)) => Some(home.join(rest)),
        None => Some(PathBuf::from(typed)),
    }
}
