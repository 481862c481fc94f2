//! Stage 9's transport-rules: reads the source's rules from the script's export (the stage 9 setting), maps
//! them (`plan::post::rules`), reads the tenant's rules (`Get-TransportRule`) and creates only those missing by
//! name (`New-TransportRule`, one audited write each, in the source's priority order). A rule already there
//! with other settings is shown as its diff and left as it is; a rule that does not map is listed with why.

use crate::m365::exo::ExoClient;
use crate::plan::post::STAGE;
use crate::plan::post::rules::{Mapped, SourceRule, diff, map_all, parse_export};
use crate::project::ProjectState;
use crate::runner::jobs::JobContext;
use crate::runner::tasks::{TaskError, TaskOutcome, write};
use serde_json::{Value, json};

/// The export is a list of rules: a few hundred kilobytes at the most.
const MAX_EXPORT_BYTES: u64 = 16 * 1024 * 1024;

/// The source's rules from the export the stage 9 setting names.
pub fn source_rules(state: &ProjectState) -> Result<Vec<SourceRule>, TaskError> {
    let Some(typed) = state.post.rules_file.as_deref() else {
        return Err(TaskError::BadInput {
            what: "no transport-rule export is set".to_owned(),
            fix: "run assets/Get-CutoverInventory.ps1 on the Exchange server and set the stage 9 setting Transport rules file to its cutover-transport-rules-<date>.json".to_owned(),
        });
    };
    read_export(typed)
}

/// The rules of the export at `typed` (a path, `~/` for the home folder), as the setting holds it.
pub fn read_export(typed: &str) -> Result<Vec<SourceRule>, TaskError> {
    let path = match typed.strip_prefix("~/").zip(dirs::home_dir()) {
        Some((rest, home)) => home.join(rest),
        None => std::path::PathBuf::from(typed),
    };
    let bytes = crate::input_file::read_limited(&path, MAX_EXPORT_BYTES, "a transport-rule export")
        .map_err(|e| TaskError::BadInput { what: format!("the transport-rule export {typed}"), fix: e.reason() })?;
    parse_export(&String::from_utf8_lossy(&bytes))
        .map_err(|e| TaskError::BadInput { what: format!("the transport-rule export {typed}"), fix: e.to_string() })
}

pub async fn create_rules(ctx: &JobContext, exo: &ExoClient, state: &ProjectState) -> Result<TaskOutcome, TaskError> {
    let source = source_rules(state)?;
    let mapped = map_all(&source);
    ctx.progress("reading the tenant's transport rules", 0, None);
    let tenant = exo.get_transport_rules().await?.items;
    let mut outcome = TaskOutcome::default();
    let mut created = 0;
    let mut in_place = 0;
    let mut differ = Vec::new();
    let mut refused = Vec::new();
    let total = u64::try_from(mapped.len()).ok();
    for (i, m) in mapped.iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            outcome.cancelled = true;
            break;
        }
        ctx.progress(format!("transport rule {}", m.name()), u64::try_from(i).unwrap_or(0), total);
        let (name, parameters) = match m {
            Mapped::Refused { name, reasons } => {
                let why: Vec<String> = reasons.iter().map(|(k, r)| format!("{k}: {r}")).collect();
                refused.push(name.clone());
                outcome.skipped.push(format!("{name}: not migrated ({})", why.join("; ")));
                continue;
            }
            Mapped::Create { name, parameters } => (name, parameters),
        };
        if let Some(existing) = tenant.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
            let found = existing.raw.as_object().cloned().unwrap_or_default();
            let d = diff(parameters, &found);
            if d.is_empty() {
                in_place += 1;
                outcome.skipped.push(format!("{name}: in Exchange Online already, as the source has it"));
            } else {
                let lines: Vec<String> =
                    d.iter().map(|x| format!("{} wanted {} found {}", x.parameter, x.wanted, x.found)).collect();
                differ.push(name.clone());
                outcome.skipped.push(format!(
                    "{name}: in Exchange Online with other settings, left as it is: {}",
                    lines.join("; ")
                ));
            }
            continue;
        }
        let detail = json!({ "name": name, "parameters": Value::Object(parameters.clone()) });
        write(ctx, STAGE, "new-transport-rule", detail, exo.new_transport_rule(name, parameters.clone())).await?;
        created += 1;
        let state = if parameters.get("Enabled") == Some(&Value::Bool(false)) { "disabled" } else { "enabled" };
        outcome.done.push(format!("{name}: New-TransportRule ({state}, mode {})", mode(parameters)));
    }
    let mut summary = if source.is_empty() {
        "The source has no transport rules: nothing to create.".to_owned()
    } else {
        format!("{created} transport rule(s) created, {in_place} in place already, of {} at the source.", source.len())
    };
    if !differ.is_empty() {
        summary.push_str(&format!(" With other settings in Exchange Online, not overwritten: {}.", differ.join(", ")));
    }
    if !refused.is_empty() {
        summary.push_str(&format!(" Not migrated (recreate by hand, see the details): {}.", refused.join(", ")));
    }
    outcome.summary = summary;
    Ok(outcome)
}

fn mode(parameters: &serde_json::Map<String, Value>) -> &str {
    parameters.get("Mode").and_then(Value::as_str).unwrap_or("Enforce")
}
