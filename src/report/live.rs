//! The batch as `cutover status` shows it: the watch's last view (`live/batch.json`) with each mailbox's health,
//! counters and, for one that needs the engineer, the cause and fix from the failure catalogue; and stage 7's
//! resolver table (`live/dns.json`) with the MX change's times. Pure.

use crate::m365::exo::types::MigrationBatch;
use crate::m365::exo::values::UserStatus;
use crate::plan::final_sync::completion::Completion;
use crate::plan::migrate::MigrateSettings;
use crate::plan::migrate::health::{Health, counts, counts_line, health};
use crate::plan::migrate::view::{BatchView, PollError};
use crate::plan::mx::MxRecord;
use crate::plan::mx::propagation::DnsView;
use crate::plan::verify::catalogue::{Cause, explain};
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

/// The batch as last polled; its mailboxes are [`mailboxes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveBatch {
    /// `Get-MigrationBatch` at the last good poll, its state and counters in line; absent while no batch was seen.
    #[serde(flatten)]
    pub batch: Option<MigrationBatch>,
    /// When the view was read: its age.
    pub polled_at: Option<DateTime<Utc>>,
    pub age_secs: Option<i64>,
    /// The last poll's error, if the last poll failed.
    pub last_error: Option<PollError>,
    /// Where the batch's completion stands (stage 8), from the same poll; absent before any good poll.
    pub completion: Option<Completion>,
}

/// One mailbox of the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailboxStatus {
    pub address: String,
    /// The plan's health, by its label ("synced", "stalled").
    #[serde(serialize_with = "health_label")]
    pub status: Health,
    /// Exchange's status, as Exchange names it.
    #[serde(serialize_with = "status_name")]
    pub exchange_status: UserStatus,
    pub synced_items: u64,
    pub skipped_items: u64,
    /// Exchange's `TotalItemsInSourceMailboxCount`.
    pub source_items: Option<u64>,
    pub bytes_transferred: Option<u64>,
    pub bytes_estimated: Option<u64>,
    /// Exchange's `PercentageComplete`, else the bytes moved of the estimate.
    pub percent: Option<u64>,
    pub last_successful_sync: Option<DateTime<Utc>>,
    /// Exchange's error, verbatim.
    pub error: Option<String>,
    pub cause: Option<Cause>,
    pub cause_title: Option<&'static str>,
    pub fix: Option<&'static str>,
}

fn health_label<S: Serializer>(h: &Health, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(h.label())
}

fn status_name<S: Serializer>(u: &UserStatus, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(u.name())
}

impl LiveBatch {
    pub fn build(view: &BatchView, now: DateTime<Utc>) -> LiveBatch {
        LiveBatch {
            batch: view.batch.clone(),
            polled_at: view.polled_at,
            age_secs: view.age(now).map(|d| d.num_seconds()),
            last_error: view.last_error.clone(),
            completion: view.polled_at.map(|_| Completion::of(view.batch.as_ref())),
        }
    }
}

/// Every mailbox of the view, by address.
pub fn mailboxes(view: &BatchView, settings: &MigrateSettings, now: DateTime<Utc>) -> Vec<MailboxStatus> {
    view.mailboxes
        .iter()
        .map(|(key, m)| {
            let stats = m.statistics.as_ref();
            let (moved, estimate) = (m.bytes_transferred(), m.estimated_total());
            let by_bytes = match (moved, estimate) {
                (Some(done), Some(total)) if total > 0 => Some((done.saturating_mul(100) / total).min(100)),
                _ => None,
            };
            let explained = explain(m, settings, now);
            let cause = explained.as_ref().map(|e| e.cause);
            MailboxStatus {
                address: key.clone(),
                status: health(m, settings, now),
                exchange_status: m.user.status.clone(),
                synced_items: m.synced_items(),
                skipped_items: m.skipped_items(),
                source_items: stats.and_then(|s| s.total_items_in_source),
                bytes_transferred: moved,
                bytes_estimated: estimate,
                percent: stats.and_then(|s| s.percentage_complete).or(by_bytes),
                last_successful_sync: m.last_successful_sync(),
                error: m.error().map(str::to_owned),
                cause,
                cause_title: cause.map(Cause::title),
                fix: cause.map(Cause::fix),
            }
        })
        .collect()
}

/// The batch in one line: "Batch cutover-acme: Syncing; 10 mailboxes: 8 synced, 2 syncing; polled 3 min ago".
pub fn summary_line(view: &BatchView, settings: &MigrateSettings, now: DateTime<Utc>) -> String {
    let Some(polled) = view.polled_at else {
        return match &view.last_error {
            Some(e) => format!("Batch: not read yet; the last poll failed: {}", e.message),
            None => "Batch: not read yet".to_owned(),
        };
    };
    let batch = match &view.batch {
        Some(b) => format!("Batch {}: {}", b.identity, b.status),
        None => "Batch: none in Exchange Online".to_owned(),
    };
    let mins = (now - polled).num_minutes().max(0);
    let mut line = format!("{batch}; {}; polled {mins} min ago", counts_line(&counts(view, settings, now)));
    if let Some(e) = &view.last_error {
        line.push_str(&format!("; the last poll failed: {}", e.message));
    }
    line
}

