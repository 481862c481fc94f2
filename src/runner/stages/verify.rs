//! Stage 6, Verify: its checks read one cycle of the batch (as stage 5's watch does) and judge it with the item
//! counts and the failure catalogue; its tasks restart the failed mailboxes (`Start-MigrationUser`, only those
//! failed now, each audited), write the migration report to the project's `reports/` folder (made by
//! [`migration_report`], which `cutover report migration` calls too) and approve the skipped items of each mailbox
//! (listed first, each approval audited).

use super::super::checks::CheckError;
use super::super::jobs::{Job, JobContext};
use super::super::tasks::{TaskError, TaskOutcome, write};
use super::super::work::{Done, Stop, m365, task_job};
use super::migrate::{batch::batch_name, watch};
use super::{LiveChecks, NotStarted, StageWork, TaskInputs};
use crate::m365::M365Error;
use crate::m365::exo::{ExSize, ExoClient};
use crate::plan::TaskId;
use crate::plan::migrate::health::{Health, health};
use crate::plan::migrate::view::BatchView;
use crate::plan::verify::catalogue::skipped_item_line;
use crate::plan::verify::{STAGE, Task};
use crate::project::ProjectState;
use crate::protocol::Event;
use crate::report::migration::MigrationReport;
use crate::report::render::{Format, render};
use crate::runner::resume::{ReadBack, field};
use chrono::Utc;

pub struct Work;

/// Whether `m` is among the picked mailboxes (by address or identity, any case); none picked: every one.
fn picked(mailboxes: &[String], m: &crate::plan::migrate::view::MailboxView) -> bool {
    let key = crate::plan::migrate::view::mailbox_key(&m.user);
    mailboxes.is_empty()
        || mailboxes.iter().any(|p| p.eq_ignore_ascii_case(&key) || p.eq_ignore_ascii_case(&m.user.identity))
}

/// The report's file names in `reports/`, one per format.
pub(crate) const REPORT_STEM: &str = "migration-report";

