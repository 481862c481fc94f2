//! The live model of the batch watch: what one watch knows of the cutover batch and its mailboxes, as kept in
//! `live/batch.json`, and [`apply_poll`], which merges one poll cycle's facts into it. Pure.

use crate::m365::exo::types::{MigrationBatch, MigrationUser, MigrationUserStatistics};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// How far back the history of samples reaches: throughput and the sparkline are over the last hour.
pub const HISTORY_WINDOW_MINUTES: i64 = 60;
/// A hard cap on the samples kept, whatever the poll interval: a poll every 10 s for an hour is 360.
pub const MAX_SAMPLES: usize = 400;

/// What one batch watch knows: the last good poll's facts, per mailbox the latest facts read, and the history
/// that throughput is computed from. A failed poll keeps all of it and records the error, so the screen can show
/// the last good view with its age.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchView {
    /// When the last good poll was read.
    pub polled_at: Option<DateTime<Utc>>,
    /// `Get-MigrationBatch` at the last good poll; `None` while no batch exists.
    pub batch: Option<MigrationBatch>,
    /// One per migration user, keyed by [`mailbox_key`] (the lower-case address).
    pub mailboxes: BTreeMap<String, MailboxView>,
    /// Oldest first; a sample per good poll over about the last hour.
    pub history: VecDeque<Sample>,
    /// The last poll's error, cleared by the next good poll.
    pub last_error: Option<PollError>,
    /// How far Exchange's clock was ahead of ours at the last good poll, in milliseconds: its timestamps (the
    /// batch's start, each last sync) are on its clock. Near 0 with a real tenant; hours in the simulator.
    pub service_ahead_ms: Option<i64>,
    /// When a poll first found the batch gone from Exchange Online; the mailboxes are then as last read.
    pub gone_at: Option<DateTime<Utc>>,
}

/// What the watch knows of one mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxView {
    /// `Get-MigrationUser`, read every cycle.
    pub user: MigrationUser,
    pub user_read_at: DateTime<Utc>,
    /// `Get-MigrationUserStatistics`, read only when [`super::poll::which_statistics`] asked for it; the older
    /// read is kept between.
    pub statistics: Option<MigrationUserStatistics>,
    pub statistics_read_at: Option<DateTime<Utc>>,
    /// When the watch first saw this mailbox.
    pub first_seen: DateTime<Utc>,
    /// When its counters (items, bytes, status) last moved: the stall rule's clock.
    pub last_moved: DateTime<Utc>,
    /// When the watch first saw its initial sync done, for the report's durations.
    pub synced_at: Option<DateTime<Utc>>,
}

/// The whole batch's counters at one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// On Exchange's clock ([`BatchView::service_time`] of the poll).
    pub at: DateTime<Utc>,
    /// Sum of `BytesTransferred` over the mailboxes whose statistics were read (at any cycle).
    pub bytes: u64,
    /// Sum of synced items over every mailbox.
    pub items: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollError {
    pub at: DateTime<Utc>,
    /// As the client said it; shown verbatim.
    pub message: String,
}

/// What one poll cycle read: the batch, every migration user of it (`ResultSize=Unlimited`), and the statistics
/// of the mailboxes asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollFacts {
    pub batch: Option<MigrationBatch>,
    pub users: Vec<MigrationUser>,
    pub statistics: Vec<MigrationUserStatistics>,
    /// How far the service's clock was ahead of ours, in milliseconds, when known.
    pub service_ahead_ms: Option<i64>,
}

/// The outcome of one poll cycle, as the runner hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollResult {
    /// Boxed: the facts are large and a failed cycle's text is small.
    Read(Box<PollFacts>),
    /// The cycle could not read the batch: the client's error text.
    Failed(String),
    /// The batch the view had is no longer in Exchange Online (stage 8 removed it): the view stays its last.
    Gone,
}

/// The key a migration user is known by: its mailbox address, else its identity, lower-case (as the inventory's
/// [`crate::inventory::Mailbox::key`]).
pub fn mailbox_key(user: &MigrationUser) -> String {
    user.email.as_deref().unwrap_or(&user.identity).trim().to_lowercase()
}

