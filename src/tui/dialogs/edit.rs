//! Editing one kickoff field or setting in place: the value is validated on a copy with every Enter, so a
//! typo is shown at once and kept for correcting; only a valid value goes to the runner.

use super::Reply;
use crate::plan::kickoff::{Field, ValidationError};
use crate::plan::settings::Setting;
use crate::project::ProjectState;
use crate::protocol::Command;
use crate::tui::app::Action;
use crate::tui::strings;
use crate::tui::widgets::input::TextInput;

/// What a one-line edit changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditTarget {
    Kickoff(Field),
    Setting(Setting),
}

impl EditTarget {
    pub fn label(self) -> &'static str {
        match self {
            EditTarget::Kickoff(f) => f.label(),
            EditTarget::Setting(s) => s.label(),
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            EditTarget::Kickoff(f) => f.hint(),
            EditTarget::Setting(s) => s.hint(),
        }
    }

    pub fn current(self, state: &ProjectState) -> String {
        match self {
            EditTarget::Kickoff(f) => f.current(&state.kickoff),
            EditTarget::Setting(s) => s.current(state.settings()),
        }
    }

    fn validate(self, state: &ProjectState, value: &str) -> Result<(), ValidationError> {
        match self {
            EditTarget::Kickoff(f) => f.apply(&mut state.kickoff.clone(), value),
            EditTarget::Setting(s) => s.apply(state.clone().settings_mut(), value),
        }
    }

    fn command(self, value: String) -> Command {
        match self {
            EditTarget::Kickoff(field) => Command::SetKickoffField { field, value },
            EditTarget::Setting(setting) => Command::SetSetting { setting, value },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub target: EditTarget,
    pub input: TextInput,
    pub error: Option<String>,
}

impl Edit {
    pub fn new(target: EditTarget, state: &ProjectState) -> Edit {
        Edit { target, input: TextInput::new(&target.current(state)), error: None }
    }

    pub fn on_action(&mut self, action: Action, state: &ProjectState) -> Reply {
        match action {
            Action::Edit(key) => {
                self.input.apply(key);
                Reply::stay()
            }
            Action::Cancel => Reply::close().info(strings::EDIT_CANCELLED),
            Action::Activate => match self.target.validate(state, self.input.value()) {
                Ok(()) => Reply { next_row: true, ..Reply::close() }
                    .send([self.target.command(self.input.value().to_owned())]),
                Err(e) => {
                    self.error = Some(e.to_string());
                    Reply::stay()
                }
            },
            _ => Reply::stay(),
        }
    }
}
