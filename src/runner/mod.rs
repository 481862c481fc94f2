//! The runner: carries out the wizard's [`Command`]s and answers with [`Event`]s. It owns the open project, so
//! every change goes through [`Project::change`] (audited before and after) in the order the commands came.

use crate::plan::kickoff::{self, Field};
use crate::plan::{Outcome, Override, StageId};
use crate::project::{Project, ProjectState, audit};
use chrono::Utc;
use tokio::sync::mpsc;

/// Shortest override reason accepted: a few words, not a keystroke.
pub const MIN_OVERRIDE_REASON: usize = 10;

/// What the wizard asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Store one kickoff field (validated again here) and re-run the kickoff checks.
    SetKickoffField { field: Field, value: String },
    /// Run the read-only checks of a stage and record their results.
    RunChecks { stage: StageId },
    /// Go on despite a failed check, for a written reason.
    Override { stage: StageId, check: String, reason: String },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The project state after a change; the wizard shows this copy.
    StateChanged(Box<ProjectState>),
    /// A value or request was refused; nothing changed.
    Refused { what: String, reason: String },
    /// Something could not be done (disk, I/O); nothing changed.
    Failed { what: String, error: String },
    /// The work asked for is not built in this version.
    NotAvailable { stage: StageId },
}

/// Where to look when the runner stops on its own.
pub const LOG_HINT: &str = "the project's cutover.log";

/// The wizard's side of the runner.
#[derive(Debug)]
pub struct RunnerHandle {
    pub commands: mpsc::UnboundedSender<Command>,
    pub events: mpsc::UnboundedReceiver<Event>,
    task: tokio::task::JoinHandle<()>,
}

impl RunnerHandle {
    /// Lets the runner finish the commands already sent, then waits for it to release the project.
    pub async fn shutdown(self) {
        let RunnerHandle { commands, events, task } = self;
        drop(commands);
        drop(events);
        if let Err(e) = task.await {
            tracing::error!(error = %e, "the runner ended abnormally");
        }
    }
}

/// Starts the runner on the current tokio runtime.
pub fn spawn(project: Project) -> RunnerHandle {
    let (command_tx, mut command_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut project = project;
        while let Some(command) = command_rx.recv().await {
            // Project writes are small and fsynced; they must stay in order, so they run here, marked as blocking.
            let event = tokio::task::block_in_place(|| execute(&mut project, command));
            // The wizard may have closed already; the command is done and audited either way.
            let _ = event_tx.send(event);
        }
    });
    RunnerHandle { commands: command_tx, events: event_rx, task }
}

/// Carries out one command against the project.
pub fn execute(project: &mut Project, command: Command) -> Event {
    match command {
        Command::SetKickoffField { field, value } => {
            let detail = serde_json::json!({ "field": field, "value": value });
            let result = project.change(Some(StageId::KICKOFF), "set-kickoff-field", detail, |state| {
                field.apply(&mut state.kickoff, &value)?;
                record_kickoff_checks(state);
                Ok::<(), kickoff::ValidationError>(())
            });
            outcome(project, field.label(), result)
        }
        Command::RunChecks { stage } if stage == StageId::KICKOFF => {
            let detail = serde_json::json!({ "stage": stage.number() });
            let result = project.change(Some(stage), "run-checks", detail, |state| {
                record_kickoff_checks(state);
                Ok::<(), std::convert::Infallible>(())
            });
            outcome(project, "checks", result)
        }
        Command::RunChecks { stage } => Event::NotAvailable { stage },
        Command::Override { stage, check, reason } => {
            let reason = reason.trim().to_owned();
            let what = format!("override of {check}");
            if reason.chars().count() < MIN_OVERRIDE_REASON {
                return Event::Refused {
                    what,
                    reason: format!(
                        "write a reason of at least {MIN_OVERRIDE_REASON} characters; it goes into the closeout report"
                    ),
                };
            }
            if stage.def().check(&check).is_none() {
                return Event::Refused { what, reason: format!("stage {stage} has no check '{check}'") };
            }
            if project.state().stage(stage).map(|r| r.outcome(&check)) != Some(Outcome::Fail) {
                return Event::Refused { what, reason: "only a failed check can be overridden".to_owned() };
            }
            let detail = serde_json::json!({ "check": check, "reason": reason });
            let result = project.change(Some(stage), "override-check", detail, |state| {
                let entry = Override { reason, by: audit::current_actor(), at: Utc::now() };
                state.stage_mut(stage).overrides.insert(check, entry);
                Ok::<(), std::convert::Infallible>(())
            });
            outcome(project, &what, result)
        }
    }
}