impl MailboxView {
    /// The items that arrived: the higher of the user's counter (read every cycle) and the statistics' (read
    /// less often, so possibly older); counters only grow during a sync.
    pub fn synced_items(&self) -> u64 {
        let stats = self.statistics.as_ref().map(|s| s.synced_items);
        stats.max(self.user.synced_items).unwrap_or(0)
    }

    pub fn skipped_items(&self) -> u64 {
        let stats = self.statistics.as_ref().map(|s| s.skipped_items);
        stats.max(self.user.skipped_items).unwrap_or(0)
    }

    pub fn bytes_transferred(&self) -> Option<u64> {
        self.statistics.as_ref()?.bytes_transferred?.bytes()
    }

    pub fn estimated_total(&self) -> Option<u64> {
        self.statistics.as_ref()?.estimated_total?.bytes()
    }

    /// Exchange's error for this mailbox: the statistics' (fuller) when read, else the user's summary.
    pub fn error(&self) -> Option<&str> {
        self.statistics.as_ref().and_then(|s| s.error.as_deref()).or(self.user.error.as_deref())
    }

    /// The latest sync Exchange reports for this mailbox.
    pub fn last_successful_sync(&self) -> Option<DateTime<Utc>> {
        self.statistics.as_ref().and_then(|s| s.last_successful_sync).or(self.user.last_successful_sync)
    }

    /// What the stall rule watches: a change in any of these is movement.
    fn counters(&self) -> (String, u64, u64, Option<u64>) {
        (self.user.status.name().to_owned(), self.synced_items(), self.skipped_items(), self.bytes_transferred())
    }
}

impl BatchView {
    /// `now` (our clock) on Exchange's clock, to compare with its timestamps.
    pub fn service_time(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::milliseconds(self.service_ahead_ms.unwrap_or(0))
    }

    /// How old the view is: since the last good poll.
    pub fn age(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.polled_at.map(|at| now - at)
    }

    pub fn mailbox(&self, address: &str) -> Option<&MailboxView> {
        self.mailboxes.get(&address.trim().to_lowercase())
    }
}

/// Merges one cycle into the view. A good cycle replaces the batch and the users (a user no longer listed has
/// left the batch and is dropped), sets the statistics that were read and keeps the older ones of the users not
/// re-read, moves each mailbox's stall clock when its counters changed, and adds a sample to the history. A
/// failed cycle only records its error: the last good view stays, with its age.
pub fn apply_poll(view: &mut BatchView, poll: PollResult, now: DateTime<Utc>) {
    let facts = match poll {
        PollResult::Failed(message) => {
            view.last_error = Some(PollError { at: now, message });
            return;
        }
        PollResult::Gone => {
            view.gone_at.get_or_insert(now);
            view.last_error = None;
            return;
        }
        PollResult::Read(facts) => *facts,
    };
    // The counters each mailbox had before this cycle: what the stall clock compares against.
    let previous: HashMap<String, _> = view.mailboxes.iter().map(|(k, m)| (k.clone(), m.counters())).collect();
    let mut old = std::mem::take(&mut view.mailboxes);
    // Statistics name the mailbox by identity or address; both lead to the key.
    let mut alias: HashMap<String, String> = HashMap::new();
    for user in facts.users {
        let key = mailbox_key(&user);
        alias.insert(user.identity.trim().to_lowercase(), key.clone());
        let mailbox = match old.remove(&key) {
            Some(mut m) => {
                m.user = user;
                m.user_read_at = now;
                m
            }
            None => MailboxView {
                user,
                user_read_at: now,
                statistics: None,
                statistics_read_at: None,
                first_seen: now,
                last_moved: now,
                synced_at: None,
            },
        };
        view.mailboxes.insert(key, mailbox);
    }
    for stats in facts.statistics {
        let id = stats.identity.trim().to_lowercase();
        let key = alias.get(&id).cloned().unwrap_or(id);
        if let Some(m) = view.mailboxes.get_mut(&key) {
            m.statistics = Some(stats);
            m.statistics_read_at = Some(now);
        }
    }
    for (key, m) in view.mailboxes.iter_mut() {
        if previous.get(key).is_some_and(|c| *c != m.counters()) {
            m.last_moved = now;
        }
        if m.synced_at.is_none() && m.user.status.is_synced() {
            m.synced_at = Some(now);
        }
    }
    view.batch = facts.batch;
    view.service_ahead_ms = facts.service_ahead_ms.or(view.service_ahead_ms);
    view.polled_at = Some(now);
    view.last_error = None;
    // On Exchange's clock, as the statistics are: rates stay true when this machine's clock and Exchange's differ,
    // or when a demo moves the simulated one on.
    let sample = Sample {
        at: view.service_time(now),
        bytes: view.mailboxes.values().filter_map(MailboxView::bytes_transferred).fold(0, u64::saturating_add),
        items: view.mailboxes.values().map(MailboxView::synced_items).fold(0, u64::saturating_add),
    };
    push_sample(&mut view.history, sample);
}

