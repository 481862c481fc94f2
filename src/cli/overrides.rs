//! `cutover override --stage N --check ID --reason TEXT`: goes on despite a failed check, through the runner's
//! override as the wizard's dialog does (the same minimum reason, the same audit record).

use super::out::outln;
use crate::plan::{CheckId, StageId};
use crate::project::DataHome;
use crate::runner::{self, Command, Event};
use color_eyre::eyre::{bail, eyre};
use std::process::ExitCode;

pub struct OverrideArgs<'a> {
    pub stage: u8,
    pub check: &'a str,
    pub reason: &'a str,
    pub project: Option<&'a str>,
    pub json: bool,
}

pub fn run(args: OverrideArgs<'_>) -> color_eyre::Result<ExitCode> {
    let stage = StageId::new(args.stage).ok_or_else(|| {
        eyre!("--stage {}: there is no such stage; give 1 to {}", args.stage, crate::plan::PLAN.len())
    })?;
    let check = CheckId::parse(stage, args.check.trim()).ok_or_else(|| {
        let ids: Vec<&str> = stage.def().checks.iter().map(|c| c.id.as_str()).collect();
        eyre!(
            "--check {}: stage {stage} ({}) has no such check; its checks are {}",
            args.check,
            stage.def().title,
            ids.join(", ")
        )
    })?;
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, args.project)?;
    let (mut project, _, _) = super::resume::open(&home, &name)?;
    let command = Command::Override { check, reason: args.reason.to_owned() };
    let state = match runner::execute(&mut project, command) {
        Event::StateChanged { state, .. } => state,
        Event::Refused { reason, .. } => bail!("cannot override {check} ({}): {reason}", check.def().title),
        Event::Failed { error, .. } => bail!("the override of {check} was not saved: {error}"),
        other => bail!("the override of {check} got an unexpected answer: {other:?}"),
    };
    let status = super::status::status_word(state.status(stage));
    let kept = state.stage(stage).and_then(|r| r.active_override(check));
    if args.json {
        outln!(
            "{}",
            serde_json::json!({
                "project": state.name,
                "stage": stage.number(),
                "check": check,
                "override": kept,
                "stage_status": status,
            })
        )?;
    } else {
        outln!(
            "Overrode {check} ({}) of stage {stage}: {}",
            check.def().title,
            kept.map_or("", |o| o.reason.as_str())
        )?;
        outln!("Stage {stage} ({}) is {status}.", stage.def().title)?;
    }
    Ok(ExitCode::SUCCESS)
}
