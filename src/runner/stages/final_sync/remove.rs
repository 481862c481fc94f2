//! Stage 8's remove-batch and remove-endpoint. The batch is removed (`Remove-MigrationBatch`) only once Exchange
//! says Completed or CompletedWithErrors: earlier, the removal would stop the sync of mail still on its way. The endpoint
//! (`Remove-MigrationEndpoint`) goes only once no batch is left that could use it. Each reads first; what is gone
//! already is left.

use crate::m365::exo::{BatchAction, ExoClient};
use crate::plan::final_sync::STAGE;
use crate::plan::final_sync::completion::Completion;
use crate::runner::jobs::JobContext;
use crate::runner::resume::{ReadBack, field};
use crate::runner::tasks::{TaskError, TaskOutcome, write};
use serde_json::json;

/// Removes the batch once its completion is over (Completed, or CompletedWithErrors: the mailboxes that did not
/// complete stay on the source, and the outcome says so).
pub async fn remove_batch(ctx: &JobContext, exo: &ExoClient, name: &str) -> Result<TaskOutcome, TaskError> {
    ctx.progress(format!("reading the batch {name}"), 0, Some(2));
    let batch = exo.get_migration_batch(name).await?;
    let state = Completion::of(batch.as_ref());
    match &state {
        Completion::NoBatch | Completion::Removing => {
            let what = if state == Completion::NoBatch { "is gone" } else { "is being removed" };
            return Ok(TaskOutcome {
                summary: format!(
                    "The batch {name} {what} already: nothing to remove. Next: the task Remove the migration endpoint."
                ),
                skipped: vec![format!("{name}: {}", state.word())],
                ..TaskOutcome::default()
            });
        }
        Completion::Completed | Completion::CompletedWithErrors => {}
        other => {
            return Err(TaskError::BadInput {
                what: format!("the batch {name} is {}, not Completed", other.word()),
                fix: "run the task Complete the batch and wait until it is Completed".to_owned(),
            });
        }
    }
    ctx.progress(format!("removing the batch {name}"), 1, Some(2));
    let detail = json!({ "name": name, "status_before": state.word() });
    let warnings =
        write(ctx, STAGE, "remove-migration-batch", detail, exo.batch_action(BatchAction::Remove, name)).await?;
    let mut summary = format!(
        "Removed the batch {name}: Exchange Online deletes it shortly. Next: the task Remove the migration endpoint."
    );
    if state == Completion::CompletedWithErrors {
        summary.push_str(
            " It was CompletedWithErrors: the mailboxes that did not complete stay on the source server (the migration \
             report lists them).",
        );
    }
    for w in &warnings {
        summary.push_str(&format!(" Exchange says: {w}"));
    }
    Ok(TaskOutcome { summary, done: vec![format!("{name}: Remove-MigrationBatch")], ..TaskOutcome::default() })
}

/// Removes the migration endpoint `name` once no batch is left.
pub async fn remove_endpoint(ctx: &JobContext, exo: &ExoClient, name: &str) -> Result<TaskOutcome, TaskError> {
    ctx.progress("reading the migration endpoints and batches", 0, Some(2));
    let endpoints = exo.get_migration_endpoints().await?.items;
    let Some(endpoint) = endpoints.iter().find(|e| e.identity.eq_ignore_ascii_case(name)) else {
        return Ok(TaskOutcome {
            summary: format!("There is no migration endpoint {name} in Exchange Online: nothing to remove."),
            skipped: vec![format!("{name}: not there")],
            ..TaskOutcome::default()
        });
    };
    let batches = exo.get_migration_batches().await?.items;
    if !batches.is_empty() {
        return Err(TaskError::BadInput {
            what: format!(
                "Exchange Online still lists the batch(es) {}",
                batches.iter().map(|b| format!("{} ({})", b.identity, b.status)).collect::<Vec<_>>().join(", ")
            ),
            fix: "remove the batch first (the task Remove the batch) and wait until it is gone".to_owned(),
        });
    }
    ctx.progress(format!("removing the endpoint {}", endpoint.identity), 1, Some(2));
    let detail = json!({ "name": endpoint.identity });
    write(ctx, STAGE, "remove-migration-endpoint", detail, exo.remove_migration_endpoint(&endpoint.identity)).await?;
    Ok(TaskOutcome {
        summary: format!(
            "Removed the migration endpoint {}: Exchange Online no longer reaches the source.",
            endpoint.identity
        ),
        done: vec![format!("{}: Remove-MigrationEndpoint", endpoint.identity)],
        ..TaskOutcome::default()
    })
}
/// Reads back a `remove-migration-endpoint` a crash cut short: done when the endpoint is gone.
pub async fn read_back_endpoint(exo: &ExoClient, detail: &serde_json::Value) -> Result<ReadBack, String> {
    let name = field(detail, "name")?;
    let endpoints = exo.get_migration_endpoints().await.map_err(|e| e.to_string())?.items;
    let there = endpoints.iter().any(|e| e.identity.eq_ignore_ascii_case(name));
    Ok(ReadBack::from(
        !there,
        format!("there is no migration endpoint {name} any more"),
        format!("the migration endpoint {name} is still there"),
    ))
}
