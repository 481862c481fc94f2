//! `cutover status`: where every stage of a project stands, read from `state.json` without taking the lock.

use super::out::outln;
use crate::plan::{StageId, StageStatus};
use crate::project::{AUDIT_FILE, AuditLog, DataHome, STATE_FILE, state};
use std::process::ExitCode;

pub fn run(project: Option<&str>, json: bool) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, project)?;
    let dir = home.project(&name);
    if !dir.join(STATE_FILE).exists() {
        return Err(crate::project::missing(&home, &name).into());
    }
    let state = state::load(&dir.join(STATE_FILE), &AuditLog::new(dir.join(AUDIT_FILE)))?;
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
        outln!("{}", serde_json::json!({ "project": state.name, "demo": state.demo, "stages": stages }))?;
    } else {
        outln!("Project {}{}", state.name, if state.demo { " (demo)" } else { "" })?;
        for id in StageId::all() {
            outln!("  {id}. {:<24} {}", id.def().title, status_word(state.shown_status(id)))?;
        }
    }
    Ok(ExitCode::SUCCESS)
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
