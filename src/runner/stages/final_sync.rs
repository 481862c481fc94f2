//! Stage 8, Final sync: its checks read the tenant (one cycle of the batch as stage 5's watch reads it, the list
//! of batches, the cloud mailboxes) and are judged by `plan::final_sync`; its tasks complete the batch and follow
//! the completion (`final_sync/complete.rs`), remove the batch and then the endpoint (`final_sync/remove.rs`),
//! and add the X500 addresses (`final_sync/x500.rs`). Every write reads Exchange first and is audited.

pub mod complete;
pub mod remove;
pub mod x500;

use super::super::checks::{CheckError, Results};
use super::super::jobs::{Job, JobContext};
use super::super::work::{Done, m365, task_job};
use super::migrate::{BATCH_LIVE, batch::batch_name, watch};
use super::{LiveChecks, NotStarted, StageWork, TaskInputs};
use crate::m365::M365Error;
use crate::m365::exo::ExoClient;
use crate::plan::final_sync::last_sync::INCREMENTAL_INTERVAL_HOURS;
use crate::plan::final_sync::{Check, STAGE, Task, completion, last_sync, x500 as x500_rule};
use crate::plan::migrate::view::BatchView;
use crate::plan::{CheckResult, Outcome, TaskId, TaskStatus};
use crate::project::ProjectState;
use crate::protocol::Event;
use chrono::{Duration, Utc};
use std::sync::Arc;

pub struct Work;

/// How often the completion watch polls: Exchange's completion takes minutes to hours; the demo's clock runs
/// fast.
fn completion_poll(demo: bool) -> std::time::Duration {
    std::time::Duration::from_secs(if demo { 3 } else { 60 })
}

impl StageWork for Work {
    fn read_back<'a>(
        &'a self,
        _state: &'a ProjectState,
        write: &'a crate::project::AuditRecord,
        conn: &'a crate::runner::connect::Connections,
    ) -> crate::runner::resume::Reading<'a> {
        let action = write.action.as_str();
        match action {
            "complete-migration-batch"
            | "remove-migration-batch"
            | "remove-migration-endpoint"
            | "add-x500-address" => Some(Box::pin(async move {
                let exo = &crate::runner::resume::tenant(conn)?.exo;
                match action {
                    "remove-migration-endpoint" => remove::read_back_endpoint(exo, &write.detail).await,
                    "add-x500-address" => x500::read_back(exo, &write.detail).await,
                    _ => super::migrate::batch::read_back(exo, action, &write.detail).await,
                }
            })),
            _ => None,
        }
    }

    fn live(&self) -> Option<LiveChecks> {
        Some(|state, conn| {
            Box::pin(async move {
                let m365 = conn.m365.as_ref().map_err(|e| CheckError::NotSignedIn(e.to_string()))?;
                checks(&m365.exo, state).await.map_err(|_| CheckError::Cancelled)
            })
        })
    }

    fn task(&self, task: TaskId, inputs: TaskInputs) -> Result<Job, NotStarted> {
        let TaskId::FinalSync(which) = task else { return Err(NotStarted::NotBuilt) };
        let label = task.def().title;
        let name = batch_name(&inputs.state.name);
        let records: &'static [TaskId] = match which {
            Task::CompleteBatch => &[TaskId::FinalSync(Task::CompleteBatch)],
            Task::RemoveBatch => &[TaskId::FinalSync(Task::RemoveBatch)],
            Task::RemoveEndpoint => &[TaskId::FinalSync(Task::RemoveEndpoint)],
            Task::X500Addresses => &[TaskId::FinalSync(Task::X500Addresses)],
        };
        Ok(task_job(task, records, label, move |ctx| async move {
            let m365 = m365(&inputs.conn)?;
            let exo = &m365.exo;
            let outcome = match which {
                Task::CompleteBatch => {
                    let poll = completion_poll(inputs.state.demo);
                    complete::complete_batch(&ctx, exo, &name, poll, |v| record_view(&ctx, v)).await?
                }
                Task::RemoveBatch => remove::remove_batch(&ctx, exo, &name).await?,
                Task::RemoveEndpoint => remove::remove_endpoint(&ctx, exo, super::prepare::ENDPOINT_NAME).await?,
                Task::X500Addresses => {
                    let inventory = inputs.state.inventory.as_deref().map_or(&[][..], |i| &i.mailboxes[..]);
                    x500::add_x500(&ctx, exo, inventory).await?
                }
            };
            Ok(Done::ran(outcome))
        }))
    }

    fn writes_tenant(&self, task: TaskId) -> bool {
        matches!(task, TaskId::FinalSync(_))
    }
}

/// Stage 8's checks over what the tenant says now; read-only. A read that fails fails the checks that need it,
/// with the error as evidence; only a cancel ends them.
pub async fn checks(exo: &ExoClient, state: &ProjectState) -> Result<Results, M365Error> {
    let mut view = BatchView::default();
    watch::cycle(exo, &batch_name(&state.name), &mut view).await?;
    let batches = exo.get_migration_batches().await.map(|o| o.items);
    let mailboxes = exo.get_mailboxes().await.map(|o| o.items);
    if let (Err(M365Error::Cancelled), _) | (_, Err(M365Error::Cancelled)) = (&batches, &mailboxes) {
        return Err(M365Error::Cancelled);
    }
    let unread = |what: &str, e: &M365Error| {
        CheckResult::new(Outcome::Fail, format!("Cannot tell: {what} could not be read ({e})."), Utc::now())
    };
    let inventory = state.inventory.as_deref().map_or(&[][..], |i| &i.mailboxes[..]);
    let now = Utc::now();
    let interval = Duration::hours(INCREMENTAL_INTERVAL_HOURS);
    let removed_by_task = state
        .stage(STAGE)
        .and_then(|r| r.task(TaskId::FinalSync(Task::RemoveBatch)))
        .is_some_and(|r| r.status == TaskStatus::Done);
    let removed = match &batches {
        Ok(b) => completion::removed_check(b, now),
        Err(e) => unread("the migration batches", e),
    };
    let x500 = match &mailboxes {
        Ok(m) => x500_rule::check(&x500_rule::diff(inventory, m), now),
        Err(e) => unread("the cloud mailboxes", e),
    };
    // Once this project removed the batch there is nothing left to measure: the last measure stands.
    let last = if removed_by_task && view.batch.is_none() && view.last_error.is_none() {
        let previous = state.stage(STAGE).and_then(|r| r.checks.get(Check::LastSyncAfterMx.as_str()));
        last_sync::after_removal(previous, now)
    } else {
        last_sync::check(&view, &state.mx, interval, now)
    };
    Ok(vec![
        (Check::LastSyncAfterMx.into(), last),
        (Check::BatchCompleted.into(), completion::completed_check(&view, removed_by_task, now)),
        (Check::BatchRemoved.into(), removed),
        (Check::X500Present.into(), x500),
    ])
}

/// Keeps a cycle of the completion watch in `live/batch.json` (the batch view stage 5 and 6 show) and hands it
/// to the screen.
fn record_view(ctx: &JobContext, view: &BatchView) {
    let view = Arc::new(view.clone());
    ctx.record(Box::new(move |project| {
        if let Err(e) = project.live().write_if_changed(BATCH_LIVE, view.as_ref()) {
            return Some(Event::Failed { what: "the batch's live view".to_owned(), error: e.to_string() });
        }
        Some(Event::BatchWatched { state: project.snapshot(), view })
    }));
}
