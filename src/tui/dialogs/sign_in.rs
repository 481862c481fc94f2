//! Signing in to Microsoft 365 by device code: the code shown large once the identity platform gives it, `c`
//! to copy it (OSC 52), Esc to give up; the work that asked for the sign-in resumes by itself afterwards. The
//! same dialog shows the code of a consent a running task asks for (Mail.Send for the test mail); Esc there
//! stops the task.

use super::Reply;
use crate::protocol::{Command, JobId};
use crate::tui::app::{Action, Effect};
use crate::tui::keys::{Binding, Key, bind};
use crate::tui::strings;

pub static KEYS: &[Binding] = &[
    bind(&[Key::Char('c'), Key::Char('y')], Action::Copy, "c", "copy the code", 1, ""),
    bind(&[Key::Esc, Key::Char('x'), Key::Ctrl('c')], Action::Cancel, "Esc", "cancel", 1, ""),
];

/// A device code to show: the engineer enters `user_code` at `verification_uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in_secs: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignIn {
    pub job: Option<JobId>,
    pub code: Option<DeviceCode>,
    /// The permission a running task asks consent to, when the code is for that rather than the sign-in.
    pub consent: Option<String>,
}

impl SignIn {
    pub fn on_action(&mut self, action: Action) -> Reply {
        match (action, &self.code) {
            (Action::Copy, Some(code)) => {
                let mut reply = Reply::stay().info(strings::CODE_COPIED);
                reply.effects.push(Effect::Copy(code.user_code.clone()));
                reply
            }
            (Action::Copy, None) => Reply::stay().info(strings::SIGN_IN_WAITING),
            // The task that asked stops; the sign-in and the retries waiting for it are not this dialog's.
            (Action::Cancel, _) if self.consent.is_some() => {
                let stop = self.job.map(|id| Command::CancelJob { id });
                Reply::close().info(strings::CONSENT_CANCELLED).send(stop)
            }
            (Action::Cancel, _) => {
                // Closed at once; a sign-in that has not begun yet is stopped when it does.
                let stop = self.job.map(|id| Command::CancelJob { id });
                Reply { forget_retries: true, ..Reply::close() }.info(strings::SIGN_IN_CANCELLED).send(stop)
            }
            _ => Reply::stay(),
        }
    }
}
