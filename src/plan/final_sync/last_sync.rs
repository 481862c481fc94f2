//! Stage 8's check last-sync-after-mx: mail that reached the old server while resolvers still sent it there
//! arrives in Exchange Online only with the next incremental sync, so every mailbox's `LastSuccessfulSyncTime`
//! must be later than the moment the slowest watched resolver switched to the new MX. The mailboxes still
//! waiting are named with when their next incremental sync is due. Pure.

use crate::plan::migrate::view::{BatchView, MailboxView};
use crate::plan::mx::MxRecord;
use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Duration, Utc};

/// How often Exchange Online runs a cutover batch's incremental sync once the initial sync is done.
pub const INCREMENTAL_INTERVAL_HOURS: i64 = 24;

/// One mailbox whose last sync is not yet past the MX switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub address: String,
    /// Exchange's `LastSuccessfulSyncTime`; `None`: never synced.
    pub last_sync: Option<DateTime<Utc>>,
    /// When the next incremental sync is due: the last sync plus the interval; `None` when it never synced.
    pub next_due: Option<DateTime<Utc>>,
    /// Exchange's status of the mailbox, as it names it.
    pub status: String,
}

/// The rule's verdict before it becomes evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastSync {
    /// No MX change is recorded: stage 7 first.
    NoMxChange,
    /// The change is recorded but no resolver was seen answering the new MX yet.
    NotPropagated { changed_at: DateTime<Utc> },
    /// The batch could not be read, or there is none.
    NoBatch(String),
    /// Measured against `after` (the later of the change and the slowest switch). `not_migrated`: failed
    /// before their initial sync ended, so no incremental sync will come (stage 6 explains them).
    Measured { after: DateTime<Utc>, synced: usize, waiting: Vec<Waiting>, not_migrated: Vec<String> },
}

/// The moment after which no sender reaches the old server: the slowest resolver's switch, never before the
/// change itself; on Exchange's clock, as the last syncs it is compared with are.
pub fn cutoff(mx: &MxRecord) -> Option<DateTime<Utc>> {
    let changed = mx.changed_on_service_clock()?;
    Some(mx.slowest_switch_on_service_clock().map_or(changed, |s| s.max(changed)))
}

/// Judges every mailbox of the batch against the MX record; `interval` is the incremental sync's period.
pub fn judge(view: &BatchView, mx: &MxRecord, interval: Duration) -> LastSync {
    let Some(changed_at) = mx.changed_at else { return LastSync::NoMxChange };
    if mx.switched.is_empty() {
        return LastSync::NotPropagated { changed_at };
    }
    let Some(after) = cutoff(mx) else { return LastSync::NoMxChange };
    if let Some(e) = &view.last_error {
        return LastSync::NoBatch(format!("the batch could not be read: {}", e.message));
    }
    if view.batch.is_none() {
        return LastSync::NoBatch("there is no migration batch in Exchange Online".to_owned());
    }
    let mut synced = 0;
    let mut waiting = Vec::new();
    let mut not_migrated = Vec::new();
    for (address, m) in &view.mailboxes {
        let last = m.last_successful_sync();
        if last.is_some_and(|t| t > after) {
            synced += 1;
        } else if last.is_none() && m.user.status.is_failed() {
            not_migrated.push(address.clone());
        } else {
            waiting.push(waiting_mailbox(address, m, last, interval));
        }
    }
    // The one due soonest first, as the engineer will see them arrive; the never synced last.
    waiting.sort_by_key(|w| (w.next_due.is_none(), w.next_due, w.address.clone()));
    LastSync::Measured { after, synced, waiting, not_migrated }
}

fn waiting_mailbox(address: &str, m: &MailboxView, last: Option<DateTime<Utc>>, interval: Duration) -> Waiting {
    Waiting {
        address: address.to_owned(),
        last_sync: last,
        next_due: last.map(|t| t + interval),
        status: m.user.status.name().to_owned(),
    }
}

