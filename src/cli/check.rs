//! `cutover check [--project NAME] [--stage N] [--json]`: runs the read-only checks of every stage that has them
//! (stage 1 from the kickoff form, the others against the source server, the tenant and DNS), records them in the
//! project through its audited path, and prints Pass/Warn/Fail with the evidence. The exit code is 0 only when
//! every check ran and none failed.

use super::out::{OutputError, outln};
use crate::plan::{CheckResult, Outcome, StageId};
use crate::project::{DataHome, Project};
use crate::runner::checks::{CheckError, Results};
use crate::runner::connect::Connections;
use crate::runner::stages;
use crate::secrets::Secrets;
use color_eyre::eyre::eyre;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

/// Whether `stage` has checks built in this version: the ones `cutover check` runs without `--stage`.
fn has_checks(stage: StageId, state: &crate::project::ProjectState) -> bool {
    let work = stages::of(stage);
    work.live_checks() || work.pure_checks(state).is_some()
}

/// What one stage gave.
enum StageRun {
    /// The results of the run, and the checks among them that could not run and kept their earlier verdict.
    Ran(Results, Vec<crate::runner::NotReRun>),
    NotYet(String),
}

pub fn run(project: Option<&str>, stage: Option<u8>, json: bool) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, project)?;
    let asked = match stage {
        None => None,
        Some(n) => Some(
            StageId::new(n)
                .ok_or_else(|| eyre!("--stage {n}: there is no such stage; give 1 to {}", crate::plan::PLAN.len()))?,
        ),
    };
    let (mut project, _, _) = super::resume::open(&home, &name)?;
    let stage_list: Vec<StageId> = match asked {
        Some(stage) => vec![stage],
        None => StageId::all().filter(|s| has_checks(*s, project.state())).collect(),
    };
    let live = stage_list.iter().any(|s| stages::of(*s).live_checks());
    // The keyring is only needed for the stages that talk to a server.
    let secrets = if live { Some(Secrets::open()?) } else { None };
    let runtime = super::runtime()?;
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let mut runs = Vec::new();
    for stage in stage_list {
        let state = project.state().clone();
        let conn = secrets.as_ref().map(|s| Connections::new(name.as_str(), &state, s.clone()));
        let result = runtime.block_on(crate::m365::observed(super::out::waits(), async {
            match &conn {
                Some(conn) => stages::run_checks(stage, &state, conn, &cancel).await,
                None => stages::of(stage).pure_checks(&state).ok_or(CheckError::NotBuilt),
            }
        }));
        match result {
            Ok(results) => {
                let kept = record(&mut project, stage, &results)?;
                runs.push((stage, StageRun::Ran(results, kept)));
            }
            Err(CheckError::NotBuilt) => runs.push((
                stage,
                StageRun::NotYet(format!(
                    "Stage {stage} ({}) has no live checks yet; `cutover status` shows what it has recorded.",
                    stage.def().title
                )),
            )),
            Err(CheckError::NotSignedIn(message)) => {
                return Err(eyre!("stage {stage} needs Microsoft 365: {message}"));
            }
            Err(CheckError::Cancelled) => return Err(eyre!("cancelled; the results of the stages before are kept")),
        }
    }
    let all_good = runs.iter().all(|(_, run)| match run {
        StageRun::Ran(results, _) => results.iter().all(|(_, r)| r.outcome.is_acceptable()),
        StageRun::NotYet(_) => true,
    });
    if json {
        print_json(name.as_str(), &runs, all_good)?;
    } else {
        print_text(name.as_str(), &runs)?;
    }
    Ok(if all_good { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Keeps the results in the project, audited, as the wizard's own runs are; returns the checks that could not
/// run and kept their earlier verdict.
fn record(
    project: &mut Project,
    stage: StageId,
    results: &Results,
) -> color_eyre::Result<Vec<crate::runner::NotReRun>> {
    Ok(crate::runner::record_check_run(project, stage, results.clone(), "cutover check")?)
}

fn kept_of(kept: &[crate::runner::NotReRun], id: crate::plan::CheckId) -> Option<&CheckResult> {
    kept.iter().find(|k| k.check == id).map(|k| &k.kept)
}

fn title(id: crate::plan::CheckId) -> &'static str {
    id.def().title
}

fn print_json(project: &str, runs: &[(StageId, StageRun)], all_good: bool) -> Result<(), OutputError> {
    let stages: Vec<serde_json::Value> = runs
        .iter()
        .map(|(stage, run)| match run {
            StageRun::Ran(results, kept) => serde_json::json!({
                "stage": stage.number(),
                "title": stage.def().title,
                "available": true,
                "checks": results.iter().map(|(id, r)| check_json(*id, r, kept_of(kept, *id))).collect::<Vec<_>>(),
            }),
            StageRun::NotYet(why) => serde_json::json!({
                "stage": stage.number(),
                "title": stage.def().title,
                "available": false,
                "note": why,
                "checks": [],
            }),
        })
        .collect();
    outln!("{}", serde_json::json!({ "project": project, "ok": all_good, "stages": stages }))
}

fn check_json(id: crate::plan::CheckId, r: &CheckResult, kept: Option<&CheckResult>) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "title": title(id),
        "outcome": r.outcome,
        "evidence": r.evidence,
        "at": r.at,
        "kept": kept.map(|k| serde_json::json!({ "outcome": k.outcome, "evidence": k.evidence, "at": k.at })),
    })
}

fn print_text(project: &str, runs: &[(StageId, StageRun)]) -> Result<(), OutputError> {
    outln!("Project {project}")?;
    for (stage, run) in runs {
        outln!()?;
        outln!("Stage {stage}. {}", stage.def().title)?;
        match run {
            StageRun::NotYet(why) => outln!("  {why}")?,
            StageRun::Ran(results, kept) => {
                for (id, r) in results {
                    let label = match r.outcome {
                        Outcome::NotRun => "NOT RUN",
                        other => other.label(),
                    };
                    outln!("  {label:<7} {id}: {}", title(*id))?;
                    for line in r.evidence.lines() {
                        outln!("          {line}")?;
                    }
                    if let Some(before) = kept_of(kept, *id) {
                        outln!(
                            "          Not re-run, so the result of {} stands: {}.",
                            before.at.format("%Y-%m-%d %H:%M UTC"),
                            before.outcome.label()
                        )?;
                    }
                }
            }
        }
    }
    Ok(())
}