impl StageWork for Work {
    fn read_back<'a>(
        &'a self,
        _state: &'a ProjectState,
        write: &'a crate::project::AuditRecord,
        conn: &'a crate::runner::connect::Connections,
    ) -> crate::runner::resume::Reading<'a> {
        let exo = || crate::runner::resume::tenant(conn).map(|m| &m.exo);
        match write.action.as_str() {
            "start-migration-user" => Some(Box::pin(async move { read_back_restart(exo()?, &write.detail).await })),
            "approve-skipped-items" => Some(Box::pin(async move { read_back_approval(exo()?, &write.detail).await })),
            _ => None,
        }
    }

    fn live(&self) -> Option<LiveChecks> {
        Some(|state, conn| {
            Box::pin(async move {
                let m365 = conn.m365.as_ref().map_err(|e| CheckError::NotSignedIn(e.to_string()))?;
                let mut view = BatchView::default();
                watch::cycle(&m365.exo, &batch_name(&state.name), &mut view)
                    .await
                    .map_err(|_| CheckError::Cancelled)?;
                let inventory = state.inventory.as_deref().map_or(&[][..], |i| &i.mailboxes[..]);
                Ok(crate::plan::verify::checks::run_checks(&view, inventory, &state.migrate, &state.verify, Utc::now()))
            })
        })
    }

    fn task(&self, task: TaskId, inputs: TaskInputs) -> Result<Job, NotStarted> {
        let TaskId::Verify(which) = task else { return Err(NotStarted::NotBuilt) };
        let label = task.def().title;
        let name = batch_name(&inputs.state.name);
        let job = match which {
            Task::RetryFailed => task_job(task, &[TaskId::Verify(Task::RetryFailed)], label, move |ctx| async move {
                let m365 = m365(&inputs.conn)?;
                let mut view = BatchView::default();
                watch::cycle(&m365.exo, &name, &mut view).await.map_err(TaskError::from)?;
                let now = Utc::now();
                let failed: Vec<String> = view
                    .mailboxes
                    .values()
                    .filter(|m| health(m, &inputs.state.migrate, now) == Health::Failed)
                    // Only the ones the engineer picked, when they picked: read first, so one no longer failed is left.
                    .filter(|m| picked(&inputs.mailboxes, m))
                    .map(|m| m.user.identity.clone())
                    .collect();
                let mut outcome = TaskOutcome::default();
                for (i, identity) in failed.iter().enumerate() {
                    if ctx.cancel.is_cancelled() {
                        outcome.cancelled = true;
                        break;
                    }
                    let total = u64::try_from(failed.len()).ok();
                    ctx.progress(format!("restarting {identity}"), u64::try_from(i).unwrap_or(0), total);
                    let detail = serde_json::json!({ "identity": identity, "batch": name });
                    write(&ctx, STAGE, "start-migration-user", detail, m365.exo.start_migration_user(identity)).await?;
                    outcome.done.push(format!("{identity}: Start-MigrationUser"));
                }
                outcome.summary = match outcome.done.len() {
                    0 => "No mailbox of the batch is failed: nothing to restart.".to_owned(),
                    n => format!(
                        "Restarted {n} failed mailbox(es): {}. The watch shows whether they get through.",
                        failed.join(", ")
                    ),
                };
                Ok(Done::ran(outcome))
            }),
            Task::ExportReport => task_job(task, &[TaskId::Verify(Task::ExportReport)], label, move |ctx| async move {
                let m365 = m365(&inputs.conn)?;
                let report = migration_report(&m365.exo, &inputs.state).await.map_err(|e| match e {
                    ReportError::M365(e) => Stop::from(e),
                    stale @ ReportError::Stale(_) => Stop::Refused(stale.to_string()),
                })?;
                let files: Vec<(String, String)> = [Format::Markdown, Format::Html, Format::Csv, Format::Json]
                    .into_iter()
                    .map(|f| (format!("{REPORT_STEM}.{}", f.extension()), render(&report, f)))
                    .collect();
                let (tx, rx) = tokio::sync::oneshot::channel();
                ctx.record(Box::new(move |project| {
                    let dir = project.dir().join("reports");
                    let written = std::fs::create_dir_all(&dir)
                        .map_err(|e| format!("creating {}: {e}", dir.display()))
                        .and_then(|()| {
                            files.iter().try_for_each(|(file, text)| {
                                crate::project::state::write_atomic(&dir.join(file), text.as_bytes())
                                    .map_err(|e| e.to_string())
                            })
                        })
                        .map(|()| dir.display().to_string());
                    let _ = tx.send(written);
                    None::<Event>
                }));
                let dir = rx
                    .await
                    .map_err(|_| Stop::Refused("the wizard closed before the report was written".into()))?
                    .map_err(|e| Stop::Refused(format!("the report could not be written: {e}")))?;
                let summary = format!(
                    "Wrote the migration report to {dir}/{REPORT_STEM}.md, .html, .csv and .json ({} mailboxes).",
                    report.rows.len()
                );
                Ok(Done::ran(TaskOutcome { summary, ..TaskOutcome::default() }))
            }),
            Task::ApproveSkipped => {
                task_job(task, &[TaskId::Verify(Task::ApproveSkipped)], label, move |ctx| async move {
                    let m365 = m365(&inputs.conn)?;
                    Ok(Done::ran(approve_skipped(&ctx, &m365.exo, &name, &inputs.mailboxes).await?))
                })
            }
        };
        Ok(job)
    }

    fn writes_tenant(&self, task: TaskId) -> bool {
        matches!(task, TaskId::Verify(Task::RetryFailed | Task::ApproveSkipped))
    }

    fn picks_mailboxes(&self, task: TaskId) -> bool {
        self.writes_tenant(task)
    }
}

/// Why the migration report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    M365(#[from] M365Error),
    #[error("the batch could not be read, so the report would be stale: {0}")]
    Stale(String),
}

/// The migration report on a fresh read of the batch: what the task export-report writes and `cutover report
/// migration` prints, made here once so the two never differ. Read-only.
pub async fn migration_report(exo: &ExoClient, state: &ProjectState) -> Result<MigrationReport, ReportError> {
    let mut view = BatchView::default();
    watch::cycle(exo, &batch_name(&state.name), &mut view).await?;
    if let Some(e) = &view.last_error {
        return Err(ReportError::Stale(e.message.clone()));
    }
    Ok(MigrationReport::build(state, &view, Utc::now()))
}