/// The check's result: Pass only when every mailbox synced after the cutoff. The MX record's times and the
/// last syncs are on Exchange's clock; `now` is ours, put on Exchange's for the syncs due.
pub fn check(view: &BatchView, mx: &MxRecord, interval: Duration, now: DateTime<Utc>) -> CheckResult {
    let (outcome, evidence) = match judge(view, mx, interval) {
        LastSync::NoMxChange => (
            Outcome::Fail,
            "No MX change is recorded: change the MX and record it in stage 7 (MX change) first.".to_owned(),
        ),
        LastSync::NotPropagated { changed_at } => (
            Outcome::Fail,
            format!(
                "The MX change is recorded at {}, but no watched resolver has been seen answering the new MX \
                 yet: let stage 7's DNS propagation watch run until every resolver has switched.",
                stamp(changed_at)
            ),
        ),
        LastSync::NoBatch(why) => (Outcome::Fail, format!("Cannot tell: {why}.")),
        LastSync::Measured { after, synced, waiting, not_migrated } => {
            let mut lines = vec![format!(
                "The slowest resolver switched at {}: mail sent before then may have reached the old server.",
                stamp(after)
            )];
            let outcome = if waiting.is_empty() {
                lines.push(format!("All {synced} migrating mailboxes synced after it: that mail has arrived."));
                if not_migrated.is_empty() { Outcome::Pass } else { Outcome::Warn }
            } else {
                lines.push(format!(
                    "{synced} of {} migrating mailboxes synced after it; waiting for the next incremental sync of:",
                    synced + waiting.len()
                ));
                let service_now = view.service_time(now);
                lines.extend(waiting.iter().map(|w| format!("  {}", waiting_line(w, service_now))));
                Outcome::Fail
            };
            if !not_migrated.is_empty() {
                lines.push(format!(
                    "Failed before their initial sync, so never migrating (stage 6 explains them): {}.",
                    not_migrated.join(", ")
                ));
            }
            (outcome, lines.join("\n"))
        }
    };
    CheckResult::new(outcome, evidence, now)
}

/// The check once the batch is removed, when nothing is left to read: the last measured result stands, said
/// as such; never measured, it fails.
pub fn after_removal(previous: Option<&CheckResult>, now: DateTime<Utc>) -> CheckResult {
    match previous {
        Some(p) if !p.evidence.starts_with(REMOVED) => {
            CheckResult::new(p.outcome, format!("{REMOVED} as last measured ({}):\n{}", stamp(p.at), p.evidence), now)
        }
        Some(p) => CheckResult::new(p.outcome, p.evidence.clone(), now),
        None => CheckResult::new(
            Outcome::Fail,
            "The batch is removed and this check was never measured before: it cannot be told any more.",
            now,
        ),
    }
}

/// How the evidence after the removal starts.
const REMOVED: &str = "The batch is removed;";