/// Stage 7's DNS propagation as `cutover status --json` carries it: when the change was made, when each resolver
/// switched, and the resolver × record table as the watch last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveDns {
    pub changed_at: Option<DateTime<Utc>>,
    pub polled_at: Option<DateTime<Utc>>,
    pub age_secs: Option<i64>,
    /// When each resolver was first seen answering the new MX (`state.json`'s `mx.switched`).
    pub switched: std::collections::BTreeMap<String, DateTime<Utc>>,
    pub slowest_switch: Option<DateTime<Utc>>,
    pub all_new: bool,
    pub resolvers: Vec<crate::plan::mx::propagation::Row>,
}

impl LiveDns {
    pub fn build(view: &DnsView, mx: &MxRecord, now: DateTime<Utc>) -> LiveDns {
        LiveDns {
            changed_at: mx.changed_at,
            polled_at: view.polled_at,
            age_secs: view.polled_at.map(|t| (now - t).num_seconds()),
            switched: mx.switched.clone(),
            slowest_switch: mx.slowest_switch(),
            all_new: view.all_new(),
            resolvers: view.rows.clone(),
        }
    }
}

/// The DNS watch in one line: "DNS: 7 of 12 records new on 4 resolvers (polled 30 s ago)".
pub fn dns_line(view: &DnsView, now: DateTime<Utc>) -> String {
    let (new, all) = view.counts();
    let resolvers: std::collections::BTreeSet<&str> = view.rows.iter().map(|r| r.resolver.as_str()).collect();
    let age = view.polled_at.map_or_else(String::new, |t| format!(" (polled {} s ago)", (now - t).num_seconds()));
    format!("DNS: {new} of {all} records new on {} resolvers{age}", resolvers.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::m365::exo::values::BatchStatus;
    use crate::plan::migrate::view::tests::{batch, stats, t0, user};
    use crate::plan::migrate::view::{PollFacts, PollResult, apply_poll};
    use chrono::Duration;

    #[test]
    fn each_mailbox_with_its_counters_and_a_failed_one_with_cause_and_fix() {
        let (a, f) = ("a@x.com", "f@x.com");
        let mut failed = user(f, UserStatus::Failed, 0);
        failed.error = Some("The user doesn't have a valid Exchange Online license.".into());
        let facts = PollFacts {
            batch: Some(batch(BatchStatus::SyncedWithErrors)),
            users: vec![user(a, UserStatus::Syncing, 10), failed],
            statistics: vec![stats(a, UserStatus::Syncing, 10, 250, 1000)],
            service_ahead_ms: None,
        };
        let mut view = BatchView::default();
        apply_poll(&mut view, PollResult::Read(Box::new(facts)), t0());
        let now = t0() + Duration::minutes(3);
        let batch = serde_json::to_value(LiveBatch::build(&view, now)).expect("json");
        assert_eq!((batch["status"].as_str(), batch["age_secs"].as_i64()), (Some("SyncedWithErrors"), Some(180)));
        assert_eq!(batch["completion"], serde_json::json!({ "state": "ready", "status": "SyncedWithErrors" }));
        let json = serde_json::json!({ "mailboxes": mailboxes(&view, &MigrateSettings::default(), now) });
        assert_eq!(json["mailboxes"][0]["address"], a);
        assert_eq!(json["mailboxes"][0]["status"], "syncing");
        assert_eq!(json["mailboxes"][0]["exchange_status"], "Syncing");
        assert_eq!(json["mailboxes"][0]["percent"], 25, "from the bytes when Exchange gave no percentage");
        assert_eq!(json["mailboxes"][0]["cause"], serde_json::Value::Null);
        assert_eq!(json["mailboxes"][1]["status"], "failed");
        assert_eq!(json["mailboxes"][1]["cause"], "MissingLicence");
        assert!(json["mailboxes"][1]["fix"].as_str().is_some_and(|f| !f.is_empty()), "{json}");
        let line = summary_line(&view, &MigrateSettings::default(), now);
        assert_eq!(line, "Batch CutoverBatch: SyncedWithErrors; 2 mailboxes: 1 syncing, 1 failed; polled 3 min ago");
        apply_poll(&mut view, PollResult::Failed("HTTP 503".into()), now);
        assert!(summary_line(&view, &MigrateSettings::default(), now).ends_with("the last poll failed: HTTP 503"));
        assert_eq!(summary_line(&BatchView::default(), &MigrateSettings::default(), now), "Batch: not read yet");
    }
}
