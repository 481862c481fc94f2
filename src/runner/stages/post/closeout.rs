//! Stage 9's task closeout-report: the closeout report made from the project alone (its state, the batch view
//! the watch kept in `live/batch.json` or stage 6's migration report, the fresher, and the audit log, torn lines
//! skipped),
//! written to the project's `reports/closeout-report.{md,html,json}`. [`closeout_report`] is the one function
//! the task and `cutover report closeout` share. It reads no tenant and no keyring.

use super::super::super::jobs::Job;
use super::super::super::tasks::TaskOutcome;
use super::super::super::work::{Done, Stop, task_job};
use super::super::TaskInputs;
use super::super::migrate::BATCH_LIVE;
use crate::plan::TaskId;
use crate::plan::migrate::view::BatchView;
use crate::plan::post::Task;
use crate::project::audit::AuditLog;
use crate::project::live::LiveStore;
use crate::project::state::ProjectState;
use crate::project::{ProjectError, REPORTS_DIR};
use crate::protocol::Event;
use crate::report::closeout::render::{FORMATS, render};
use crate::report::closeout::{CloseoutReport, Inputs, MigrationSource};
use crate::report::migration::MigrationReport;
use chrono::{DateTime, Utc};
use std::path::Path;

/// The report's file names in `reports/`, one per format.
const REPORT_STEM: &str = "closeout-report";

/// The closeout report of the project in `dir` as of `now`. A damaged live view or stage 6 report is left out
/// (with a warning in the log): the report then says it has no migration facts rather than failing.
pub fn closeout_report(
    dir: &Path,
    state: &ProjectState,
    audit: &AuditLog,
    now: DateTime<Utc>,
) -> Result<CloseoutReport, ProjectError> {
    let view = LiveStore::new(dir).read::<BatchView>(BATCH_LIVE).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the batch's live view cannot be read; the closeout report goes on without it");
        None
    });
    // The fresher of the watch's view and stage 6's report: a headless run may leave the view of an early
    // poll, and once stage 8 removed the batch the view holds no mailbox while the report kept what moved.
    let from_view = view
        .as_ref()
        .filter(|v| !v.mailboxes.is_empty())
        .map(|v| (MigrationReport::build(state, v, now), MigrationSource::BatchView));
    let from_stage6 = stage6_report(dir).map(|r| (r, MigrationSource::Stage6Report));
    let read_at = |m: &(MigrationReport, MigrationSource)| m.0.polled_at.unwrap_or(m.0.generated_at);
    let migration = match (from_view, from_stage6) {
        (Some(v), Some(r)) if read_at(&r) > read_at(&v) => Some(r),
        (Some(v), _) => Some(v),
        (None, r) => r,
    };
    let history = view.map(|v| v.history.into_iter().collect()).unwrap_or_default();
    let (records, torn) = audit.read()?;
    Ok(CloseoutReport::build(Inputs { state, migration, history, audit: &records, torn_audit_lines: &torn, now }))
}

/// The migration report stage 6's export-report wrote as JSON, if it did and it reads.
fn stage6_report(dir: &Path) -> Option<MigrationReport> {
    let path = dir.join(REPORTS_DIR).join(format!("{}.json", super::super::verify::REPORT_STEM));
    let bytes = std::fs::read(&path).ok()?;
    serde_json::from_slice(&bytes)
        .map_err(|e| tracing::warn!(path = %path.display(), error = %e, "stage 6's migration report cannot be read"))
        .ok()
}

/// The task: builds the report where the project is held and writes the three files atomically.
pub fn job(task: TaskId, _inputs: TaskInputs) -> Job {
    task_job(task, &[TaskId::Post(Task::CloseoutReport)], task.def().title, move |ctx| async move {
        let (tx, rx) = tokio::sync::oneshot::channel();
        ctx.record(Box::new(move |project| {
            let written = closeout_report(project.dir(), project.state(), project.audit(), Utc::now())
                .map_err(|e| e.to_string())
                .and_then(|report| {
                    let dir = project.dir().join(REPORTS_DIR);
                    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
                    for format in FORMATS {
                        let file = dir.join(format!("{REPORT_STEM}.{}", format.extension()));
                        crate::project::state::write_atomic(&file, render(&report, format).as_bytes())
                            .map_err(|e| e.to_string())?;
                    }
                    Ok((dir.display().to_string(), report))
                });
            let _ = tx.send(written);
            None::<Event>
        }));
        let (dir, report) = rx
            .await
            .map_err(|_| Stop::Refused("the wizard closed before the report was written".into()))?
            .map_err(|e| Stop::Refused(format!("the closeout report could not be written: {e}")))?;
        let met = report.criteria.iter().filter(|c| c.verdict == crate::report::closeout::criteria::Verdict::Met);
        let summary = format!(
            "Wrote the closeout report to {dir}/{REPORT_STEM}.md, .html and .json: {} of 5 success criteria met, \
             final budget {}.",
            met.count(),
            report.budget.final_usd.map_or_else(|| "unknown".to_owned(), crate::plan::kickoff::format_usd)
        );
        Ok(Done::ran(TaskOutcome { summary, ..TaskOutcome::default() }))
    })
}
