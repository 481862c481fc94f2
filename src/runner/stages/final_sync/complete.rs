//! Stage 8's complete-batch: reads the batch first (one cycle, as stage 5's watch reads it); a batch Completing
//! or Completed is left alone and only followed; one IncrementalSyncing is waited for until Synced; a Synced one
//! (or one CompletedWithErrors, whose failed mailboxes a second completion retries) gets
//! `Complete-MigrationBatch`, audited. The watch then follows
//! Completing to Completed or CompletedWithErrors, naming the mailboxes that did not complete and the skipped
//! items that block them, with the approval that lets them through (stage 6's approve-skipped).

use crate::m365::exo::{BatchAction, ExoClient};
use crate::plan::final_sync::STAGE;
use crate::plan::final_sync::completion::{Completion, not_completed, unapproved_skipped};
use crate::plan::migrate::view::BatchView;
use crate::runner::jobs::JobContext;
use crate::runner::stages::migrate::watch;
use crate::runner::tasks::{TaskError, TaskOutcome, write};
use serde_json::json;
use std::time::Duration;

/// What the approval is called where the engineer finds it.
const APPROVE_HINT: &str =
    "approve them with stage 6's task Approve the skipped items (`cutover task approve-skipped`)";

/// Completes the batch unless it is completing or completed, then follows the completion to its end, polling
/// every `poll`; `seen` records each cycle.
pub async fn complete_batch(
    ctx: &JobContext,
    exo: &ExoClient,
    name: &str,
    poll: Duration,
    seen: impl Fn(&BatchView),
) -> Result<TaskOutcome, TaskError> {
    ctx.progress(format!("reading the batch {name}"), 0, None);
    let mut view = BatchView::default();
    watch::cycle(exo, name, &mut view).await?;
    if let Some(e) = &view.last_error {
        return Err(TaskError::BadInput {
            what: format!("the batch {name} could not be read ({})", e.message),
            fix: "run the task again once Exchange Online answers".to_owned(),
        });
    }
    seen(&view);
    let mut outcome = TaskOutcome::default();
    let mut refused = 0;
    let before = loop {
        if !wait_out_incremental(ctx, exo, name, &mut view, poll, &seen).await? {
            return Ok(TaskOutcome {
                summary: format!("Stopped waiting for {name}'s incremental sync; nothing was completed."),
                cancelled: true,
                ..TaskOutcome::default()
            });
        }
        let before = Completion::of(view.batch.as_ref());
        match &before {
            Completion::NoBatch => {
                return Err(TaskError::BadInput {
                    what: format!("there is no batch {name} in Exchange Online"),
                    fix: "make and start it in stage 5; a removed batch cannot be completed again".to_owned(),
                });
            }
            Completion::NotReady(status) => {
                return Err(TaskError::BadInput {
                    what: format!("the batch {name} is {status}"),
                    fix: "wait until it is Synced (stage 5's watch shows it), then complete it".to_owned(),
                });
            }
            Completion::Other(status) => {
                return Err(TaskError::BadInput {
                    what: format!("the batch {name} is {status}, which a completion does not move on"),
                    fix: "start it again in stage 5 if it stopped or failed, and let it sync".to_owned(),
                });
            }
            Completion::Completing | Completion::Completed | Completion::Removing => {
                outcome.skipped.push(format!("{name}: {} already, left alone", before.word()));
                break before;
            }
            Completion::Ready(_) | Completion::CompletedWithErrors => {
                let blocked = unapproved_skipped(&view);
                ctx.progress(format!("completing the batch {name}"), 1, None);
                let detail = json!({ "name": name, "status_before": before.word(), "unapproved_skipped": blocked });
                let sent = write(
                    ctx,
                    STAGE,
                    "complete-migration-batch",
                    detail,
                    exo.batch_action(BatchAction::Complete, name),
                )
                .await;
                match sent {
                    Ok(warnings) => {
                        outcome.done.push(format!("{name}: Complete-MigrationBatch"));
                        outcome.done.extend(warnings.into_iter().map(|w| format!("Exchange says: {w}")));
                        break before;
                    }
                    Err(e) => {
                        // An incremental sync that began between the read and the completion makes Exchange refuse
                        // it; read again, and wait that sync out, a few times at most.
                        watch::cycle(exo, name, &mut view).await?;
                        seen(&view);
                        if refused >= MAX_REFUSED || !incremental(&view) {
                            return Err(e);
                        }
                        refused += 1;
                    }
                }
            }
        }
    };
    let end = follow(ctx, exo, name, &mut view, poll, &seen).await;
    outcome.cancelled = end.is_none();
    outcome.summary = summary(name, &before, end.as_ref(), &view);
    Ok(outcome)
}