/// Lists the skipped items of each mailbox of the batch that has some (of the picked ones, when some are picked),
/// then approves them (`Set-MigrationUser -ApproveSkippedItems`, audited). A mailbox Exchange says is approved
/// already is left, so a second run writes nothing.
pub async fn approve_skipped(
    ctx: &JobContext,
    exo: &ExoClient,
    batch: &str,
    mailboxes: &[String],
) -> Result<TaskOutcome, TaskError> {
    ctx.progress(format!("reading the batch {batch}"), 0, None);
    let mut view = BatchView::default();
    watch::cycle(exo, batch, &mut view).await?;
    if let Some(e) = &view.last_error {
        return Err(TaskError::BadInput {
            what: format!("the batch {batch} could not be read ({})", e.message),
            fix: "run the task again once Exchange Online answers".to_owned(),
        });
    }
    let with_skipped: Vec<String> = view
        .mailboxes
        .values()
        .filter(|m| m.skipped_items() > 0 && picked(mailboxes, m))
        .map(|m| m.user.identity.clone())
        .collect();
    let total = u64::try_from(with_skipped.len()).ok();
    let mut outcome = TaskOutcome::default();
    let mut listed: Vec<String> = Vec::new();
    for (i, identity) in with_skipped.iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            outcome.cancelled = true;
            break;
        }
        ctx.progress(format!("reading the skipped items of {identity}"), u64::try_from(i).unwrap_or(0), total);
        // Gone from the batch since the cycle: nothing of it to approve.
        let Some(stats) = exo.get_migration_user_statistics_with_skipped(identity, None).await? else { continue };
        if stats.skipped_items_approved == Some(true) {
            outcome.skipped.push(format!("{identity}: {} skipped item(s) approved already", stats.skipped_items));
            continue;
        }
        let items = stats.skipped_item_details.unwrap_or_default();
        // The audit keeps what was approved, without the subjects: they are the customer's mail.
        let kinds: Vec<serde_json::Value> = items
            .iter()
            .map(|i| serde_json::json!({ "kind": i.kind.name(), "bytes": i.message_size.and_then(ExSize::bytes) }))
            .collect();
        let detail = serde_json::json!({
            "identity": identity, "batch": batch, "skipped_items": stats.skipped_items, "items": kinds,
        });
        write(ctx, STAGE, "approve-skipped-items", detail, exo.approve_user_skipped_items(identity)).await?;
        outcome.done.push(format!("{identity}: Set-MigrationUser -ApproveSkippedItems"));
        listed.push(format!("{identity}, {} skipped item(s):", stats.skipped_items));
        listed.extend(items.iter().map(|i| format!("  {}", skipped_item_line(i))));
    }
    let left = if outcome.skipped.is_empty() {
        String::new()
    } else {
        format!(" Left as approved already: {}.", outcome.skipped.join("; "))
    };
    outcome.summary = match outcome.done.len() {
        0 if with_skipped.is_empty() && !mailboxes.is_empty() => {
            format!("{} has no skipped items now: nothing to approve.", mailboxes.join(", "))
        }
        0 if with_skipped.is_empty() => "No mailbox of the batch has skipped items: nothing to approve.".to_owned(),
        0 => format!("Nothing to approve.{left}"),
        n => format!("Approved the skipped items of {n} mailbox(es).{left}\n{}", listed.join("\n")),
    };
    Ok(outcome)
}
/// Reads back an `approve-skipped-items` a crash cut short: done when Exchange says the mailbox's skipped items
/// are approved (`SkippedItemsApproved`); a statistics answer that does not say is not guessed.
async fn read_back_approval(exo: &ExoClient, detail: &serde_json::Value) -> Result<ReadBack, String> {
    let identity = field(detail, "identity")?;
    let stats = exo.get_migration_user_statistics(identity).await.map_err(|e| e.to_string())?;
    match stats.and_then(|s| s.skipped_items_approved) {
        Some(approved) => Ok(ReadBack::from(
            approved,
            format!("the skipped items of {identity} are approved"),
            format!("the skipped items of {identity} are not approved"),
        )),
        None => Err(format!("Exchange Online does not say whether the skipped items of {identity} are approved")),
    }
}

/// Reads back a `start-migration-user` a crash cut short: done when the mailbox's move is no longer failed.
async fn read_back_restart(exo: &ExoClient, detail: &serde_json::Value) -> Result<ReadBack, String> {
    let identity = field(detail, "identity")?;
    let batch = detail.get("batch").and_then(serde_json::Value::as_str);
    let users = exo.get_migration_users(batch).await.map_err(|e| e.to_string())?.items;
    let user = users.iter().find(|u| u.identity.eq_ignore_ascii_case(identity));
    let shown = user.map_or_else(|| "not in the batch".to_owned(), |u| u.status.to_string());
    Ok(ReadBack::from(
        user.is_some_and(|u| !u.status.is_failed()),
        format!("{identity} is {shown}"),
        format!("{identity} is {shown}"),
    ))
}
