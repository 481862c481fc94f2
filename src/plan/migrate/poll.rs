//! Poll planning for the batch watch: which mailboxes' statistics a cycle reads (never one call per mailbox per
//! cycle: a 2,000-mailbox batch would be throttled), and how long to wait before the next cycle. Pure.

use super::MigrateSettings;
use super::health::is_moving;
use super::view::{BatchView, mailbox_key};
use crate::m365::exo::types::MigrationUser;
use crate::m365::exo::values::{BatchStatus, UserStatus};
use std::time::Duration;

/// The identities to pass to `Get-MigrationUserStatistics` this cycle, given this cycle's `Get-MigrationUser`
/// answer: the mailboxes Exchange is moving data for, the ones whose counters (synced or skipped items, status)
/// changed since the view's last cycle, and the ones never read that are past the queue (a failed mailbox's
/// statistics carry the full error). The rest keep their last statistics.
pub fn which_statistics(view: &BatchView, users: &[MigrationUser]) -> Vec<String> {
    users
        .iter()
        .filter(|u| {
            let known = view.mailboxes.get(&mailbox_key(u));
            let changed = known.is_none_or(|m| {
                m.user.status != u.status
                    || m.user.synced_items != u.synced_items
                    || m.user.skipped_items != u.skipped_items
            });
            let never_read = known.is_none_or(|m| m.statistics.is_none()) && u.status != UserStatus::Queued;
            is_moving(&u.status) || (changed && u.status != UserStatus::Queued) || never_read
        })
        .map(|u| u.identity.clone())
        .collect()
}

/// How long until the next cycle: the short interval while anything moves (or the batch is on its way), the
/// long one once every mailbox has settled (synced, failed, stopped or completed); incremental syncs come only
/// every 24 hours, so polling them every 30 seconds would only cost throttling budget.
pub fn next_interval(view: &BatchView, settings: &MigrateSettings) -> Duration {
    let batch_busy = view.batch.as_ref().is_none_or(|b| {
        matches!(
            b.status,
            BatchStatus::Created
                | BatchStatus::Starting
                | BatchStatus::Syncing
                | BatchStatus::Completing
                | BatchStatus::Stopping
                | BatchStatus::Removing
                | BatchStatus::Waiting
        )
    });
    let mailbox_busy = view.mailboxes.values().any(|m| {
        is_moving(&m.user.status)
            || matches!(
                m.user.status,
                UserStatus::Queued | UserStatus::Provisioning | UserStatus::ProvisionUpdating | UserStatus::Validating
            )
    });
    let secs = if batch_busy || mailbox_busy { settings.poll_active_secs } else { settings.poll_idle_secs };
    Duration::from_secs(u64::from(secs.max(1)))
}

#[cfg(test)]
mod tests {
    use super::super::view::tests::{batch, read, stats, t0, user};
    use super::super::view::{BatchView, apply_poll};
    use super::*;

    fn status_of(i: usize) -> UserStatus {
        match i % 40 {
            0 => UserStatus::Syncing,
            1 => UserStatus::Failed,
            2 => UserStatus::Queued,
            _ => UserStatus::Synced,
        }
    }

    #[test]
    fn of_two_thousand_mailboxes_only_the_active_and_changed_are_read() {
        let users: Vec<MigrationUser> =
            (0..2000).map(|i| user(&format!("user{i}@contoso.com"), status_of(i), 100)).collect();
        let mut view = BatchView::default();
        let first = which_statistics(&view, &users);
        assert_eq!(first.len(), 2000 - 50, "a first cycle reads every mailbox past the queue once");
        let statistics = users
            .iter()
            .filter(|u| first.contains(&u.identity))
            .map(|u| stats(&u.identity, u.status.clone(), 100, 1000, 2000))
            .collect();
        apply_poll(&mut view, read(users.clone(), statistics), t0());
        let second = which_statistics(&view, &users);
        assert_eq!(second.len(), 50, "only the 50 syncing: {second:?}");
        assert!(second.iter().all(|id| view.mailbox(id).is_some_and(|m| m.user.status == UserStatus::Syncing)));
        // One synced mailbox picks up new items (an incremental sync ran): it is read once more.
        let mut next = users.clone();
        next[3].synced_items = Some(120);
        let third = which_statistics(&view, &next);
        assert_eq!(third.len(), 51);
        assert!(third.contains(&next[3].identity));
    }

    #[test]
    fn the_interval_slows_once_everything_is_synced() {
        let settings = MigrateSettings::default();
        let mut view = BatchView::default();
        assert_eq!(next_interval(&view, &settings), Duration::from_secs(30), "no batch yet: it is on its way");
        apply_poll(
            &mut view,
            read(vec![user("a@x.com", UserStatus::Syncing, 1), user("b@x.com", UserStatus::Synced, 1)], vec![]),
            t0(),
        );
        assert_eq!(next_interval(&view, &settings), Duration::from_secs(30));
        apply_poll(
            &mut view,
            read(vec![user("a@x.com", UserStatus::Failed, 1), user("b@x.com", UserStatus::Synced, 1)], vec![]),
            t0(),
        );
        let mut batch = batch(BatchStatus::SyncedWithErrors);
        view.batch = Some(batch.clone());
        assert_eq!(next_interval(&view, &settings), Duration::from_secs(300));
        batch.status = BatchStatus::Syncing;
        view.batch = Some(batch);
        assert_eq!(next_interval(&view, &settings), Duration::from_secs(30));
    }
}
