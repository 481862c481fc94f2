//! Stage 5's writes: the cutover batch. Each reads Exchange Online first and acts on the difference, so a crash
//! and a resume never make a second batch or start one twice.
//! - create-batch: `Get-MigrationBatch`; a batch of the project's name is adopted; another cutover batch is
//!   refused (a tenant holds one); else `New-MigrationBatch` on the stage-4 endpoint, notifying the contacts.
//! - start-batch: `Get-MigrationBatch -Identity`; a batch syncing or further on is left alone; else
//!   `Start-MigrationBatch`.

use crate::m365::exo::{BatchAction, BatchStatus, ExoClient, MigrationBatch, MigrationEndpoint};
use crate::plan::migrate::STAGE;
use crate::runner::jobs::JobContext;
use crate::runner::resume::{ReadBack, field};
use crate::runner::tasks::{TaskError, TaskOutcome, write};
use serde_json::json;

/// What the batch should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRequest {
    pub name: String,
    /// The endpoint to prefer when the tenant has several Outlook Anywhere endpoints (stage 4's).
    pub endpoint: String,
    pub notification_emails: Vec<String>,
    /// `-AutoStart`: the initial sync begins at once.
    pub auto_start: bool,
}

/// The batch name of a project: recognisable in the Exchange admin center, within Exchange's 64 characters.
pub fn batch_name(project: &str) -> String {
    let name = format!("cutover-{project}");
    name.chars().take(64).collect()
}

/// Creates the cutover batch unless it exists; see the module's description.
pub async fn create_batch(ctx: &JobContext, exo: &ExoClient, request: &BatchRequest) -> Result<TaskOutcome, TaskError> {
    ctx.progress("reading the migration batches", 0, Some(2));
    let batches = exo.get_migration_batches().await?.items;
    if let Some(b) = batches.iter().find(|b| b.identity.eq_ignore_ascii_case(&request.name)) {
        return Ok(TaskOutcome {
            summary: format!("The batch {} exists already ({}): kept as this project's batch.", b.identity, b.status),
            skipped: vec![format!("{}: exists ({})", b.identity, b.status)],
            ..TaskOutcome::default()
        });
    }
    if let Some(other) = batches.iter().find(|b| is_cutover(b) && b.status != BatchStatus::Removing) {
        return Err(TaskError::OtherCutoverBatch { name: other.identity.clone(), status: other.status.to_string() });
    }
    let endpoints = exo.get_migration_endpoints().await?.items;
    let endpoint = choose_endpoint(&endpoints, &request.endpoint)?;
    if ctx.cancel.is_cancelled() {
        return Ok(TaskOutcome {
            cancelled: true,
            summary: "Stopped before the batch was made.".into(),
            ..Default::default()
        });
    }
    ctx.progress(format!("creating the batch {} on {}", request.name, endpoint.identity), 1, Some(2));
    let detail = json!({
        "name": request.name,
        "source_endpoint": endpoint.identity,
        "notification_emails": request.notification_emails,
        "auto_start": request.auto_start,
    });
    let created = write(
        ctx,
        STAGE,
        "new-migration-batch",
        detail,
        exo.new_cutover_batch(&request.name, &endpoint.identity, &request.notification_emails, request.auto_start),
    )
    .await?;
    let status = created.items.first().map_or_else(|| "created".to_owned(), |b| b.status.to_string());
    let start =
        if request.auto_start { "its initial sync starts now" } else { "start it with the task Start the batch" };
    Ok(TaskOutcome {
        summary: format!("Created the cutover batch {} ({status}) on {}: {start}.", request.name, endpoint.identity),
        done: vec![format!("{}: New-MigrationBatch ({status})", request.name)],
        ..TaskOutcome::default()
    })
}

/// Starts the batch unless it is syncing or further on already.
pub async fn start_batch(ctx: &JobContext, exo: &ExoClient, name: &str) -> Result<TaskOutcome, TaskError> {
    ctx.progress(format!("reading the batch {name}"), 0, Some(2));
    let Some(batch) = exo.get_migration_batch(name).await? else {
        return Err(TaskError::BadInput {
            what: format!("there is no batch {name} in Exchange Online"),
            fix: "run the task Create the cutover batch first".to_owned(),
        });
    };
    if !startable(&batch.status) {
        return Ok(TaskOutcome {
            summary: format!("The batch {name} is {} already: nothing to start.", batch.status),
            skipped: vec![format!("{name}: {}", batch.status)],
            ..TaskOutcome::default()
        });
    }
    ctx.progress(format!("starting the batch {name}"), 1, Some(2));
    let detail = json!({ "name": name, "status_before": batch.status.to_string() });
    let warnings =
        write(ctx, STAGE, "start-migration-batch", detail, exo.batch_action(BatchAction::Start, name)).await?;
    let mut summary = format!("Started the batch {name}: the initial sync of every mailbox begins.");
    for w in &warnings {
        summary.push_str(&format!(" Exchange says: {w}"));
    }
    Ok(TaskOutcome { summary, done: vec![format!("{name}: Start-MigrationBatch")], ..TaskOutcome::default() })
}

