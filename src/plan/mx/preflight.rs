//! The pre-flight before the MX change, shown with the records: the batch has finished its initial sync, every
//! mailbox is synced or explained (stage 6 done), and the MX TTL was lowered at least one old TTL ago, so no
//! resolver still holds the old MX with hours to run when the change is made. Pure.

use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A TTL low enough for the change: stage 4's target, so its MX TTL check and this pre-flight agree.
pub const LOW_TTL: u32 = crate::plan::prepare::MX_TTL_TARGET;

/// The MX TTL at one look (the show-records task reads it from the authoritative servers each time): kept only
/// when it differs from the look before, so `at` is when this TTL was first seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtlSeen {
    pub at: DateTime<Utc>,
    pub ttl: u32,
}

/// Adds a look to the history, unless the TTL is the one seen last.
pub fn note_ttl(history: &mut Vec<TtlSeen>, at: DateTime<Utc>, ttl: u32) {
    if history.last().is_none_or(|last| last.ttl != ttl) {
        history.push(TtlSeen { at, ttl });
    }
}

/// What the history tells of the lowering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlLowered {
    /// No look at the MX TTL yet.
    NeverSeen,
    /// Seen lowered: first seen at `to` at `at`, after `from` before.
    Lowered { at: DateTime<Utc>, from: u32, to: u32 },
    /// Only ever seen at `ttl`, which is low: when it was lowered (and from what) is not known.
    LowSinceUnknown { ttl: u32, since: DateTime<Utc> },
    /// Still high.
    NotLowered { ttl: u32 },
}

pub fn ttl_lowered(history: &[TtlSeen]) -> TtlLowered {
    let Some(last) = history.last() else { return TtlLowered::NeverSeen };
    if last.ttl > LOW_TTL {
        return TtlLowered::NotLowered { ttl: last.ttl };
    }
    // The last step down to a low TTL; the first look at it is the latest it can have happened.
    let lowered = history.windows(2).rev().find(|w| w[1].ttl < w[0].ttl && w[1].ttl <= LOW_TTL);
    match lowered {
        Some(w) if history.iter().skip_while(|s| s.at < w[1].at).all(|s| s.ttl <= LOW_TTL) => {
            TtlLowered::Lowered { at: w[1].at, from: w[0].ttl, to: w[1].ttl }
        }
        _ => TtlLowered::LowSinceUnknown { ttl: last.ttl, since: history[0].at },
    }
}

/// The TTL part of the pre-flight: its outcome and a line saying why.
pub fn ttl_rule(history: &[TtlSeen], now: DateTime<Utc>) -> (Outcome, String) {
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    match ttl_lowered(history) {
        TtlLowered::NeverSeen => (
            Outcome::Fail,
            "MX TTL: not known yet; run Show the DNS records to set, which reads it from the domain's DNS servers."
                .to_owned(),
        ),
        TtlLowered::NotLowered { ttl } => (
            Outcome::Fail,
            format!(
                "MX TTL: {ttl} s, not lowered: lower it to {LOW_TTL} s or less (300 s is usual) at the DNS host, then \
                 wait {ttl} s (the old TTL) before the change, and show the records again so the lowering is seen."
            ),
        ),
        TtlLowered::Lowered { at: when, from, to } => {
            let ready = when + chrono::Duration::seconds(i64::from(from));
            if now >= ready {
                (
                    Outcome::Pass,
                    format!("MX TTL: lowered to {to} s at {} from {from} s, one old TTL ago or more.", at(when)),
                )
            } else {
                let left = (ready - now).num_minutes().max(1);
                (
                    Outcome::Fail,
                    format!(
                        "MX TTL: lowered to {to} s at {} from {from} s: resolvers may hold the old MX until {} \
                         ({left} min more).",
                        at(when),
                        at(ready)
                    ),
                )
            }
        }
        TtlLowered::LowSinceUnknown { ttl, since } => (
            Outcome::Warn,
            format!(
                "MX TTL: {ttl} s since {} at least; when it was lowered, and from what, is unknown (it was never seen \
                 higher). If it was lowered less than the old TTL ago, wait before the change.",
                at(since)
            ),
        ),
    }
}

/// Where the batch stands for the pre-flight, as the runner read it from stage 5's live view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitialSync {
    /// The batch is past its initial sync (Synced, SyncedWithErrors or later).
    Finished { status: String },
    /// Still syncing, or not started: the text says where it is.
    NotYet(String),
    /// No view of the batch (the watch never ran).
    Unknown,
    /// The tenant was asked and has no batch of this name.
    NoBatch { name: String },
}

/// The pre-flight's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightFacts {
    pub initial_sync: InitialSync,
    /// Whether stage 6 (verify) is done: every mailbox synced or its failure explained, or overridden.
    pub verified: bool,
    pub ttl: Vec<TtlSeen>,
}

