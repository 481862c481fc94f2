//! What following the batch without the wizard tells (`cutover watch`): the changes between two views of the
//! watch (a mailbox's status, the batch's state, a poll failed or recovered), and whether the state waited for
//! is reached. Pure.

use super::MigrateSettings;
use super::health::{Health, health};
use super::view::BatchView;
use crate::m365::exo::values::{BatchStatus, UserStatus};
use chrono::{DateTime, Utc};

/// One change worth a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A mailbox appeared (`from` is `None`) or its health or Exchange's status changed.
    Mailbox {
        address: String,
        from: Option<Health>,
        health: Health,
        status: UserStatus,
    },
    /// The batch appeared, changed state, or went away (`None`).
    Batch {
        from: Option<BatchStatus>,
        to: Option<BatchStatus>,
    },
    PollFailed {
        message: String,
    },
    PollRecovered,
}

/// What `before` → `after` changed, batch first, then the mailboxes by address, then the poll's health. A first
/// view (`before` empty) lists every mailbox as it is.
pub fn changes(before: &BatchView, after: &BatchView, settings: &MigrateSettings, now: DateTime<Utc>) -> Vec<Change> {
    let mut out = Vec::new();
    let status = |v: &BatchView| v.batch.as_ref().map(|b| b.status.clone());
    // A failed poll keeps the last good view: its batch and mailboxes did not change, only its error.
    if after.last_error.is_none() && status(before) != status(after) {
        out.push(Change::Batch { from: status(before), to: status(after) });
    }
    for (key, m) in &after.mailboxes {
        let now_health = health(m, settings, now);
        let was = before.mailboxes.get(key);
        let moved = match was {
            None => true,
            Some(w) => w.user.status != m.user.status || health(w, settings, now) != now_health,
        };
        if moved {
            out.push(Change::Mailbox {
                address: key.clone(),
                from: was.map(|w| health(w, settings, now)),
                health: now_health,
                status: m.user.status.clone(),
            });
        }
    }
    match (&before.last_error, &after.last_error) {
        (_, Some(e)) if before.last_error.as_ref().is_none_or(|b| b.message != e.message) => {
            out.push(Change::PollFailed { message: e.message.clone() });
        }
        (Some(_), None) => out.push(Change::PollRecovered),
        _ => {}
    }
    out
}

/// The state a follower waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Every mailbox's initial sync is over: synced or further on, or failed or stopped (named).
    Synced,
    /// The batch is completed (with or without errors).
    Completed,
}

/// Where the batch stands for a follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Waiting,
    /// The state waited for is reached: the mailboxes migrated, and the addresses of those that did not get there.
    Reached {
        migrated: usize,
        failed: Vec<String>,
    },
    /// The batch itself failed: no state will be reached by waiting.
    BatchFailed(BatchStatus),
}

pub fn verdict(view: &BatchView, settings: &MigrateSettings, until: Until, now: DateTime<Utc>) -> Verdict {
    let Some(batch) = &view.batch else { return Verdict::Waiting };
    if batch.status.is_failed() {
        return Verdict::BatchFailed(batch.status.clone());
    }
    let healths: Vec<(&String, Health)> = view.mailboxes.iter().map(|(k, m)| (k, health(m, settings, now))).collect();
    let migrated = healths.iter().filter(|(_, h)| h.is_migrated()).count();
    let failed: Vec<String> = healths
        .iter()
        .filter(|(_, h)| matches!(h, Health::Failed | Health::Stopped))
        .map(|(k, _)| (*k).clone())
        .collect();
    let reached = match until {
        Until::Synced => !healths.is_empty() && migrated + failed.len() == healths.len(),
        Until::Completed => matches!(batch.status, BatchStatus::Completed | BatchStatus::CompletedWithErrors),
    };
    if reached { Verdict::Reached { migrated, failed } } else { Verdict::Waiting }
}

#[cfg(test)]
mod tests {
    use super::super::view::tests::{batch, t0, user};
    use super::super::view::{PollFacts, PollResult, apply_poll};
    use super::*;
    use chrono::Duration;

    fn with_batch(status: BatchStatus, users: Vec<crate::m365::exo::types::MigrationUser>) -> PollResult {
        PollResult::Read(Box::new(PollFacts {
            batch: Some(batch(status)),
            users,
            statistics: vec![],
            service_ahead_ms: None,
        }))
    }

