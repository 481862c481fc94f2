//! Stage 1, Kickoff: the form's fields, stored validated and audited, and its two checks, which read only the
//! form and so run in place with every change.

use super::super::checks::Results;
use super::super::jobs::Job;
use super::super::{outcome, record_checks};
use super::{NotStarted, StageWork, TaskInputs};
use crate::plan::TaskId;
use crate::plan::kickoff::{self, Field};
use crate::project::{Project, ProjectState};
use crate::protocol::Event;
use chrono::Utc;

pub struct Work;

impl StageWork for Work {
    fn pure_checks(&self, state: &ProjectState) -> Option<Results> {
        Some(kickoff::run_checks(&state.kickoff, Utc::now()))
    }

    fn refresh(&self, state: &mut ProjectState) {
        record_checks(state, kickoff::run_checks(&state.kickoff, Utc::now()));
    }

    fn task(&self, _task: TaskId, _inputs: TaskInputs) -> Result<Job, NotStarted> {
        // The wizard never asks: its Enter on a kickoff task opens the form. `cutover task` may.
        Err(NotStarted::Refused(
            "kickoff tasks are done by filling in the kickoff form: in the wizard, or for a new project with \
             `cutover new NAME --no-open --customer … --mailboxes N`"
                .to_owned(),
        ))
    }
}

/// Stores one kickoff field (validated again here) and re-takes the kickoff checks.
pub fn set_field(project: &mut Project, field: Field, value: String) -> Event {
    let detail = serde_json::json!({ "field": field, "value": value });
    let result = project.change(Some(kickoff::STAGE), "set-kickoff-field", detail, |state| {
        field.apply(&mut state.kickoff, &value)?;
        Work.refresh(state);
        Ok::<(), kickoff::ValidationError>(())
    });
    outcome(project, field.label(), result)
}
