//! Stage 8's reading of the batch's end: where completion stands (from `Get-MigrationBatch`), what the tasks
//! complete-batch and remove-batch may do from there, and the checks batch-completed and batch-removed, both
//! over what Exchange Online says now. Pure.

use crate::m365::exo::{BatchStatus, MigrationBatch};
use crate::plan::migrate::view::BatchView;
use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where the batch's completion stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "status")]
pub enum Completion {
    /// No batch of this project in the tenant.
    NoBatch,
    /// Still syncing (initially or incrementally): not ready to complete; Exchange's status.
    NotReady(String),
    /// Synced (with or without errors): Complete-MigrationBatch may run.
    Ready(String),
    /// The last incremental sync runs; synchronisation stops after it.
    Completing,
    Completed,
    /// Some mailboxes did not complete (failed, or skipped items not approved); a second
    /// Complete-MigrationBatch retries them.
    CompletedWithErrors,
    /// Remove-MigrationBatch was run; the batch goes away shortly.
    Removing,
    /// Stopped, failed or a state this build does not know: nothing is done to it; Exchange's status.
    Other(String),
}

impl Completion {
    pub fn of(batch: Option<&MigrationBatch>) -> Completion {
        let Some(b) = batch else { return Completion::NoBatch };
        match &b.status {
            BatchStatus::Created
            | BatchStatus::Starting
            | BatchStatus::Syncing
            | BatchStatus::IncrementalSyncing
            | BatchStatus::Waiting => Completion::NotReady(b.status.to_string()),
            BatchStatus::Synced | BatchStatus::SyncedWithErrors => Completion::Ready(b.status.to_string()),
            BatchStatus::Completing => Completion::Completing,
            BatchStatus::Completed => Completion::Completed,
            BatchStatus::CompletedWithErrors => Completion::CompletedWithErrors,
            BatchStatus::Removing => Completion::Removing,
            other => Completion::Other(other.to_string()),
        }
    }

    /// Whether Complete-MigrationBatch is the thing to run now (a retry after errors included).
    pub fn may_complete(&self) -> bool {
        matches!(self, Completion::Ready(_) | Completion::CompletedWithErrors)
    }

    /// Whether the completion is over, well or not: the completion watch ends here.
    pub fn finished(&self) -> bool {
        matches!(
            self,
            Completion::Completed | Completion::CompletedWithErrors | Completion::Removing | Completion::NoBatch
        )
    }

    /// Remove-MigrationBatch only once the completion is over: earlier it would stop the sync of mail still
    /// arriving. CompletedWithErrors is over too: a mailbox that cannot complete (hidden on purpose, poisoned)
    /// must not keep the batch, and the service's last duty, for ever; the question before says what stays.
    pub fn may_remove(&self) -> bool {
        matches!(self, Completion::Completed | Completion::CompletedWithErrors)
    }

    /// A short word for status lines and `cutover status --json`.
    pub fn word(&self) -> String {
        match self {
            Completion::NoBatch => "no batch".to_owned(),
            Completion::NotReady(s) | Completion::Ready(s) | Completion::Other(s) => s.clone(),
            Completion::Completing => "Completing".to_owned(),
            Completion::Completed => "Completed".to_owned(),
            Completion::CompletedWithErrors => "CompletedWithErrors".to_owned(),
            Completion::Removing => "Removing".to_owned(),
        }
    }
}

/// The mailboxes that did not complete: failed ones, and those whose skipped items were not approved (named
/// with the count, so the engineer sees what the approval covers).
pub fn not_completed(view: &BatchView) -> Vec<String> {
    view.mailboxes
        .iter()
        .filter(|(_, m)| m.user.status.is_failed())
        .map(|(address, m)| {
            let skipped = m.skipped_items();
            let why = m.error().unwrap_or("no error given");
            if skipped > 0 {
                format!("{address} ({}, {skipped} skipped item(s)): {why}", m.user.status)
            } else {
                format!("{address} ({}): {why}", m.user.status)
            }
        })
        .collect()
}

/// The mailboxes with skipped items not yet approved: completion fails for them until approved.
pub fn unapproved_skipped(view: &BatchView) -> Vec<String> {
    view.mailboxes
        .iter()
        .filter(|(_, m)| m.skipped_items() > 0)
        .filter(|(_, m)| m.statistics.as_ref().and_then(|s| s.skipped_items_approved) != Some(true))
        .map(|(address, m)| format!("{address}: {} skipped item(s)", m.skipped_items()))
        .collect()
}