    #[test]
    fn a_line_per_change_and_none_when_nothing_moved() {
        let s = MigrateSettings::default();
        let (a, b) = ("a@x.com", "b@x.com");
        let mut view = BatchView::default();
        apply_poll(
            &mut view,
            with_batch(BatchStatus::Syncing, vec![user(a, UserStatus::Syncing, 1), user(b, UserStatus::Queued, 0)]),
            t0(),
        );
        let first = changes(&BatchView::default(), &view, &s, t0());
        assert_eq!(first.len(), 3, "the batch and every mailbox at first: {first:?}");
        let before = view.clone();
        let t1 = t0() + Duration::seconds(30);
        apply_poll(
            &mut view,
            with_batch(BatchStatus::Syncing, vec![user(a, UserStatus::Syncing, 5), user(b, UserStatus::Queued, 0)]),
            t1,
        );
        assert_eq!(changes(&before, &view, &s, t1), vec![], "counters moving is not a change of status");
        let before = view.clone();
        apply_poll(
            &mut view,
            with_batch(BatchStatus::Synced, vec![user(a, UserStatus::Synced, 5), user(b, UserStatus::Queued, 0)]),
            t1,
        );
        assert_eq!(
            changes(&before, &view, &s, t1),
            vec![
                Change::Batch { from: Some(BatchStatus::Syncing), to: Some(BatchStatus::Synced) },
                Change::Mailbox {
                    address: a.into(),
                    from: Some(Health::Syncing),
                    health: Health::Synced,
                    status: UserStatus::Synced
                },
            ]
        );
        let before = view.clone();
        apply_poll(&mut view, PollResult::Failed("HTTP 503".into()), t1);
        assert_eq!(changes(&before, &view, &s, t1), vec![Change::PollFailed { message: "HTTP 503".into() }]);
        let again = view.clone();
        apply_poll(&mut view, PollResult::Failed("HTTP 503".into()), t1);
        assert_eq!(changes(&again, &view, &s, t1), vec![], "the same failure again is no news");
        let before = view.clone();
        apply_poll(
            &mut view,
            with_batch(BatchStatus::Synced, vec![user(a, UserStatus::Synced, 5), user(b, UserStatus::Queued, 0)]),
            t1,
        );
        assert_eq!(changes(&before, &view, &s, t1), vec![Change::PollRecovered]);
    }

    #[test]
    fn synced_is_reached_once_no_mailbox_is_on_its_way_and_the_failed_are_named() {
        let s = MigrateSettings::default();
        let mut view = BatchView::default();
        assert_eq!(verdict(&view, &s, Until::Synced, t0()), Verdict::Waiting, "no batch yet");
        let users = |b: UserStatus| vec![user("a@x.com", UserStatus::Synced, 1), user("f@x.com", b, 0)];
        apply_poll(&mut view, with_batch(BatchStatus::Syncing, users(UserStatus::Syncing)), t0());
        assert_eq!(verdict(&view, &s, Until::Synced, t0()), Verdict::Waiting);
        apply_poll(&mut view, with_batch(BatchStatus::SyncedWithErrors, users(UserStatus::Failed)), t0());
        assert_eq!(
            verdict(&view, &s, Until::Synced, t0()),
            Verdict::Reached { migrated: 1, failed: vec!["f@x.com".into()] }
        );
        assert_eq!(verdict(&view, &s, Until::Completed, t0()), Verdict::Waiting, "synced is not completed");
        apply_poll(&mut view, with_batch(BatchStatus::CompletedWithErrors, users(UserStatus::Failed)), t0());
        assert!(matches!(verdict(&view, &s, Until::Completed, t0()), Verdict::Reached { migrated: 1, .. }));
        apply_poll(&mut view, with_batch(BatchStatus::Failed, users(UserStatus::Failed)), t0());
        assert_eq!(verdict(&view, &s, Until::Synced, t0()), Verdict::BatchFailed(BatchStatus::Failed));
    }

    #[test]
    fn a_stalled_mailbox_is_still_on_its_way() {
        let s = MigrateSettings::default();
        let mut view = BatchView::default();
        apply_poll(&mut view, with_batch(BatchStatus::Syncing, vec![user("a@x.com", UserStatus::Syncing, 1)]), t0());
        let later = t0() + Duration::hours(2);
        assert_eq!(verdict(&view, &s, Until::Synced, later), Verdict::Waiting);
    }
}
