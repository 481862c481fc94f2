//! Stage 6's verdicts over stage 5's live view: `item-counts` (per mailbox, the items that arrived against the
//! inventory's count and Exchange's own count of the source, within a tolerance) and `failures-explained` (every
//! failed or stalled mailbox has a cause from the catalogue). Pure.

use super::catalogue::explain;
use super::{Check, VerifySettings};
use crate::inventory::Mailbox;
use crate::plan::migrate::MigrateSettings;
use crate::plan::migrate::health::{Health, health};
use crate::plan::migrate::view::{BatchView, MailboxView};
use crate::plan::stages::CheckId;
use crate::plan::{CheckResult, Outcome};
use crate::text::group_thousands;
use chrono::{DateTime, Utc};

/// Both checks of stage 6, in the stage's order.
pub fn run_checks(
    view: &BatchView,
    inventory: &[Mailbox],
    migrate: &MigrateSettings,
    verify: &VerifySettings,
    now: DateTime<Utc>,
) -> Vec<(CheckId, CheckResult)> {
    vec![
        (Check::ItemCounts.into(), item_counts(view, inventory, migrate, verify, now)),
        (Check::FailuresExplained.into(), failures_explained(view, migrate, now)),
    ]
}

/// How one synced mailbox's items compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemComparison {
    pub address: String,
    /// Synced plus skipped: every item the sync dealt with.
    pub arrived: u64,
    /// Stage 2's `Mailbox.item_count`.
    pub inventory: Option<u64>,
    /// Exchange's `TotalItemsInSourceMailboxCount`.
    pub source: Option<u64>,
    pub verdict: Outcome,
}

/// Whether `arrived` falls short of `expected` by more than `tolerance` percent. More items than expected is
/// normal (mail kept arriving after the count), so only a shortfall counts.
pub fn short_by_more_than(arrived: u64, expected: u64, tolerance_percent: u32) -> bool {
    // In integers: arrived < expected × (100 − tolerance) / 100, without rounding either way.
    (arrived as u128) * 100 < (expected as u128) * u128::from(100u32.saturating_sub(tolerance_percent.min(100)))
}

/// A synced mailbox's comparison: Fail when it falls short of Exchange's own count of the source (items are
/// missing by Exchange's account), Warn when only short of the inventory (taken days before: users delete mail).
pub fn compare(address: &str, m: &MailboxView, inventory: Option<&Mailbox>, tolerance: u32) -> ItemComparison {
    let arrived = m.synced_items().saturating_add(m.skipped_items());
    let source = m.statistics.as_ref().and_then(|s| s.total_items_in_source);
    let inventory = inventory.map(|i| i.item_count);
    let verdict = if source.is_some_and(|n| short_by_more_than(arrived, n, tolerance)) {
        Outcome::Fail
    } else if inventory.is_some_and(|n| short_by_more_than(arrived, n, tolerance)) {
        Outcome::Warn
    } else {
        Outcome::Pass
    };
    ItemComparison { address: address.to_owned(), arrived, inventory, source, verdict }
}