/// The pre-flight check: Pass when all three hold, Warn when only the TTL's lowering time is unknown, else Fail
/// naming what is missing. Going on without it takes an override with a written reason.
pub fn preflight_check(facts: &PreflightFacts, now: DateTime<Utc>) -> CheckResult {
    let mut outcome = Outcome::Pass;
    let mut lines = Vec::new();
    match &facts.initial_sync {
        InitialSync::Finished { status } => lines.push(format!("Batch: {status}, initial sync finished.")),
        InitialSync::NotYet(where_) => {
            outcome = Outcome::Fail;
            lines.push(format!("Batch: {where_}; wait for the initial sync to finish (stage 5)."));
        }
        InitialSync::Unknown => {
            outcome = Outcome::Fail;
            lines.push("Batch: no view of it yet; start its watch in stage 5 (or `cutover watch`).".to_owned());
        }
        InitialSync::NoBatch { name } => {
            outcome = Outcome::Fail;
            lines.push(format!("Batch: Exchange Online has no batch {name}; create and start it in stage 5."));
        }
    }
    if facts.verified {
        lines.push("Mailboxes: every one synced or explained (stage 6 done).".to_owned());
    } else {
        outcome = Outcome::Fail;
        lines.push("Mailboxes: stage 6 is not done; explain or retry the failed ones first.".to_owned());
    }
    let (ttl_outcome, ttl_line) = ttl_rule(&facts.ttl, now);
    lines.push(ttl_line);
    outcome = match (outcome, ttl_outcome) {
        (Outcome::Fail, _) | (_, Outcome::Fail) => Outcome::Fail,
        (_, Outcome::Warn) => Outcome::Warn,
        _ => Outcome::Pass,
    };
    if outcome == Outcome::Fail {
        lines.push("Change the MX once these hold, or override this check with a written reason.".to_owned());
    }
    CheckResult::new(outcome, lines.join("\n"), now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("time").to_utc()
    }

    #[test]
    fn the_history_keeps_a_look_only_when_the_ttl_changed() {
        let mut h = Vec::new();
        note_ttl(&mut h, t("2026-12-01T08:00:00Z"), 86400);
        note_ttl(&mut h, t("2026-12-01T09:00:00Z"), 86400);
        note_ttl(&mut h, t("2026-12-01T10:00:00Z"), 300);
        note_ttl(&mut h, t("2026-12-01T10:30:00Z"), 300);
        assert_eq!(h.len(), 2);
        assert_eq!(h[1], TtlSeen { at: t("2026-12-01T10:00:00Z"), ttl: 300 });
    }

    #[test]
    fn the_ttl_rule_waits_one_old_ttl_after_the_lowering() {
        let h = vec![
            TtlSeen { at: t("2026-12-01T08:00:00Z"), ttl: 86400 },
            TtlSeen { at: t("2026-12-01T10:00:00Z"), ttl: 300 },
        ];
        assert_eq!(ttl_lowered(&h), TtlLowered::Lowered { at: t("2026-12-01T10:00:00Z"), from: 86400, to: 300 });
        let (early, why) = ttl_rule(&h, t("2026-12-01T10:30:00Z"));
        assert_eq!(early, Outcome::Fail);
        assert!(why.contains("until 2026-12-02T10:00:00Z"), "{why}");
        let (ready, why) = ttl_rule(&h, t("2026-12-02T10:00:00Z"));
        assert_eq!(ready, Outcome::Pass, "{why}");
        assert!(why.contains("lowered to 300 s at 2026-12-01T10:00:00Z from 86400 s"), "{why}");
    }

    #[test]
    fn an_unknown_or_high_ttl_says_so() {
        let now = t("2026-12-01T12:00:00Z");
        assert_eq!(ttl_rule(&[], now).0, Outcome::Fail);
        let high = [TtlSeen { at: t("2026-12-01T08:00:00Z"), ttl: 86400 }];
        let (o, why) = ttl_rule(&high, now);
        assert_eq!(o, Outcome::Fail);
        assert!(why.contains("86400 s, not lowered"), "{why}");
        let low = [TtlSeen { at: t("2026-12-01T08:00:00Z"), ttl: 300 }];
        let (o, why) = ttl_rule(&low, now);
        assert_eq!(o, Outcome::Warn);
        assert!(why.contains("unknown"), "{why}");
        // Raised again after a lowering: not lowered any more.
        let raised = [
            TtlSeen { at: t("2026-12-01T08:00:00Z"), ttl: 86400 },
            TtlSeen { at: t("2026-12-01T09:00:00Z"), ttl: 300 },
            TtlSeen { at: t("2026-12-01T10:00:00Z"), ttl: 86400 },
        ];
        assert_eq!(ttl_lowered(&raised), TtlLowered::NotLowered { ttl: 86400 });
    }

    #[test]
    fn the_preflight_names_each_missing_condition() {
        let now = t("2026-12-01T12:00:00Z");
        let lowered = vec![
            TtlSeen { at: t("2026-12-01T08:00:00Z"), ttl: 3600 },
            TtlSeen { at: t("2026-12-01T10:00:00Z"), ttl: 300 },
        ];
        let ready = PreflightFacts {
            initial_sync: InitialSync::Finished { status: "Synced".into() },
            verified: true,
            ttl: lowered.clone(),
        };
        assert_eq!(preflight_check(&ready, now).outcome, Outcome::Pass);
        let syncing =
            PreflightFacts { initial_sync: InitialSync::NotYet("Syncing, 80 of 120 synced".into()), ..ready.clone() };
        let r = preflight_check(&syncing, now);
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("Syncing, 80 of 120"), "{}", r.evidence);
        assert!(r.evidence.contains("override"), "{}", r.evidence);
        let unverified = PreflightFacts { verified: false, initial_sync: InitialSync::Unknown, ..ready.clone() };
        let r = preflight_check(&unverified, now);
        assert!(r.evidence.contains("stage 6 is not done") && r.evidence.contains("no view"), "{}", r.evidence);
        let no_batch =
            PreflightFacts { initial_sync: InitialSync::NoBatch { name: "cutover-acme".into() }, ..ready.clone() };
        let r = preflight_check(&no_batch, now);
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("no batch cutover-acme; create and start it in stage 5"), "{}", r.evidence);
        let unknown_ttl = PreflightFacts { ttl: vec![TtlSeen { at: now, ttl: 300 }], ..ready };
        assert_eq!(preflight_check(&unknown_ttl, now).outcome, Outcome::Warn);
    }
}