/// How many times a completion refused because an incremental sync began meanwhile is tried again.
const MAX_REFUSED: u32 = 3;

fn incremental(view: &BatchView) -> bool {
    view.batch.as_ref().is_some_and(|b| b.status == crate::m365::exo::BatchStatus::IncrementalSyncing)
}

/// Waits while the batch is IncrementalSyncing: that sync ends within hours (a large batch spends most of its time
/// in one), and Exchange completes a Synced batch. False when the engineer stopped the wait.
async fn wait_out_incremental(
    ctx: &JobContext,
    exo: &ExoClient,
    name: &str,
    view: &mut BatchView,
    poll: Duration,
    seen: &impl Fn(&BatchView),
) -> Result<bool, TaskError> {
    while incremental(view) {
        ctx.note(format!(
            "{name} is IncrementalSyncing: completing it once that sync ends (next look in {} s)",
            poll.as_secs()
        ));
        tokio::select! {
            () = ctx.cancel.cancelled() => return Ok(false),
            () = tokio::time::sleep(poll) => {}
        }
        watch::cycle(exo, name, view).await?;
        seen(view);
    }
    Ok(true)
}

/// Polls until the completion is over; `None` when the engineer stopped the watch first.
async fn follow(
    ctx: &JobContext,
    exo: &ExoClient,
    name: &str,
    view: &mut BatchView,
    poll: Duration,
    seen: &impl Fn(&BatchView),
) -> Option<Completion> {
    loop {
        if watch::cycle(exo, name, view).await.is_err() {
            return None;
        }
        seen(view);
        let state = Completion::of(view.batch.as_ref());
        let finished = view.mailboxes.values().filter(|m| m.user.status.is_completed()).count();
        let total = view.mailboxes.len();
        let to_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        ctx.progress(format!("{name}: {}", state.word()), to_u64(finished), Some(to_u64(total)));
        if view.last_error.is_none() && state.finished() {
            return Some(state);
        }
        let line = match &view.last_error {
            Some(e) => format!("{name}: the last poll failed ({}); trying again in {} s", e.message, poll.as_secs()),
            None => format!(
                "{name}: {}, {finished} of {total} mailboxes done; next poll in {} s",
                state.word(),
                poll.as_secs()
            ),
        };
        ctx.note(line);
        tokio::select! {
            () = ctx.cancel.cancelled() => return None,
            () = tokio::time::sleep(poll) => {}
        }
    }
}

fn summary(name: &str, before: &Completion, end: Option<&Completion>, view: &BatchView) -> String {
    let start = match before {
        Completion::Ready(_) => {
            format!("Completed the batch {name}: a last incremental sync ran, then synchronisation stopped for good.")
        }
        Completion::CompletedWithErrors => {
            format!("Ran Complete-MigrationBatch again on {name} to retry the mailboxes that had not completed.")
        }
        other => format!("The batch {name} was {} already: left alone.", other.word()),
    };
    match end {
        None => format!("{start} Stopped watching; the completion goes on in Exchange Online."),
        Some(Completion::Completed) => format!("{start} It is Completed: remove it with the task Remove the batch."),
        Some(Completion::CompletedWithErrors) => {
            let mut lines = vec![format!(
                "{start} It ended CompletedWithErrors: these mailboxes did not complete. Where skipped items block \
                 them, {APPROVE_HINT}, then run this task again:"
            )];
            lines.extend(not_completed(view).into_iter().map(|l| format!("  {l}")));
            lines.join("\n")
        }
        Some(other) => format!("{start} It is {} now.", other.word()),
    }
}