/// "a@contoso.com (Synced): last synced 2026-03-01 10:00 UTC, next incremental sync due 2026-03-02 10:00 UTC
/// (in 5 h)".
pub fn waiting_line(w: &Waiting, now: DateTime<Utc>) -> String {
    match (w.last_sync, w.next_due) {
        (Some(last), Some(due)) => {
            let when = if due > now { format!("in {}", hours(due - now)) } else { "overdue".to_owned() };
            format!(
                "{} ({}): last synced {}, next incremental sync due {} ({when})",
                w.address,
                w.status,
                stamp(last),
                stamp(due)
            )
        }
        _ => format!("{} ({}): never synced; it needs its initial sync first (stage 5)", w.address, w.status),
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn hours(d: Duration) -> String {
    let minutes = d.num_minutes().max(1);
    if minutes >= 60 { format!("{} h {} min", minutes / 60, minutes % 60) } else { format!("{minutes} min") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::m365::exo::values::{BatchStatus, UserStatus};
    use crate::plan::migrate::view::apply_poll;
    use crate::plan::migrate::view::tests::{batch, read, user};

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid") + Duration::hours(h)
    }

    fn view(lasts: &[(&str, Option<i64>)]) -> BatchView {
        let users = lasts
            .iter()
            .map(|(a, h)| {
                let mut u = user(a, UserStatus::Synced, 100);
                u.last_successful_sync = h.map(t);
                u
            })
            .collect();
        let mut v = BatchView::default();
        let mut poll = read(users, vec![]);
        if let crate::plan::migrate::view::PollResult::Read(f) = &mut poll {
            f.batch = Some(batch(BatchStatus::Synced));
        }
        apply_poll(&mut v, poll, t(0));
        v
    }

    fn mx(changed: Option<i64>, switches: &[i64]) -> MxRecord {
        MxRecord {
            changed_at: changed.map(t),
            switched: switches.iter().enumerate().map(|(i, h)| (format!("r{i}"), t(*h))).collect(),
            ..MxRecord::default()
        }
    }

    fn interval() -> Duration {
        Duration::hours(INCREMENTAL_INTERVAL_HOURS)
    }

    #[test]
    fn without_an_mx_change_the_check_says_stage_7_first() {
        let r = check(&view(&[("a@x.com", Some(5))]), &mx(None, &[]), interval(), t(6));
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("stage 7"), "{}", r.evidence);
        let r = check(&view(&[("a@x.com", Some(5))]), &mx(Some(1), &[]), interval(), t(6));
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("no watched resolver"), "{}", r.evidence);
    }

    #[test]
    fn a_sync_after_the_change_but_before_the_slowest_switch_is_not_enough() {
        // Changed at 1, resolvers switched at 1 and 3; a synced at 2 (before the slow one), b at 4.
        let v = view(&[("a@x.com", Some(2)), ("b@x.com", Some(4)), ("c@x.com", None)]);
        let r = check(&v, &mx(Some(1), &[1, 3]), interval(), t(5));
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("1 of 3 migrating mailboxes"), "{}", r.evidence);
        assert!(r.evidence.contains("a@x.com (Synced): last synced"), "{}", r.evidence);
        assert!(r.evidence.contains("in 21 h 0 min"), "due at 26, now 5: {}", r.evidence);
        assert!(r.evidence.contains("c@x.com (Synced): never synced"), "{}", r.evidence);
        assert!(!r.evidence.contains("b@x.com"), "{}", r.evidence);
        let LastSync::Measured { after, waiting, .. } = judge(&v, &mx(Some(1), &[1, 3]), interval()) else {
            panic!("measured")
        };
        assert_eq!(after, t(3));
        assert_eq!(waiting[0].next_due, Some(t(26)));
    }

    #[test]
    fn every_mailbox_synced_after_the_slowest_switch_passes() {
        let v = view(&[("a@x.com", Some(27)), ("b@x.com", Some(4))]);
        let r = check(&v, &mx(Some(1), &[1, 3]), interval(), t(28));
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.evidence);
        // A sync at exactly the switch is not later than it.
        let r = check(&view(&[("a@x.com", Some(3))]), &mx(Some(1), &[3]), interval(), t(28));
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("overdue"), "{}", r.evidence);
    }

    #[test]
    fn a_switch_recorded_before_the_change_does_not_move_the_cutoff_back() {
        assert_eq!(cutoff(&mx(Some(5), &[2])), Some(t(5)));
        assert_eq!(cutoff(&mx(None, &[2])), None);
    }

    #[test]
    fn a_mailbox_that_failed_its_initial_sync_warns_rather_than_waits_for_ever() {
        let mut v = view(&[("a@x.com", Some(5))]);
        let mut failed = user("f@x.com", UserStatus::Failed, 0);
        failed.last_successful_sync = None;
        let mut poll = read(vec![v.mailboxes["a@x.com"].user.clone(), failed], vec![]);
        if let crate::plan::migrate::view::PollResult::Read(f) = &mut poll {
            f.batch = Some(batch(BatchStatus::SyncedWithErrors));
        }
        apply_poll(&mut v, poll, t(0));
        let r = check(&v, &mx(Some(1), &[2]), interval(), t(6));
        assert_eq!(r.outcome, Outcome::Warn, "{}", r.evidence);
        assert!(r.evidence.contains("never migrating (stage 6 explains them): f@x.com"), "{}", r.evidence);
    }

    #[test]
    fn after_the_removal_the_last_measure_stands_and_says_so() {
        let measured = CheckResult::new(Outcome::Pass, "All 3 migrating mailboxes synced after it.", t(1));
        let kept = after_removal(Some(&measured), t(5));
        assert_eq!(kept.outcome, Outcome::Pass);
        assert!(kept.evidence.starts_with("The batch is removed; as last measured"), "{}", kept.evidence);
        assert_eq!(after_removal(Some(&kept), t(6)).evidence, kept.evidence, "not wrapped twice");
        assert_eq!(after_removal(None, t(5)).outcome, Outcome::Fail);
    }

    #[test]
    fn no_batch_is_no_pass() {
        let r = check(&BatchView::default(), &mx(Some(1), &[2]), interval(), t(3));
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("no migration batch"), "{}", r.evidence);
    }

    #[test]
    fn the_cutoff_is_on_exchanges_clock() {
        let t = |h: i64| DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).expect("valid");
        let mut mx = MxRecord { changed_at: Some(t(0)), ..MxRecord::default() };
        mx.switched.insert("fast".into(), t(1));
        mx.switched.insert("slow".into(), t(2));
        assert_eq!(cutoff(&mx), Some(t(2)), "no clock read: ours");
        // Exchange's clock 10 hours ahead when the slow resolver's switch was recorded (the simulator at speed).
        mx.switch_ahead_ms = Some(10 * 3_600_000);
        mx.change_ahead_ms = Some(3_600_000);
        assert_eq!(cutoff(&mx), Some(t(12)));
        mx.switched.clear();
        assert_eq!(cutoff(&mx), Some(t(1)), "no switch yet: the change, on Exchange's clock");
    }
}
