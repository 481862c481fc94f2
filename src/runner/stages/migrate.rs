//! Stage 5, Start migration: the tasks that make and start the cutover batch (`migrate/batch.rs`); starting it
//! goes on as the batch's watch (`migrate/watch.rs`), which keeps its view in `live/batch.json` and records the
//! stage's checks every cycle. The same watch runs on its own, read-only, for `cutover watch` ([`follow`]). The
//! checks on their own read one cycle.

pub mod batch;
pub mod watch;

use super::super::checks::CheckError;
use super::super::jobs::{Apply, Job, JobContext};
use super::super::tasks::TaskOutcome;
use super::super::work::{Done, m365, task_job};
use super::{LiveChecks, NotStarted, StageWork, TaskInputs};
use crate::m365::exo::{BatchStatus, ExoClient};
use crate::plan::migrate::view::BatchView;
use crate::plan::migrate::{MigrateSettings, STAGE, Task};
use crate::plan::{TaskId, TaskRecord, TaskStatus};
use crate::project::ProjectState;
use crate::project::live::LiveName;
use crate::protocol::{Command, Event};
use chrono::Utc;
use std::sync::Arc;

/// What the end of the watch says: the batch does not need it.
const WATCH_STOPPED: &str = "Stopped watching the batch; it goes on in Exchange Online.";

/// Where the watch keeps what it last saw of the batch.
pub const BATCH_LIVE: LiveName = LiveName::new("batch");

pub struct Work;

impl StageWork for Work {
    fn read_back<'a>(
        &'a self,
        _state: &'a ProjectState,
        write: &'a crate::project::AuditRecord,
        conn: &'a crate::runner::connect::Connections,
    ) -> crate::runner::resume::Reading<'a> {
        match write.action.as_str() {
            "new-migration-batch" | "start-migration-batch" => Some(Box::pin(async move {
                batch::read_back(&crate::runner::resume::tenant(conn)?.exo, &write.action, &write.detail).await
            })),
            _ => None,
        }
    }

    fn live(&self) -> Option<LiveChecks> {
        Some(|state, conn| {
            Box::pin(async move {
                let m365 = conn.m365.as_ref().map_err(|e| CheckError::NotSignedIn(e.to_string()))?;
                let mut view = BatchView::default();
                watch::cycle(&m365.exo, &batch::batch_name(&state.name), &mut view)
                    .await
                    .map_err(|_| CheckError::Cancelled)?;
                Ok(crate::plan::migrate::checks::run_checks(&view, &state.migrate, Utc::now()))
            })
        })
    }

    fn task(&self, task: TaskId, inputs: TaskInputs) -> Result<Job, NotStarted> {
        let TaskId::Migrate(which) = task else { return Err(NotStarted::NotBuilt) };
        let label = task.def().title;
        let name = batch::batch_name(&inputs.state.name);
        let job = match which {
            Task::CreateBatch => {
                let request = batch::BatchRequest {
                    name,
                    endpoint: super::prepare::ENDPOINT_NAME.to_owned(),
                    notification_emails: notification_emails(&inputs.state),
                    auto_start: inputs.state.migrate.start_at_once,
                };
                task_job(task, &[TaskId::Migrate(Task::CreateBatch)], label, move |ctx| async move {
                    let m365 = m365(&inputs.conn)?;
                    Ok(Done::ran(batch::create_batch(&ctx, &m365.exo, &request).await?))
                })
            }
            Task::StartBatch => task_job(task, &[TaskId::Migrate(Task::StartBatch)], label, move |ctx| async move {
                let m365 = m365(&inputs.conn)?;
                let started = batch::start_batch(&ctx, &m365.exo, &name).await?;
                // The start is done now: recorded at once, since the watch that follows runs all night.
                let summary = started.summary;
                ctx.record(Box::new(move |project| {
                    let detail = serde_json::json!({ "task": task, "summary": summary });
                    let result = project.change(Some(STAGE), "record-task", detail, |state| {
                        let record = TaskRecord { status: TaskStatus::Done, detail: summary.clone(), at: Utc::now() };
                        state.stage_mut(STAGE).record_task(task, record);
                        Ok::<(), std::convert::Infallible>(())
                    });
                    Some(match result {
                        Ok(_) => Event::TaskDone { state: project.snapshot(), summary },
                        Err(e) => Event::Failed { what: "the batch's start".to_owned(), error: e.to_string() },
                    })
                }));
                let settings = inputs.state.migrate;
                let seen = |view: &BatchView| record_view(&ctx, view, settings);
                let pace = watch::Pace { settings, demo: inputs.state.demo };
                let view = stored_view(&ctx).await;
                watch::watch(&ctx, &m365.exo, &name, pace, view, seen).await;
                // The start was recorded above; the watch's end records nothing more.
                let outcome = TaskOutcome { summary: WATCH_STOPPED.to_owned(), ..TaskOutcome::default() };
                Ok(Done { outcome, verification: None, status: None })
            }),
        };
        Ok(job)
    }

    fn writes_tenant(&self, task: TaskId) -> bool {
        matches!(task, TaskId::Migrate(Task::CreateBatch | Task::StartBatch))
    }

    fn watches(&self) -> bool {
        true
    }

    fn watch(&self, inputs: TaskInputs) -> Result<Job, NotStarted> {
        Ok(follow(inputs))
    }
}

/// How a follow of the batch ended.
enum FollowEnd {
    Stopped,
    /// There is nothing to follow yet; the text says which task starts it.
    NotStarted(String),
    NotSignedIn(String),
}

