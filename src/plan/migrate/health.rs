//! Each mailbox's health as the live table and the report show it: Exchange's status folded into what an
//! engineer acts on, plus the stall rule (a syncing mailbox whose counters have not moved for the stall setting),
//! and the counts by health for the header. Pure.

use super::MigrateSettings;
use super::view::{BatchView, MailboxView};
use crate::m365::exo::values::UserStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A mailbox's display status. Ordered as the header lists them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Health {
    Queued,
    /// Provisioning, validating or starting: before the first item moves.
    Starting,
    Syncing,
    /// Syncing, but its counters have not moved for the stall setting.
    Stalled,
    /// The initial sync is done (incremental syncs follow every 24 hours).
    Synced,
    Completing,
    Completed,
    CompletedWithWarnings,
    Stopped,
    Failed,
    Removing,
    /// A status this build does not know, as Exchange named it.
    Unknown(String),
}

impl Health {
    pub fn label(&self) -> &str {
        match self {
            Health::Queued => "queued",
            Health::Starting => "starting",
            Health::Syncing => "syncing",
            Health::Stalled => "stalled",
            Health::Synced => "synced",
            Health::Completing => "completing",
            Health::Completed => "completed",
            Health::CompletedWithWarnings => "completed with warnings",
            Health::Stopped => "stopped",
            Health::Failed => "failed",
            Health::Removing => "removing",
            Health::Unknown(s) => s,
        }
    }

    /// Failed or stalled: needs the engineer, with a cause from the failure catalogue.
    pub fn needs_attention(&self) -> bool {
        matches!(self, Health::Failed | Health::Stalled)
    }

    /// Its initial sync is done: it counts as migrated.
    pub fn is_migrated(&self) -> bool {
        matches!(self, Health::Synced | Health::Completing | Health::Completed | Health::CompletedWithWarnings)
    }
}

/// Exchange's status alone, before the stall rule.
pub fn of_status(status: &UserStatus) -> Health {
    match status {
        UserStatus::Queued => Health::Queued,
        UserStatus::Provisioning | UserStatus::ProvisionUpdating | UserStatus::Validating | UserStatus::Starting => {
            Health::Starting
        }
        UserStatus::Syncing | UserStatus::IncrementalSyncing => Health::Syncing,
        UserStatus::Synced | UserStatus::IncrementalSynced | UserStatus::CompletionSynced => Health::Synced,
        UserStatus::Completing => Health::Completing,
        UserStatus::Completed => Health::Completed,
        UserStatus::CompletedWithWarnings => Health::CompletedWithWarnings,
        UserStatus::IncrementalStopped | UserStatus::Stopping | UserStatus::Stopped => Health::Stopped,
        UserStatus::IncrementalFailed | UserStatus::CompletionFailed | UserStatus::Failed | UserStatus::Corrupted => {
            Health::Failed
        }
        UserStatus::Removing => Health::Removing,
        UserStatus::Unknown(s) => Health::Unknown(s.clone()),
    }
}

/// Whether Exchange is moving data for this status: the statuses the stall rule and the poll planner watch.
pub fn is_moving(status: &UserStatus) -> bool {
    matches!(
        status,
        UserStatus::Starting | UserStatus::Syncing | UserStatus::IncrementalSyncing | UserStatus::Completing
    )
}

/// The stall rule: a mailbox Exchange says is moving data whose counters have not moved for the stall setting.
pub fn is_stalled(m: &MailboxView, settings: &MigrateSettings, now: DateTime<Utc>) -> bool {
    is_moving(&m.user.status) && now - m.last_moved >= settings.stall_after()
}

/// A mailbox's health now: its status, or stalled by the stall rule.
pub fn health(m: &MailboxView, settings: &MigrateSettings, now: DateTime<Utc>) -> Health {
    if is_stalled(m, settings, now) { Health::Stalled } else { of_status(&m.user.status) }
}

/// How many mailboxes are in each health, for the header; only healths that occur are present.
pub fn counts(view: &BatchView, settings: &MigrateSettings, now: DateTime<Utc>) -> BTreeMap<Health, usize> {
    let mut counts = BTreeMap::new();
    for m in view.mailboxes.values() {
        *counts.entry(health(m, settings, now)).or_insert(0) += 1;
    }
    counts
}

/// The header's line: "120 mailboxes: 80 synced, 30 syncing, 2 stalled, 1 failed".
pub fn counts_line(counts: &BTreeMap<Health, usize>) -> String {
    let total: usize = counts.values().sum();
    let parts: Vec<String> = counts.iter().map(|(h, n)| format!("{n} {}", h.label())).collect();
    let noun = if total == 1 { "mailbox" } else { "mailboxes" };
    if parts.is_empty() { format!("0 {noun}") } else { format!("{total} {noun}: {}", parts.join(", ")) }
}

