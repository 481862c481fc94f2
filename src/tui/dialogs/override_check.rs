//! Going on despite a failed check: the engineer writes why, and the reason goes to the audit log and the
//! closeout report.

use super::Reply;
use crate::plan::CheckId;
use crate::plan::gating::MIN_OVERRIDE_REASON;
use crate::protocol::Command;
use crate::tui::app::Action;
use crate::tui::widgets::input::TextInput;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideCheck {
    pub check: CheckId,
    /// The check's evidence when the dialog opened, shown above the reason.
    pub evidence: String,
    pub input: TextInput,
    pub error: Option<String>,
}

impl OverrideCheck {
    pub fn new(check: CheckId, evidence: String) -> OverrideCheck {
        OverrideCheck { check, evidence, input: TextInput::default(), error: None }
    }

    pub fn on_action(&mut self, action: Action) -> Reply {
        match action {
            Action::Edit(key) => {
                self.input.apply(key);
                Reply::stay()
            }
            Action::Cancel => Reply::close(),
            Action::Activate => {
                let reason = self.input.value().trim().to_owned();
                if reason.chars().count() < MIN_OVERRIDE_REASON {
                    self.error = Some(format!(
                        "Write at least {MIN_OVERRIDE_REASON} characters: this reason goes into the closeout report."
                    ));
                    return Reply::stay();
                }
                Reply::close().send([Command::Override { check: self.check, reason }])
            }
            _ => Reply::stay(),
        }
    }
}
