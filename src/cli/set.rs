//! `cutover set SETTING VALUE [--project NAME]`: stores one of the stage screens' settings through the runner, as
//! the wizard's editor does (the same validation, the same audit record, the same checks re-taken). A setting is
//! named by its label in lower case with dashes: "Cloud accounts" is cloud-accounts.

use super::out::outln;
use crate::plan::PLAN;
use crate::plan::settings::Setting;
use crate::project::DataHome;
use crate::runner::{self, Command, Event};
use color_eyre::eyre::{bail, eyre};
use std::process::ExitCode;

/// The name a setting goes by on the command line, made from its label so the two never disagree.
fn id(setting: Setting) -> String {
    let mut id = String::new();
    for c in setting.label().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_owned()
}

pub fn run(name: &str, value: &str, project: Option<&str>, json: bool) -> color_eyre::Result<ExitCode> {
    let all = PLAN.iter().flat_map(|s| s.settings.iter().copied());
    let wanted = name.trim().to_ascii_lowercase();
    let Some(setting) = all.clone().find(|s| id(*s) == wanted) else {
        let names: Vec<String> = PLAN
            .iter()
            .filter(|s| !s.settings.is_empty())
            .map(|s| {
                let ids: Vec<String> = s.settings.iter().map(|x| id(*x)).collect();
                format!("  stage {} ({}): {}", s.id, s.title, ids.join(", "))
            })
            .collect();
        bail!("there is no setting '{name}'. The settings are:\n{}", names.join("\n"));
    };
    let home = DataHome::from_env()?;
    let project_name = super::project_name(&home, project)?;
    let (mut project, _, _) = super::resume::open(&home, &project_name)?;
    let stage = setting.stage();
    // The wizard opens no editor on a locked stage.
    if !project.state().is_open(stage)
        && let Some(reason) = crate::plan::gating::locked_reason(stage)
    {
        bail!("{} is refused: {reason}", id(setting));
    }
    let command = Command::SetSetting { setting, value: value.to_owned() };
    let state = match runner::execute(&mut project, command) {
        Event::StateChanged { state, .. } => state,
        Event::Refused { reason, .. } => return Err(eyre!("{}: {reason} (expected {})", id(setting), setting.hint())),
        Event::Failed { error, .. } => bail!("{} was not saved: {error}", id(setting)),
        other => bail!("{} got an unexpected answer: {other:?}", id(setting)),
    };
    let now = setting.current(state.settings());
    if json {
        outln!(
            "{}",
            serde_json::json!({ "project": state.name, "setting": id(setting), "stage": stage.number(), "value": now })
        )?;
    } else {
        outln!(
            "{} ({}) of stage {stage}: {}",
            setting.label(),
            id(setting),
            if now.is_empty() { "(not set)" } else { &now }
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_has_its_own_name() {
        let ids: Vec<String> = PLAN.iter().flat_map(|s| s.settings.iter().map(|x| id(*x))).collect();
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert!(ids.iter().all(|i| !i.is_empty() && !i.starts_with('-') && !i.ends_with('-')), "{ids:?}");
        assert_eq!(id(Setting::Provisioning), "cloud-accounts");
        assert_eq!(id(Setting::UploadBandwidth), "upload-mbit-s");
    }
}