/// What is worth waking the engineer for between two views of the batch: a mailbox that failed or stalled since,
/// and the batch reaching synced, completed or failed. One line each.
pub fn worth_waking(
    before: &BatchView,
    after: &BatchView,
    settings: &MigrateSettings,
    now: DateTime<Utc>,
) -> Vec<String> {
    use crate::m365::exo::values::BatchStatus;
    let mut lines = Vec::new();
    let troubled = |v: &BatchView, key: &str| {
        v.mailboxes.get(key).is_some_and(|m| matches!(health(m, settings, now), Health::Failed | Health::Stalled))
    };
    for (key, m) in &after.mailboxes {
        if troubled(after, key) && !troubled(before, key) {
            lines.push(format!("{key} {}", health(m, settings, now).label()));
        }
    }
    let status = |v: &BatchView| v.batch.as_ref().map(|b| b.status.clone());
    let (was, is) = (status(before), status(after));
    if was != is
        && let Some(is) = is
        && matches!(
            is,
            BatchStatus::Synced | BatchStatus::Completed | BatchStatus::CompletedWithErrors | BatchStatus::Failed
        )
    {
        let name = after.batch.as_ref().map_or("the batch", |b| b.identity.as_str());
        lines.push(format!("{name} is {is}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::super::view::tests::{read, t0, user};
    use super::super::view::{BatchView, apply_poll};
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_new_failure_and_the_batch_syncing_are_worth_waking_for_and_nothing_else() {
        let settings = MigrateSettings::default();
        let mut before = BatchView::default();
        apply_poll(
            &mut before,
            read(
                vec![user("a@x.example", UserStatus::Syncing, 5), user("b@x.example", UserStatus::Failed, 0)],
                Vec::new(),
            ),
            t0(),
        );
        let mut after = before.clone();
        let later = t0() + Duration::minutes(1);
        apply_poll(
            &mut after,
            read(
                vec![user("a@x.example", UserStatus::Failed, 5), user("b@x.example", UserStatus::Failed, 0)],
                Vec::new(),
            ),
            later,
        );
        assert_eq!(worth_waking(&before, &after, &settings, later), vec!["a@x.example failed".to_owned()]);
        assert!(worth_waking(&after, &after, &settings, later).is_empty(), "nothing new, no ring");
        let mut synced = after.clone();
        synced.batch = Some(super::super::view::tests::batch(crate::m365::exo::values::BatchStatus::Synced));
        let lines = worth_waking(&after, &synced, &settings, later);
        assert!(lines.iter().any(|l| l.ends_with("is Synced")), "{lines:?}");
    }

    #[test]
    fn every_exchange_status_decodes_and_an_unknown_one_keeps_its_name() {
        let known = [
            ("Queued", Health::Queued),
            ("Validating", Health::Starting),
            ("Syncing", Health::Syncing),
            ("IncrementalSyncing", Health::Syncing),
            ("Synced", Health::Synced),
            ("CompletionSynced", Health::Synced),
            ("CompletedWithWarnings", Health::CompletedWithWarnings),
            ("IncrementalFailed", Health::Failed),
            ("Corrupted", Health::Failed),
            ("Stopped", Health::Stopped),
        ];
        for (name, want) in known {
            assert_eq!(of_status(&UserStatus::parse(name)), want, "{name}");
        }
        let odd = of_status(&UserStatus::parse("Hibernating"));
        assert_eq!(odd, Health::Unknown("Hibernating".into()));
        assert_eq!(odd.label(), "Hibernating");
        assert!(!odd.needs_attention() && !odd.is_migrated());
    }

    #[test]
    fn a_syncing_mailbox_whose_counters_do_not_move_is_stalled_after_the_setting() {
        let settings = MigrateSettings::default();
        let a = "a@contoso.com";
        let mut view = BatchView::default();
        apply_poll(&mut view, read(vec![user(a, UserStatus::Syncing, 10)], vec![]), t0());
        let m = |v: &BatchView| v.mailbox(a).cloned().expect("mailbox");
        assert_eq!(health(&m(&view), &settings, t0() + Duration::minutes(59)), Health::Syncing);
        assert_eq!(health(&m(&view), &settings, t0() + Duration::minutes(60)), Health::Stalled);
        // Counters moving restart the clock.
        apply_poll(&mut view, read(vec![user(a, UserStatus::Syncing, 11)], vec![]), t0() + Duration::minutes(50));
        assert_eq!(health(&m(&view), &settings, t0() + Duration::minutes(100)), Health::Syncing);
        assert_eq!(health(&m(&view), &settings, t0() + Duration::minutes(110)), Health::Stalled);
        // A shorter setting stalls sooner; a synced mailbox never stalls.
        let quick = MigrateSettings { stall_minutes: 10, ..settings };
        assert_eq!(health(&m(&view), &quick, t0() + Duration::minutes(61)), Health::Stalled);
        apply_poll(&mut view, read(vec![user(a, UserStatus::Synced, 11)], vec![]), t0() + Duration::minutes(55));
        assert_eq!(health(&m(&view), &settings, t0() + Duration::days(3)), Health::Synced);
    }

    #[test]
    fn counts_for_the_header() {
        let mut view = BatchView::default();
        let users = vec![
            user("a@x.com", UserStatus::Synced, 1),
            user("b@x.com", UserStatus::Synced, 1),
            user("c@x.com", UserStatus::Failed, 0),
            user("d@x.com", UserStatus::Queued, 0),
        ];
        apply_poll(&mut view, read(users, vec![]), t0());
        let c = counts(&view, &MigrateSettings::default(), t0());
        assert_eq!(counts_line(&c), "4 mailboxes: 1 queued, 2 synced, 1 failed");
    }
}
