//! Stage 5's verdicts over the watch's view: `batch-state` (the batch syncing, synced or completed, not failed or
//! stopped) and `mailbox-progress` (every mailbox healthy, or failed/stalled with a named cause). Pure.

use super::health::{counts, counts_line, health};
use super::view::BatchView;
use super::{Check, MigrateSettings};
use crate::m365::exo::values::BatchStatus;
use crate::plan::stages::CheckId;
use crate::plan::verify::catalogue::explain;
use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Utc};

/// Both checks of stage 5, in the stage's order.
pub fn run_checks(view: &BatchView, settings: &MigrateSettings, now: DateTime<Utc>) -> Vec<(CheckId, CheckResult)> {
    vec![
        (Check::BatchState.into(), batch_state(view, now)),
        (Check::MailboxProgress.into(), mailbox_progress(view, settings, now)),
    ]
}

/// What the view's age adds to evidence: "(as read 3 min ago; the last poll failed: …)".
fn freshness(view: &BatchView, now: DateTime<Utc>) -> String {
    let age = view.age(now).map(|a| format!("as read {} min ago", a.num_minutes().max(0)));
    let error = view.last_error.as_ref().map(|e| format!("the last poll failed: {}", e.message));
    let parts: Vec<String> = age.into_iter().chain(error).collect();
    if parts.is_empty() { String::new() } else { format!(" ({})", parts.join("; ")) }
}

/// `batch-state`.
pub fn batch_state(view: &BatchView, now: DateTime<Utc>) -> CheckResult {
    let Some(b) = &view.batch else {
        let why = match &view.last_error {
            Some(e) => format!("Not run: the batch could not be read: {}.", e.message),
            None => "Not run: no cutover batch yet. Create and start it (the tasks above).".to_owned(),
        };
        return CheckResult::new(Outcome::NotRun, why, now);
    };
    let counts = format!(
        "{} mailboxes: {} synced, {} active, {} failed, {} stopped, {} pending",
        b.total_count, b.synced_count, b.active_count, b.failed_count, b.stopped_count, b.pending_count
    );
    let (outcome, verdict) = match &b.status {
        BatchStatus::Syncing
        | BatchStatus::IncrementalSyncing
        | BatchStatus::Synced
        | BatchStatus::Completing
        | BatchStatus::Completed => (Outcome::Pass, format!("Batch {} is {}.", b.identity, b.status)),
        BatchStatus::SyncedWithErrors | BatchStatus::CompletedWithErrors => (
            Outcome::Warn,
            format!(
                "Batch {} is {}: {} mailbox(es) failed; stage 6 explains each.",
                b.identity, b.status, b.failed_count
            ),
        ),
        BatchStatus::Created | BatchStatus::Starting | BatchStatus::Waiting => {
            (Outcome::Warn, format!("Batch {} is {}: not syncing yet.", b.identity, b.status))
        }
        BatchStatus::Stopping | BatchStatus::Stopped => (
            Outcome::Fail,
            format!("Batch {} is {}: nothing syncs. Fix: start it again (Start-MigrationBatch).", b.identity, b.status),
        ),
        BatchStatus::Failed | BatchStatus::Corrupted => (
            Outcome::Fail,
            format!(
                "Batch {} is {}. Fix: read Get-MigrationBatch {} -IncludeReport, fix the cause (often the endpoint: \
                 Test-MigrationServerAvailability), then start it again.",
                b.identity, b.status, b.identity
            ),
        ),
        // Stage 8 removes it once completed: what this check saw of the sync stands.
        BatchStatus::Removing => {
            let why = format!("Not run: the batch {} is being removed (stage 8); the last result stands.", b.identity);
            return CheckResult::new(Outcome::NotRun, why, now);
        }
        BatchStatus::Unknown(s) => {
            (Outcome::Warn, format!("Batch {} is in a state this version does not know: {s}.", b.identity))
        }
    };
    CheckResult::new(outcome, format!("{verdict} {counts}{}.", freshness(view, now)), now)
}

