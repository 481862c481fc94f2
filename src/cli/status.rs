//! `cutover status`: where every stage of a project stands, read from `state.json` without taking the lock, and
//! the batch and its mailboxes as the watch last saw them (`live/batch.json`), and stage 7's resolver table
//! (`live/dns.json`).

use super::out::outln;
use crate::plan::migrate::view::BatchView;
use crate::plan::mx::propagation::DnsView;
use crate::plan::{StageId, StageStatus};
use crate::project::live::LiveStore;
use crate::project::{AUDIT_FILE, AuditLog, DataHome, STATE_FILE, state};
use crate::report::live::{self, LiveBatch, LiveDns};
use crate::runner::stages::migrate::BATCH_LIVE;
use crate::runner::stages::mx::watch::DNS_LIVE;
use chrono::Utc;
use std::process::ExitCode;

pub fn run(project: Option<&str>, json: bool) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, project)?;
    let dir = home.project(&name);
    if !dir.join(STATE_FILE).exists() {
        return Err(crate::project::missing(&home, &name).into());
    }
    let audit = AuditLog::new(dir.join(AUDIT_FILE));
    let state = state::load(&dir.join(STATE_FILE), &audit)?;
    super::resume::warn_unread(&audit);
    let view = batch_view(&dir);
    let dns = LiveStore::new(&dir).read::<DnsView>(DNS_LIVE).unwrap_or_else(|e| {
        super::out::warn(&format!("warning: the DNS watch's live view cannot be read ({e}); it is left out, and the DNS watch's next round writes it again"));
        None
    });
    let now = Utc::now();
    if json {
        let stages: Vec<serde_json::Value> = StageId::all()
            .map(|id| {
                let record = state.stage(id);
                let checks: Vec<serde_json::Value> = id
                    .def()
                    .checks
                    .iter()
                    .map(|c| {
                        let result = record.and_then(|r| r.result(c.id));
                        serde_json::json!({
                            "id": c.id,
                            "title": c.title,
                            "outcome": result.map(|r| r.outcome),
                            "evidence": result.map(|r| r.evidence.as_str()),
                            "at": result.map(|r| r.at),
                            "override": record.and_then(|r| r.active_override(c.id)),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "stage": id.number(),
                    "title": id.def().title,
                    "status": status_word(state.shown_status(id)),
                    "open": state.is_open(id),
                    "checks": checks,
                })
            })
            .collect();
        let batch = view.as_ref().map(|v| LiveBatch::build(v, now));
        let mailboxes = view.as_ref().map_or_else(Vec::new, |v| live::mailboxes(v, &state.migrate, now));
        let dns = dns.as_ref().map(|v| LiveDns::build(v, &state.mx, now));
        outln!(
            "{}",
            serde_json::json!({
                "project": state.name, "demo": state.demo, "stages": stages, "batch": batch, "mailboxes": mailboxes,
                "dns": dns,
            })
        )?;
    } else {
        outln!("Project {}{}", state.name, if state.demo { " (demo)" } else { "" })?;
        for id in StageId::all() {
            outln!("  {id}. {:<24} {}", id.def().title, status_word(state.shown_status(id)))?;
        }
        if let Some(view) = &view {
            outln!("{}", crate::safe_text::escape_controls(&live::summary_line(view, &state.migrate, now), false))?;
        }
        if let Some(dns) = &dns {
            outln!("{}", crate::safe_text::escape_controls(&live::dns_line(dns, now), false))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The watch's last view of the batch, if it ever ran; a damaged file is a warning, since the next poll rewrites it.
fn batch_view(dir: &std::path::Path) -> Option<BatchView> {
    match LiveStore::new(dir).read::<BatchView>(BATCH_LIVE) {
        Ok(view) => view,
        Err(e) => {
            super::out::warn(&format!(
                "warning: the batch's live view cannot be read ({e}); it is left out, and the watch's next poll \
                 writes it again"
            ));
            None
        }
    }
}

pub(super) fn status_word(status: StageStatus) -> &'static str {
    match status {
        StageStatus::NotStarted => "not started",
        StageStatus::InProgress => "in progress",
        StageStatus::Done => "done",
        StageStatus::Overridden => "done (overridden)",
        StageStatus::Failed => "failed",
        StageStatus::Locked => "locked (finish the stage before)",
    }
}
