//! Stage 4, Prepare: the domains' TXT records to publish, shown with their tasks and copied with `y`; in a demo,
//! `p` publishes them at the simulated registrar.

use super::{DetailLine, Screen};
use crate::plan::TaskId;
use crate::plan::prepare::Task;
use crate::project::ProjectState;
use crate::protocol::Command;
use crate::tui::app::{Action, App, Effect};
use crate::tui::keys::{Binding, Key, bind};
use crate::tui::strings;

pub struct Prepare;

static KEYS: &[Binding] =
    &[bind(&[Key::Char('y')], Action::Copy, "y", "copy TXT", 2, "copy the TXT records to publish (OSC 52)")];

static DEMO_KEYS: &[Binding] = &[
    bind(&[Key::Char('y')], Action::Copy, "y", "copy TXT", 2, "copy the TXT records to publish (OSC 52)"),
    bind(
        &[Key::Char('p')],
        Action::Publish,
        "p",
        "DEMO publish",
        2,
        "demo only: publish them at the simulated registrar",
    ),
];

impl Screen for Prepare {
    fn keys(&self, app: &App) -> &'static [Binding] {
        if app.state.demo { DEMO_KEYS } else { KEYS }
    }

    fn on_action(&self, app: &mut App, action: Action) -> Option<Vec<Command>> {
        match action {
            Action::Copy if app.state.verification.is_empty() => app.info(strings::NOTHING_TO_COPY),
            Action::Copy => {
                let records: Vec<String> =
                    app.state.verification.iter().map(|(d, txt)| strings::txt_record(d, txt)).collect();
                app.info(strings::RECORDS_COPIED);
                app.effects.push(Effect::Copy(records.join("\n")));
            }
            Action::Publish if app.state.demo && app.state.simulator.is_some() => {
                return Some(app.start_task(Task::PublishVerification.into()));
            }
            Action::Publish => app.info(strings::PUBLISH_DEMO_ONLY),
            _ => return None,
        }
        Some(Vec::new())
    }

    fn on_task(&self, app: &mut App, task: TaskId) -> Vec<Command> {
        app.start_task(task)
    }

    fn task_detail(&self, state: &ProjectState, task: TaskId) -> Vec<DetailLine> {
        if !matches!(task, TaskId::Prepare(Task::AddDomains | Task::VerifyDomains)) {
            return Vec::new();
        }
        let mut lines: Vec<DetailLine> = state
            .verification
            .iter()
            .map(|(domain, txt)| DetailLine::Strong(strings::txt_record(domain, txt)))
            .collect();
        if !state.verification.is_empty() {
            lines.push(DetailLine::Key(strings::copy_records_hint(state.demo).to_owned()));
        }
        lines
    }
}