/// The kickoff checks are pure and cheap, so they are re-run with every kickoff change.
fn record_kickoff_checks(state: &mut ProjectState) {
    let results = kickoff::run_checks(&state.kickoff, Utc::now());
    let record = state.stage_mut(StageId::KICKOFF);
    for (id, result) in results {
        record.checks.insert(id.to_owned(), result);
    }
}

fn outcome<E: std::fmt::Display>(
    project: &Project,
    what: &str,
    result: Result<Result<(), E>, crate::project::ProjectError>,
) -> Event {
    match result {
        Ok(Ok(())) => Event::StateChanged(Box::new(project.state().clone())),
        Ok(Err(refused)) => Event::Refused { what: what.to_owned(), reason: refused.to_string() },
        Err(error) => Event::Failed { what: what.to_owned(), error: error.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{DataHome, Phase, ProjectName};

    fn project(dir: &std::path::Path) -> Project {
        Project::create(&DataHome::at(dir), &ProjectName::parse("acme").expect("name"), false).expect("create")
    }

    #[test]
    fn a_kickoff_field_is_saved_with_fresh_checks_and_audited() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let event = execute(&mut p, Command::SetKickoffField { field: Field::Mailboxes, value: "2500".into() });
        let Event::StateChanged(state) = event else { panic!("expected a state change, got {event:?}") };
        assert_eq!(state.kickoff.mailboxes, Some(2_500));
        assert_eq!(state.stage(StageId::KICKOFF).map(|r| r.outcome("cutover-limits")), Some(Outcome::Fail));
        let (records, _) = p.audit().read().expect("audit");
        let last = records.last().expect("a record");
        assert_eq!((last.action.as_str(), last.phase), ("set-kickoff-field", Phase::Done));
    }

    #[test]
    fn an_invalid_value_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let before = p.state().clone();
        let event = execute(&mut p, Command::SetKickoffField { field: Field::Tenant, value: "contoso".into() });
        assert!(matches!(event, Event::Refused { ref reason, .. } if reason.contains("'contoso'")), "{event:?}");
        assert_eq!(p.state(), &before);
    }

    #[test]
    fn overrides_need_a_failed_check_and_a_real_reason() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let over = |reason: &str| Command::Override {
            stage: StageId::KICKOFF,
            check: "cutover-limits".into(),
            reason: reason.into(),
        };
        assert!(matches!(execute(&mut p, over("customer accepts the risk")), Event::Refused { .. }), "not run yet");
        execute(&mut p, Command::SetKickoffField { field: Field::Mailboxes, value: "2500".into() });
        assert!(matches!(execute(&mut p, over("ok")), Event::Refused { .. }), "too short");
        let event = execute(&mut p, over("two batches agreed with the customer"));
        let Event::StateChanged(state) = event else { panic!("expected a state change, got {event:?}") };
        let record = state.stage(StageId::KICKOFF).expect("stage 1 record");
        assert_eq!(
            record.active_override("cutover-limits").map(|o| o.reason.as_str()),
            Some("two batches agreed with the customer")
        );
    }

    #[test]
    fn checks_of_stages_not_built_yet_say_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        assert_eq!(
            execute(&mut p, Command::RunChecks { stage: StageId::SOURCE }),
            Event::NotAvailable { stage: StageId::SOURCE }
        );
    }
}