/// Adds a sample, keeping one sample older than the window (the baseline the rate over the hour starts from)
/// and at most [`MAX_SAMPLES`].
fn push_sample(history: &mut VecDeque<Sample>, sample: Sample) {
    // A clock that went back would make rates negative: a sample at or before the last one replaces nothing,
    // unless it is well before it (a service restarted, a saved view from another clock), which starts anew
    // rather than freeze the rate until the clock catches up.
    if let Some(last) = history.back() {
        if last.at - sample.at > Duration::minutes(1) {
            history.clear();
        } else if last.at >= sample.at {
            return;
        }
    }
    history.push_back(sample);
    let cutoff = sample.at - Duration::minutes(HISTORY_WINDOW_MINUTES);
    while history.len() > 1 && history.get(1).is_some_and(|s| s.at <= cutoff) {
        history.pop_front();
    }
    while history.len() > MAX_SAMPLES {
        history.pop_front();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::m365::exo::values::{ExSize, UserStatus};

    pub fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid timestamp")
    }

    pub fn user(address: &str, status: UserStatus, synced: u64) -> MigrationUser {
        MigrationUser {
            identity: address.to_owned(),
            email: Some(address.to_owned()),
            batch: Some("CutoverBatch".into()),
            status,
            synced_items: Some(synced),
            skipped_items: Some(0),
            last_successful_sync: None,
            error: None,
        }
    }

    pub fn stats(address: &str, status: UserStatus, synced: u64, bytes: u64, total: u64) -> MigrationUserStatistics {
        MigrationUserStatistics {
            identity: address.to_owned(),
            status,
            synced_items: synced,
            skipped_items: 0,
            total_items_in_source: Some(synced),
            bytes_transferred: Some(ExSize::Bytes(bytes)),
            estimated_total: Some(ExSize::Bytes(total)),
            percentage_complete: None,
            last_successful_sync: None,
            error: None,
            skipped_item_details: None,
            skipped_items_approved: None,
        }
    }

    pub fn batch(status: crate::m365::exo::values::BatchStatus) -> MigrationBatch {
        MigrationBatch {
            identity: "CutoverBatch".into(),
            status,
            migration_type: Some("ExchangeOutlookAnywhere".into()),
            total_count: 0,
            active_count: 0,
            stopped_count: 0,
            synced_count: 0,
            finalized_count: 0,
            failed_count: 0,
            failed_initial_sync_count: 0,
            failed_incremental_sync_count: 0,
            pending_count: 0,
            provisioned_count: 0,
            creation: None,
            start: Some(t0()),
            last_synced: None,
        }
    }

    pub fn read(users: Vec<MigrationUser>, statistics: Vec<MigrationUserStatistics>) -> PollResult {
        PollResult::Read(Box::new(PollFacts { batch: None, users, statistics, service_ahead_ms: None }))
    }

    #[test]
    fn a_batch_gone_keeps_its_last_view() {
        let mut view = BatchView::default();
        apply_poll(&mut view, read(vec![user("a@x.com", UserStatus::Completed, 10)], vec![]), t0());
        let later = t0() + Duration::minutes(5);
        apply_poll(&mut view, PollResult::Gone, later);
        apply_poll(&mut view, PollResult::Gone, later + Duration::minutes(5));
        assert_eq!(view.gone_at, Some(later), "when it was first found gone");
        assert_eq!(view.mailboxes.len(), 1, "the mailboxes as last read");
        assert_eq!(view.polled_at, Some(t0()));
    }

    #[test]
    fn statistics_not_re_read_are_kept_and_a_failed_poll_keeps_the_view() {
        let mut view = BatchView::default();
        let a = "Pilar@Contoso.com";
        apply_poll(
            &mut view,
            read(vec![user(a, UserStatus::Syncing, 10)], vec![stats(a, UserStatus::Syncing, 10, 100, 1000)]),
            t0(),
        );
        let later = t0() + Duration::seconds(30);
        apply_poll(&mut view, read(vec![user(a, UserStatus::Syncing, 10)], vec![]), later);
        let m = view.mailbox("pilar@contoso.com").expect("keyed lower-case");
        assert_eq!(m.bytes_transferred(), Some(100), "the older statistics stay");
        assert_eq!(m.statistics_read_at, Some(t0()));
        assert_eq!(m.user_read_at, later);
        assert_eq!(m.last_moved, t0(), "nothing moved");
        apply_poll(&mut view, PollResult::Failed("HTTP 503".into()), later + Duration::seconds(30));
        assert_eq!(view.polled_at, Some(later), "the last good view and its age stay");
        assert_eq!(view.last_error.as_ref().map(|e| e.message.as_str()), Some("HTTP 503"));
        assert_eq!(view.mailboxes.len(), 1);
        apply_poll(&mut view, read(vec![user(a, UserStatus::Syncing, 20)], vec![]), later + Duration::seconds(60));
        assert_eq!(view.last_error, None, "a good poll clears the error");
        assert_eq!(view.mailbox(a).map(|m| m.last_moved), Some(later + Duration::seconds(60)));
    }

    #[test]
    fn a_sample_well_before_the_last_starts_the_history_anew_and_one_a_little_before_is_dropped() {
        let mut history = VecDeque::new();
        push_sample(&mut history, Sample { at: t0(), bytes: 10, items: 1 });
        push_sample(&mut history, Sample { at: t0() - Duration::seconds(2), bytes: 11, items: 1 });
        assert_eq!(history.len(), 1, "a second's jitter back is dropped");
        push_sample(&mut history, Sample { at: t0() - Duration::hours(6), bytes: 12, items: 1 });
        assert_eq!(history.iter().map(|s| s.bytes).collect::<Vec<_>>(), [12], "a clock six hours back starts anew");
    }

    #[test]
    fn the_view_round_trips_through_json_and_the_history_is_bounded() {
        let mut view = BatchView::default();
        let a = "a@contoso.com";
        for i in 0..500 {
            let s = stats(a, UserStatus::Syncing, i, i * 1000, 1_000_000);
            apply_poll(
                &mut view,
                read(vec![user(a, UserStatus::Syncing, i)], vec![s]),
                t0() + Duration::seconds(10 * i as i64),
            );
        }
        assert!(view.history.len() <= MAX_SAMPLES);
        let first = view.history.front().expect("samples").at;
        let last = view.history.back().expect("samples").at;
        assert!(last - first <= Duration::minutes(HISTORY_WINDOW_MINUTES) + Duration::seconds(10), "{first} {last}");
        let json = serde_json::to_string(&view).expect("serialize");
        let back: BatchView = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, view);
    }

    #[test]
    fn a_user_no_longer_in_the_batch_is_dropped() {
        let mut view = BatchView::default();
        apply_poll(
            &mut view,
            read(vec![user("a@x.com", UserStatus::Queued, 0), user("b@x.com", UserStatus::Queued, 0)], vec![]),
            t0(),
        );
        apply_poll(&mut view, read(vec![user("a@x.com", UserStatus::Queued, 0)], vec![]), t0() + Duration::seconds(30));
        assert_eq!(view.mailboxes.keys().collect::<Vec<_>>(), ["a@x.com"]);
    }
}
