//! Stage 6, Verify: its checks read one cycle of the batch (as stage 5's watch does) and judge it with the item
//! counts and the failure catalogue; its tasks restart the failed mailboxes (`Start-MigrationUser`, only those
//! failed now, each audited) and write the migration report to the project's `reports/` folder.

use super::super::checks::CheckError;
use super::super::jobs::Job;
use super::super::tasks::{TaskError, TaskOutcome, write};
use super::super::work::{Done, m365, task_job};
use super::migrate::{batch::batch_name, watch};
use super::{LiveChecks, NotStarted, StageWork, TaskInputs};
use crate::plan::TaskId;
use crate::plan::migrate::health::{Health, health};
use crate::plan::migrate::view::BatchView;
use crate::plan::verify::{STAGE, Task};
use crate::protocol::Event;
use crate::report::migration::MigrationReport;
use crate::report::render::{Format, render};
use chrono::Utc;

pub struct Work;

/// The report's file names in `reports/`, one per format.
const REPORT_STEM: &str = "migration-report";

impl StageWork for Work {
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
                let mut view = BatchView::default();
                watch::cycle(&m365.exo, &name, &mut view).await.map_err(TaskError::from)?;
                if let Some(e) = &view.last_error {
                    return Err(super::super::work::Stop::Refused(format!(
                        "the batch could not be read, so the report would be stale: {}",
                        e.message
                    )));
                }
                let report = MigrationReport::build(&inputs.state, &view, Utc::now());
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
                    .map_err(|_| {
                        super::super::work::Stop::Refused("the wizard closed before the report was written".into())
                    })?
                    .map_err(|e| super::super::work::Stop::Refused(format!("the report could not be written: {e}")))?;
                let summary = format!(
                    "Wrote the migration report to {dir}/{REPORT_STEM}.md, .html, .csv and .json ({} mailboxes).",
                    report.rows.len()
                );
                Ok(Done::ran(TaskOutcome { summary, ..TaskOutcome::default() }))
            }),
        };
        Ok(job)
    }

    fn writes_tenant(&self, task: TaskId) -> bool {
        task == TaskId::Verify(Task::RetryFailed)
    }
}