/// `item-counts`.
pub fn item_counts(
    view: &BatchView,
    inventory: &[Mailbox],
    migrate: &MigrateSettings,
    settings: &VerifySettings,
    now: DateTime<Utc>,
) -> CheckResult {
    let tolerance = settings.item_tolerance_percent;
    // Indexed once: a search per mailbox is 4 million comparisons at 2,000.
    let by_key: std::collections::HashMap<String, &Mailbox> = inventory.iter().map(|i| (i.key(), i)).collect();
    let synced: Vec<ItemComparison> = view
        .mailboxes
        .iter()
        .filter(|(_, m)| m.user.status.is_synced())
        .map(|(a, m)| compare(a, m, by_key.get(a).copied(), tolerance))
        .collect();
    if synced.is_empty() {
        return CheckResult::new(Outcome::NotRun, "Not run: no mailbox has finished its initial sync yet.", now);
    }
    // Still moving (queued, syncing): a count now says nothing, and the stage is not verified until it has one.
    // Failed and stalled mailboxes are failures-explained's.
    let moving = view
        .mailboxes
        .values()
        .filter(|m| !m.user.status.is_synced())
        .filter(|m| !matches!(health(m, migrate, now), Health::Failed | Health::Stalled))
        .count();
    let waiting = view.mailboxes.len() - synced.len() - moving;
    let line = |c: &ItemComparison| {
        let n = |v: Option<u64>| v.map_or_else(|| "unknown".to_owned(), group_thousands);
        format!(
            "{}: {} arrived (synced + skipped), source {} by Exchange, {} in the inventory",
            c.address,
            group_thousands(c.arrived),
            n(c.source),
            n(c.inventory)
        )
    };
    let fails: Vec<String> = synced.iter().filter(|c| c.verdict == Outcome::Fail).map(line).collect();
    let warns: Vec<String> = synced.iter().filter(|c| c.verdict == Outcome::Warn).map(line).collect();
    let outcome = match (fails.len(), warns.len(), moving) {
        (0, 0, 0) => Outcome::Pass,
        (0, _, 0) => Outcome::Warn,
        _ => Outcome::Fail,
    };
    let mut lines = vec![format!(
        "{} synced mailbox(es) compared within {tolerance}%: {} match, {} short of Exchange's source count, {} short \
         of the inventory only{}.",
        synced.len(),
        synced.len() - fails.len() - warns.len(),
        fails.len(),
        warns.len(),
        if waiting > 0 { format!("; {waiting} failed or stalled, not compared") } else { String::new() }
    )];
    if moving > 0 {
        lines.push(format!(
            "{moving} mailbox(es) have not finished their initial sync: run the checks again once the batch is \
             Synced."
        ));
    }
    if !fails.is_empty() {
        lines.push(
            "Short of Exchange's own count (fix: check the skipped items in Get-MigrationUserStatistics \
             -IncludeReport, approve them and let the next incremental sync run):"
                .into(),
        );
        lines.extend(fails);
    }
    if !warns.is_empty() {
        lines.push("Short of the inventory only (it was taken before the sync; users may have deleted mail):".into());
        lines.extend(warns);
    }
    CheckResult::new(outcome, lines.join("\n"), now)
}