/// batch-completed: Pass on Completed; a batch already removed passes only when this project's remove-batch
/// removed it (it runs only on a Completed batch), as the tenant no longer shows it.
pub fn completed_check(view: &BatchView, removed_by_task: bool, now: DateTime<Utc>) -> CheckResult {
    let state = Completion::of(view.batch.as_ref());
    let (outcome, evidence) = match &state {
        _ if view.last_error.is_some() => (
            Outcome::Fail,
            format!(
                "Cannot tell: the batch could not be read ({}).",
                view.last_error.as_ref().map_or("", |e| &e.message)
            ),
        ),
        Completion::Completed => (Outcome::Pass, "The batch is Completed: synchronisation has stopped.".to_owned()),
        Completion::NoBatch | Completion::Removing if removed_by_task => {
            (Outcome::Pass, "The batch was Completed, then removed by the task Remove the batch.".to_owned())
        }
        Completion::NoBatch => (Outcome::Fail, "There is no migration batch in Exchange Online.".to_owned()),
        Completion::CompletedWithErrors => {
            let mut lines = vec![
                "The batch is CompletedWithErrors: these mailboxes did not complete. Approve their skipped items \
                 (stage 6's task Approve the skipped items, `cutover task approve-skipped`), then run Complete \
                 the batch again:"
                    .to_owned(),
            ];
            lines.extend(not_completed(view).into_iter().map(|l| format!("  {l}")));
            (Outcome::Fail, lines.join("\n"))
        }
        Completion::Completing => {
            (Outcome::Fail, "The batch is Completing: its last incremental sync runs. Check again later.".to_owned())
        }
        other => (Outcome::Fail, format!("The batch is {}: run the task Complete the batch.", other.word())),
    };
    CheckResult::new(outcome, evidence, now)
}

/// batch-removed: Pass when Exchange Online lists no migration batch at all.
pub fn removed_check(batches: &[MigrationBatch], now: DateTime<Utc>) -> CheckResult {
    let (outcome, evidence) = match batches {
        [] => (Outcome::Pass, "Exchange Online lists no migration batch.".to_owned()),
        some => (
            Outcome::Fail,
            format!(
                "Exchange Online still lists: {}.",
                some.iter().map(|b| format!("{} ({})", b.identity, b.status)).collect::<Vec<_>>().join(", ")
            ),
        ),
    };
    CheckResult::new(outcome, evidence, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::m365::exo::values::UserStatus;
    use crate::plan::migrate::view::tests::{batch, read, t0, user};
    use crate::plan::migrate::view::{PollResult, apply_poll};

    fn view_with(status: BatchStatus, users: Vec<crate::m365::exo::MigrationUser>) -> BatchView {
        let mut poll = read(users, vec![]);
        if let PollResult::Read(f) = &mut poll {
            f.batch = Some(batch(status));
        }
        let mut v = BatchView::default();
        apply_poll(&mut v, poll, t0());
        v
    }

    #[test]
    fn exchange_states_map_to_what_stage_8_may_do() {
        let of = |s: BatchStatus| Completion::of(Some(&batch(s)));
        assert_eq!(Completion::of(None), Completion::NoBatch);
        assert!(of(BatchStatus::Synced).may_complete() && of(BatchStatus::SyncedWithErrors).may_complete());
        assert!(of(BatchStatus::CompletedWithErrors).may_complete(), "a second completion retries the failed");
        for left in [BatchStatus::Completing, BatchStatus::Completed, BatchStatus::Syncing, BatchStatus::Removing] {
            assert!(!of(left.clone()).may_complete(), "{left}");
        }
        assert!(of(BatchStatus::Completed).may_remove());
        assert!(of(BatchStatus::CompletedWithErrors).may_remove() && !of(BatchStatus::Completing).may_remove());
        assert!(of(BatchStatus::Completed).finished() && of(BatchStatus::CompletedWithErrors).finished());
        assert!(!of(BatchStatus::Completing).finished());
        assert_eq!(of(BatchStatus::Unknown("Paused".into())), Completion::Other("Paused".into()));
        assert_eq!(of(BatchStatus::IncrementalSyncing), Completion::NotReady("IncrementalSyncing".into()));
    }

    #[test]
    fn batch_completed_passes_on_completed_and_names_the_mailboxes_that_did_not() {
        let now = t0();
        assert_eq!(completed_check(&view_with(BatchStatus::Completed, vec![]), false, now).outcome, Outcome::Pass);
        let mut failed = user("j.morrison@x.com", UserStatus::CompletionFailed, 10);
        failed.skipped_items = Some(3);
        failed.error = Some("skipped items need approval".into());
        let r = completed_check(&view_with(BatchStatus::CompletedWithErrors, vec![failed]), false, now);
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("j.morrison@x.com (CompletionFailed, 3 skipped item(s))"), "{}", r.evidence);
        assert!(r.evidence.contains("approve-skipped"), "{}", r.evidence);
        assert_eq!(completed_check(&BatchView::default(), false, now).outcome, Outcome::Fail);
        assert_eq!(completed_check(&BatchView::default(), true, now).outcome, Outcome::Pass);
        assert_eq!(completed_check(&view_with(BatchStatus::Completing, vec![]), true, now).outcome, Outcome::Fail);
    }

    #[test]
    fn batch_removed_reads_the_tenants_list() {
        assert_eq!(removed_check(&[], t0()).outcome, Outcome::Pass);
        let r = removed_check(&[batch(BatchStatus::Removing)], t0());
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("CutoverBatch (Removing)"), "{}", r.evidence);
    }
}