/// `mailbox-progress`.
pub fn mailbox_progress(view: &BatchView, settings: &MigrateSettings, now: DateTime<Utc>) -> CheckResult {
    if view.mailboxes.is_empty() {
        return CheckResult::new(Outcome::NotRun, "Not run: the batch lists no mailbox yet.", now);
    }
    let header = counts_line(&counts(view, settings, now));
    let mut explained = Vec::new();
    let mut unknown = Vec::new();
    for (address, m) in &view.mailboxes {
        if let Some(e) = explain(m, settings, now) {
            let line = format!("{address} ({}): {}", health(m, settings, now).label(), e.line());
            if e.is_known() { explained.push(line) } else { unknown.push(line) }
        }
    }
    let (outcome, verdict) = match (explained.len(), unknown.len()) {
        (0, 0) => (Outcome::Pass, "Every mailbox is progressing.".to_owned()),
        (n, 0) => (Outcome::Warn, format!("{n} mailbox(es) failed or stalled, each with a named cause:")),
        (_, n) => (Outcome::Fail, format!("{n} mailbox(es) failed or stalled for a cause not in the catalogue:")),
    };
    let mut lines = vec![format!("{verdict} {header}{}.", freshness(view, now))];
    lines.extend(unknown);
    lines.extend(explained);
    CheckResult::new(outcome, lines.join("\n"), now)
}

#[cfg(test)]
mod tests {
    use super::super::view::tests::{batch, read, t0, user};
    use super::super::view::{PollFacts, PollResult, apply_poll};
    use super::*;
    use crate::m365::exo::values::UserStatus;
    use chrono::Duration;

    #[test]
    fn the_batch_state_gives_the_reason() {
        let mut view = BatchView::default();
        assert_eq!(batch_state(&view, t0()).outcome, Outcome::NotRun);
        for (status, want) in [
            (BatchStatus::Syncing, Outcome::Pass),
            (BatchStatus::SyncedWithErrors, Outcome::Warn),
            (BatchStatus::Stopped, Outcome::Fail),
            (BatchStatus::Failed, Outcome::Fail),
            (BatchStatus::Unknown("Paused".into()), Outcome::Warn),
        ] {
            let facts = PollFacts {
                batch: Some(batch(status.clone())),
                users: vec![],
                statistics: vec![],
                service_ahead_ms: None,
            };
            apply_poll(&mut view, PollResult::Read(Box::new(facts)), t0());
            let r = batch_state(&view, t0());
            assert_eq!(r.outcome, want, "{status}: {}", r.evidence);
            assert!(r.evidence.contains(status.name()), "{}", r.evidence);
        }
    }

    #[test]
    fn mailbox_progress_names_each_cause() {
        let settings = MigrateSettings::default();
        let mut view = BatchView::default();
        let mut failed = user("b@x.com", UserStatus::Failed, 0);
        failed.error = Some("Error: MigrationMRSPermanentException: Access is denied.".into());
        apply_poll(&mut view, read(vec![user("a@x.com", UserStatus::Syncing, 1), failed.clone()], vec![]), t0());
        let r = mailbox_progress(&view, &settings, t0());
        assert_eq!(r.outcome, Outcome::Warn, "{}", r.evidence);
        assert!(r.evidence.contains("b@x.com (failed): the migration account lacks rights"), "{}", r.evidence);
        failed.error = Some("Something new happened".into());
        apply_poll(&mut view, read(vec![user("a@x.com", UserStatus::Syncing, 2), failed], vec![]), t0());
        let r = mailbox_progress(&view, &settings, t0() + Duration::minutes(1));
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.evidence);
        assert!(r.evidence.contains("\"Something new happened\""), "{}", r.evidence);
        apply_poll(&mut view, read(vec![user("a@x.com", UserStatus::Syncing, 2)], vec![]), t0() + Duration::minutes(2));
        assert_eq!(mailbox_progress(&view, &settings, t0() + Duration::minutes(3)).outcome, Outcome::Pass);
    }
}