/// `failures-explained`: Pass with no failed or stalled mailbox, Warn when each has a cause from the catalogue
/// (its fix is listed; retry after it), Fail when one does not, with Exchange's text as it was.
pub fn failures_explained(view: &BatchView, settings: &MigrateSettings, now: DateTime<Utc>) -> CheckResult {
    if view.mailboxes.is_empty() {
        return CheckResult::new(Outcome::NotRun, "Not run: the batch lists no mailbox yet.", now);
    }
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for (address, m) in &view.mailboxes {
        if let Some(e) = explain(m, settings, now) {
            let line = format!("{address} ({}): {}", health(m, settings, now).label(), e.line());
            if e.is_known() { known.push(line) } else { unknown.push(line) }
        }
    }
    let (outcome, verdict) = match (known.len(), unknown.len()) {
        (0, 0) => (Outcome::Pass, format!("No failed or stalled mailbox among {}.", view.mailboxes.len())),
        (n, 0) => (Outcome::Warn, format!("{n} failed or stalled mailbox(es), each explained; fix and retry:")),
        (k, u) => (Outcome::Fail, format!("{u} failed or stalled mailbox(es) not explained (and {k} explained):")),
    };
    let mut lines = vec![verdict];
    lines.extend(unknown);
    lines.extend(known);
    CheckResult::new(outcome, lines.join("\n"), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Archive, RecipientType};
    use crate::m365::exo::values::UserStatus;
    use crate::plan::migrate::view::tests::{read, stats, t0, user};
    use crate::plan::migrate::view::{BatchView, apply_poll};

    pub fn source_mailbox(address: &str, items: u64) -> Mailbox {
        Mailbox {
            display_name: address.into(),
            primary_smtp: address.into(),
            upn: address.into(),
            proxy_addresses: vec![],
            recipient_type: RecipientType::UserMailbox,
            total_item_size: 1000,
            item_count: items,
            deleted_item_size: 0,
            archive: Archive::None,
            hidden: false,
            forwarding: None,
            last_logon: None,
            database: "DB01".into(),
            legacy_exchange_dn: String::new(),
        }
    }

    #[test]
    fn the_tolerance_rule() {
        assert!(!short_by_more_than(990, 1000, 1), "1% short is within 1%");
        assert!(short_by_more_than(989, 1000, 1));
        assert!(short_by_more_than(999, 1000, 0));
        assert!(!short_by_more_than(1200, 1000, 0), "more than expected is fine");
        assert!(!short_by_more_than(0, 1000, 100));
        assert!(!short_by_more_than(u64::MAX, u64::MAX, 5), "no overflow");
    }

    #[test]
    fn item_counts_against_exchange_and_the_inventory() {
        let verify = VerifySettings::default();
        let mut view = BatchView::default();
        let mut short_of_source = stats("b@x.com", UserStatus::Synced, 900, 1, 1);
        short_of_source.total_items_in_source = Some(1000);
        let users = vec![
            user("a@x.com", UserStatus::Synced, 1000),
            user("b@x.com", UserStatus::Synced, 900),
            user("c@x.com", UserStatus::Synced, 950),
            user("d@x.com", UserStatus::Syncing, 10),
        ];
        let s = vec![
            stats("a@x.com", UserStatus::Synced, 1000, 1, 1),
            short_of_source,
            stats("c@x.com", UserStatus::Synced, 950, 1, 1),
        ];
        apply_poll(&mut view, read(users, s), t0());
        let inventory =
            [source_mailbox("a@x.com", 1005), source_mailbox("b@x.com", 1000), source_mailbox("C@x.com", 1000)];
        let migrate = MigrateSettings::default();
        let r = item_counts(&view, &inventory, &migrate, &verify, t0());
        assert_eq!(r.outcome, Outcome::Fail, "{}", r.evidence);
        assert!(r.evidence.contains("b@x.com: 900 arrived"), "{}", r.evidence);
        assert!(r.evidence.contains("c@x.com: 950 arrived"), "{}", r.evidence);
        assert!(!r.evidence.contains("a@x.com:"), "within 1%: {}", r.evidence);
        assert!(r.evidence.contains("1 mailbox(es) have not finished their initial sync"), "{}", r.evidence);
        let lenient = VerifySettings { item_tolerance_percent: 10 };
        let r = item_counts(&view, &inventory, &migrate, &lenient, t0());
        assert_eq!(r.outcome, Outcome::Fail, "d@x.com still syncing: {}", r.evidence);
        // Once d@x.com has failed it is failures-explained's, and the synced ones are within 10%.
        let mut users: Vec<_> = view.mailboxes.values().map(|m| m.user.clone()).collect();
        users[3].status = UserStatus::Failed;
        apply_poll(&mut view, read(users, Vec::new()), t0());
        let r = item_counts(&view, &inventory, &migrate, &lenient, t0());
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.evidence);
        assert!(r.evidence.contains("1 failed or stalled, not compared"), "{}", r.evidence);
        let c = view.mailbox("c@x.com").expect("c");
        assert_eq!(
            compare("c@x.com", c, Some(&inventory[2]), 4).verdict,
            Outcome::Warn,
            "5% short of the inventory only"
        );
        assert_eq!(compare("c@x.com", c, Some(&inventory[2]), 5).verdict, Outcome::Pass);
    }

    #[test]
    fn failures_explained_keeps_unknown_text() {
        let settings = MigrateSettings::default();
        let mut view = BatchView::default();
        let mut quota = user("a@x.com", UserStatus::Failed, 0);
        quota.error = Some("MailboxQuotaExceededException".into());
        apply_poll(&mut view, read(vec![quota.clone()], vec![]), t0());
        assert_eq!(failures_explained(&view, &settings, t0()).outcome, Outcome::Warn);
        let mut odd = user("b@x.com", UserStatus::Failed, 0);
        odd.error = Some("Weird: 0x8004010F".into());
        apply_poll(&mut view, read(vec![quota, odd], vec![]), t0());
        let r = failures_explained(&view, &settings, t0());
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("\"Weird: 0x8004010F\""), "{}", r.evidence);
    }
}
