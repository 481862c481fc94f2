//! Typing the source migration account's password, masked; it goes to the runner as a secret for the OS
//! keyring, followed by the work that asked for it.

use super::Reply;
use crate::protocol::Command;
use crate::tui::app::Action;
use crate::tui::strings;
use crate::tui::widgets::input::TextInput;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Password {
    pub input: TextInput,
    pub error: Option<String>,
    /// Sent once the password is stored.
    pub retry: Option<Command>,
}

impl Password {
    pub fn new(retry: Option<Command>) -> Password {
        Password { input: TextInput::masked(), error: None, retry }
    }

    pub fn on_action(&mut self, action: Action) -> Reply {
        match action {
            Action::Edit(key) => {
                self.input.apply(key);
                Reply::stay()
            }
            Action::Cancel => Reply::close().info(strings::PASSWORD_NOT_STORED),
            Action::Activate if self.input.value().is_empty() => {
                self.error = Some(strings::PASSWORD_EMPTY.to_owned());
                Reply::stay()
            }
            Action::Activate => {
                let secret = std::mem::replace(&mut self.input, TextInput::masked()).into_secret();
                let mut commands = vec![Command::StoreSourcePassword(secret)];
                commands.extend(self.retry.take());
                Reply::close().info(strings::PASSWORD_STORED).send(commands)
            }
            _ => Reply::stay(),
        }
    }
}
