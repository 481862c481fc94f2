//! Stage 2, Source health check: the source server's checks (Autodiscover, certificate, Outlook Anywhere, EWS)
//! as a job, the inventory checks (in place, with every import, VIP or setting change), the inventory import,
//! the VIP marks and the migration account's password in the keyring.

mod checks;
mod import;

use super::super::jobs::Job;
use super::super::{outcome, record_checks};
use super::{LiveChecks, NotStarted, StageWork, TaskInputs};
use crate::plan::TaskId;
use crate::plan::source::{self, Task};
use crate::plan::{TaskRecord, TaskStatus};
use crate::project::{Project, ProjectState};
use crate::protocol::Event;
use crate::secrets::Secrets;
use chrono::Utc;
use std::path::Path;

pub struct Work;

impl StageWork for Work {
    fn live(&self) -> Option<LiveChecks> {
        Some(|state, conn| Box::pin(async move { Ok(checks::run(state, conn).await) }))
    }

    fn refresh(&self, state: &mut ProjectState) {
        let results = source::run_inventory_checks(
            state.inventory.as_deref(),
            &state.vips,
            &state.source,
            state.kickoff.mailboxes,
            Utc::now(),
        );
        record_checks(state, results);
    }

    fn task(&self, task: TaskId, _inputs: TaskInputs) -> Result<Job, NotStarted> {
        // The wizard never asks: its Enter opens the import dialog or the mailbox table. `cutover task` may.
        let TaskId::Source(task) = task else { return Err(NotStarted::NotBuilt) };
        Err(NotStarted::Refused(
            match task {
                Task::ImportInventory => "import the inventory with `cutover import inventory FILE`, or in the wizard",
                Task::MarkVips => "mark the VIPs in the wizard's mailbox table (stage 2)",
            }
            .to_owned(),
        ))
    }
}

/// Imports the inventory CSV at `path`: see [`import::run`].
pub fn import(project: &mut Project, path: &Path, allow_removals: bool) -> Event {
    import::run(project, path, allow_removals)
}

/// Marks or unmarks a mailbox of the inventory as a VIP, and re-takes the inventory checks.
pub fn set_vip(project: &mut Project, key: String, vip: bool) -> Event {
    let key = key.to_ascii_lowercase();
    let known = project.state().inventory.as_deref().is_some_and(|i| i.mailboxes.iter().any(|m| m.key() == key));
    if !known {
        return Event::Refused { what: "VIP".to_owned(), reason: format!("{key} is not in the inventory") };
    }
    let detail = serde_json::json!({ "mailbox": key, "vip": vip });
    let result = project.change(Some(source::STAGE), "mark-vip", detail, |state| {
        if vip {
            state.vips.insert(key);
        } else {
            state.vips.remove(&key);
        }
        let count = state.vips.len();
        let task =
            TaskRecord { status: TaskStatus::Done, detail: format!("{count} VIP mailbox(es) marked"), at: Utc::now() };
        state.stage_mut(source::STAGE).record_task(Task::MarkVips, task);
        Work.refresh(state);
        Ok::<(), std::convert::Infallible>(())
    });
    outcome(project, "VIP", result)
}

/// Keeps the source migration account's password in the OS keyring, audited: the record names the keyring
/// account, never the password.
pub fn store_password(
    project: &mut Project,
    secrets: &Secrets,
    password: &crate::secrets::Secret,
) -> Result<Result<(), crate::secrets::SecretsError>, crate::project::ProjectError> {
    let scope = project.state().keyring_scope();
    let detail = serde_json::json!({ "keyring_account": format!("{scope}/source-password") });
    project.change_with(
        Some(source::STAGE),
        "store-source-password",
        detail,
        |_| Ok(()),
        || secrets.save(&scope, &crate::secrets::SecretKind::SourcePassword, password),
    )
}