/// The batch's watch on its own, read-only (`cutover watch`): the same cycles and records as the watch that
/// follows start-batch, but it never starts the batch; a batch missing or not started ends it at once, saying so.
fn follow(inputs: TaskInputs) -> Job {
    let name = batch::batch_name(&inputs.state.name);
    let pace = watch::Pace { settings: inputs.state.migrate, demo: inputs.state.demo };
    Job::new(format!("Watching the batch {name}"), move |ctx| async move {
        let end = match &inputs.conn.m365 {
            Err(e) => FollowEnd::NotSignedIn(e.to_string()),
            Ok(m365) => follow_batch(&ctx, &m365.exo, &name, pace).await,
        };
        let apply: Apply = Box::new(move |project| match end {
            FollowEnd::Stopped => Event::StateChanged { state: project.snapshot(), note: Some(WATCH_STOPPED.into()) },
            FollowEnd::NotStarted(reason) => Event::Refused { what: format!("Watching the batch {name}"), reason },
            FollowEnd::NotSignedIn(reason) => {
                Event::SignInNeeded { retry: Some(Box::new(Command::Watch { stage: STAGE })), reason }
            }
        });
        apply
    })
}

async fn follow_batch(ctx: &JobContext, exo: &ExoClient, name: &str, pace: watch::Pace) -> FollowEnd {
    let settings = pace.settings;
    let mut view = stored_view(ctx).await;
    if watch::cycle(exo, name, &mut view).await.is_err() {
        return FollowEnd::Stopped;
    }
    // Only a good read says the batch is missing or idle; a failed one is watched on, like any failed cycle.
    if view.last_error.is_none() {
        let start = TaskId::Migrate(Task::StartBatch);
        match &view.batch {
            None => {
                let create = TaskId::Migrate(Task::CreateBatch);
                return FollowEnd::NotStarted(format!(
                    "there is no batch {name} in Exchange Online: make it and start it with the tasks {} and {} \
                     (`cutover task {create}`, then `cutover task {start}`); watching never starts it",
                    create.def().title,
                    start.def().title
                ));
            }
            Some(b) if b.status == BatchStatus::Created => {
                return FollowEnd::NotStarted(format!(
                    "the batch {name} is made but not started: start it with the task {} (`cutover task {start}`); \
                     watching never starts it",
                    start.def().title
                ));
            }
            Some(_) => {}
        }
    }
    record_view(ctx, &view, settings);
    if watch::pause(ctx, name, &view, pace).await {
        watch::watch(ctx, exo, name, pace, view, |v| record_view(ctx, v, settings)).await;
    }
    FollowEnd::Stopped
}

/// The view the last watch kept in `live/batch.json`, so a resumed watch reads statistics only for what moved since
/// (from nothing, its first cycle would read every mailbox past the queue); empty when there is none or it is
/// damaged (then it is only read again).
async fn stored_view(ctx: &JobContext) -> BatchView {
    let (tx, rx) = tokio::sync::oneshot::channel();
    ctx.record(Box::new(move |project| {
        let _ = tx.send(project.live().read::<BatchView>(BATCH_LIVE).ok().flatten());
        None
    }));
    rx.await.ok().flatten().unwrap_or_default()
}

/// Keeps a cycle's view: in `live/batch.json` (written only when it changed), the stage's checks from it in
/// `state.json`, and the view to the screen. Both watches (after start-batch, and on its own) record through it.
fn record_view(ctx: &JobContext, view: &BatchView, settings: MigrateSettings) {
    let view = Arc::new(view.clone());
    ctx.record(Box::new(move |project| {
        if let Err(e) = project.live().write_if_changed(BATCH_LIVE, view.as_ref()) {
            return Some(Event::Failed { what: "the batch's live view".to_owned(), error: e.to_string() });
        }
        if let Some(e) = record_rehearsal(project, &view) {
            return Some(e);
        }
        let results = crate::plan::migrate::checks::run_checks(&view, &settings, Utc::now());
        let detail = serde_json::json!({ "checks": results.iter().map(|(id, r)| (id.as_str(), r.outcome)).collect::<std::collections::BTreeMap<_, _>>() });
        let recorded = project.change(Some(STAGE), "record-checks", detail, |state| {
            super::super::record_checks(state, results);
            Ok::<(), std::convert::Infallible>(())
        });
        match recorded {
            Ok(_) => Some(Event::BatchWatched { state: project.snapshot(), view }),
            Err(e) => Some(Event::Failed { what: "the batch's checks".to_owned(), error: e.to_string() }),
        }
    }));
}

/// Who Exchange mails when the batch finishes or fails: the partner's and the client's contacts.
fn notification_emails(state: &ProjectState) -> Vec<String> {
    let k = &state.kickoff;
    let mut emails: Vec<String> =
        [&k.partner.email, &k.client.email].into_iter().filter(|e| !e.is_empty()).cloned().collect();
    emails.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    emails
}

/// In a rehearsal, records the simulated initial sync once the batch is past it, for stage 2 to show beside its
/// estimate; once only.
fn record_rehearsal(project: &mut crate::project::Project, view: &BatchView) -> Option<Event> {
    let pending = project.state().rehearsal.as_ref().is_some_and(|r| r.simulated_initial_sync_secs.is_none());
    let took = crate::plan::source::rehearsal::simulated_initial_sync(view).filter(|_| pending)?;
    let secs = took.as_secs();
    let recorded =
        project.change(Some(STAGE), "record-rehearsal-sync", serde_json::json!({ "seconds": secs }), |state| {
            if let Some(r) = state.rehearsal.as_mut() {
                r.simulated_initial_sync_secs = Some(secs);
            }
            Ok::<(), std::convert::Infallible>(())
        });
    recorded.err().map(|e| Event::Failed { what: "the rehearsal's simulated sync".to_owned(), error: e.to_string() })
}