/// A batch that a start moves on: made and never started, or stopped, or failed (a start retries it).
fn startable(status: &BatchStatus) -> bool {
    matches!(status, BatchStatus::Created | BatchStatus::Stopped | BatchStatus::Failed | BatchStatus::SyncedWithErrors)
}

/// Cutover and staged batches both move over Outlook Anywhere; an unknown type is taken as one, so the refusal
/// errs on the side of not making a second batch.
fn is_cutover(batch: &MigrationBatch) -> bool {
    batch.migration_type.as_deref().is_none_or(|t| t.eq_ignore_ascii_case("ExchangeOutlookAnywhere"))
}

/// The stage-4 endpoint by name, else the tenant's one Outlook Anywhere endpoint.
fn choose_endpoint<'a>(
    endpoints: &'a [MigrationEndpoint],
    preferred: &str,
) -> Result<&'a MigrationEndpoint, TaskError> {
    let outlook_anywhere: Vec<&MigrationEndpoint> = endpoints.iter().filter(|e| e.is_outlook_anywhere()).collect();
    if let Some(e) = outlook_anywhere.iter().find(|e| e.identity.eq_ignore_ascii_case(preferred)) {
        return Ok(e);
    }
    match outlook_anywhere.as_slice() {
        [one] => Ok(one),
        [] => Err(TaskError::BadInput {
            what: "Exchange Online has no Outlook Anywhere migration endpoint".to_owned(),
            fix: "run stage 4's task Create the migration endpoint first".to_owned(),
        }),
        several => Err(TaskError::BadInput {
            what: format!(
                "Exchange Online has {} Outlook Anywhere endpoints and none is named {preferred}: {}",
                several.len(),
                several.iter().map(|e| e.identity.as_str()).collect::<Vec<_>>().join(", ")
            ),
            fix: "remove the ones this migration does not use, or run stage 4's task Create the migration endpoint"
                .to_owned(),
        }),
    }
}

/// Reads back a write on the batch that a crash cut short, from the batch's status now: made (it exists),
/// started (it is no longer startable), completed (Completing or further), removed (gone, or Removing).
pub async fn read_back(exo: &ExoClient, action: &str, detail: &serde_json::Value) -> Result<ReadBack, String> {
    let name = field(detail, "name")?;
    let batch = exo.get_migration_batch(name).await.map_err(|e| e.to_string())?;
    let status = batch.as_ref().map(|b| b.status.clone());
    let shown = status.as_ref().map_or_else(|| "not in Exchange Online".to_owned(), |s| format!("{s}"));
    let there = match (action, &status) {
        ("new-migration-batch", s) => s.is_some(),
        ("start-migration-batch", Some(s)) => !startable(s),
        ("complete-migration-batch", Some(s)) => matches!(
            s,
            BatchStatus::Completing | BatchStatus::Completed | BatchStatus::CompletedWithErrors | BatchStatus::Removing
        ),
        ("remove-migration-batch", s) => s.is_none() || s == &Some(BatchStatus::Removing),
        (_, None) => false,
        (other, Some(_)) => return Err(format!("{other} is not a write on the batch")),
    };
    Ok(ReadBack::from(there, format!("the batch {name} is {shown}"), format!("the batch {name} is {shown}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(name: &str, kind: &str) -> MigrationEndpoint {
        MigrationEndpoint {
            identity: name.into(),
            endpoint_type: Some(kind.into()),
            rpc_proxy_server: None,
            exchange_server: None,
            max_concurrent_migrations: None,
            authentication: None,
        }
    }

    #[test]
    fn the_stage_4_endpoint_is_chosen_else_the_only_outlook_anywhere_one() {
        let oa = "ExchangeOutlookAnywhere";
        let all = [endpoint("Other", oa), endpoint("Cutover endpoint", oa), endpoint("IMAP", "IMAP")];
        assert_eq!(choose_endpoint(&all, "Cutover endpoint").expect("one").identity, "Cutover endpoint");
        let one = [endpoint("Legacy", oa), endpoint("IMAP", "IMAP")];
        assert_eq!(choose_endpoint(&one, "Cutover endpoint").expect("one").identity, "Legacy");
        let err = choose_endpoint(&[endpoint("IMAP", "IMAP")], "Cutover endpoint").expect_err("none");
        assert!(err.to_string().contains("stage 4"), "{err}");
        let two = [endpoint("A", oa), endpoint("B", oa)];
        assert!(choose_endpoint(&two, "Cutover endpoint").expect_err("two").to_string().contains("A, B"));
    }

    #[test]
    fn a_batch_is_started_only_when_it_is_not_moving_already() {
        assert!(startable(&BatchStatus::Created) && startable(&BatchStatus::Stopped));
        for moving in [BatchStatus::Syncing, BatchStatus::Synced, BatchStatus::Completing, BatchStatus::Completed] {
            assert!(!startable(&moving), "{moving}");
        }
        assert!(!startable(&BatchStatus::Unknown("Whatever".into())), "an unknown state is left alone");
    }

    #[test]
    fn the_batch_name_follows_the_project_within_exchanges_limit() {
        assert_eq!(batch_name("acme"), "cutover-acme");
        assert_eq!(batch_name(&"x".repeat(100)).chars().count(), 64);
    }
}
