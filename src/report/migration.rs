//! The migration report (the service's deliverable 5): how many mailboxes migrated and which cannot be, and why.
//! Built from the project (inventory, settings, customer) and the batch watch's view; a row per mailbox of the
//! batch and per inventory mailbox the batch does not hold. Pure.

use crate::inventory::Mailbox;
use crate::plan::migrate::health::{Health, health};
use crate::plan::migrate::view::{BatchView, MailboxView};
use crate::plan::verify::catalogue::{Cause, Explanation, explain};
use crate::project::state::ProjectState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationReport {
    pub project: String,
    pub customer: String,
    pub generated_at: DateTime<Utc>,
    /// When the batch was last read: the report is as of then.
    pub polled_at: Option<DateTime<Utc>>,
    pub batch: Option<BatchSummary>,
    pub totals: Totals,
    /// Failed and stalled first, then the rest, each by address.
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSummary {
    pub identity: String,
    pub status: String,
    pub started: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Mailboxes in the batch plus inventory mailboxes it does not hold.
    pub mailboxes: usize,
    pub migrated: usize,
    pub in_progress: usize,
    pub failed: usize,
    pub stalled: usize,
    /// In the inventory, not in the batch (hidden mailboxes, for one).
    pub not_in_batch: usize,
    pub synced_items: u64,
    pub skipped_items: u64,
    pub bytes_transferred: u64,
}

/// A row's status: the mailbox's health in the batch, or absent from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowStatus {
    InBatch(Health),
    NotInBatch,
}

impl RowStatus {
    pub fn label(&self) -> &str {
        match self {
            RowStatus::InBatch(h) => h.label(),
            RowStatus::NotInBatch => "not in batch",
        }
    }
}

/// Why a mailbox cannot be migrated (yet), and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub cause: Cause,
    pub reason: String,
    pub fix: String,
    /// Exchange's text, verbatim.
    pub error: Option<String>,
}

impl From<&Explanation> for Failure {
    fn from(e: &Explanation) -> Failure {
        Failure {
            cause: e.cause,
            reason: e.cause.title().to_owned(),
            fix: e.cause.fix().to_owned(),
            error: e.error.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub address: String,
    pub display_name: Option<String>,
    pub status: RowStatus,
    pub synced_items: Option<u64>,
    pub skipped_items: Option<u64>,
    /// Exchange's `TotalItemsInSourceMailboxCount`.
    pub source_items: Option<u64>,
    /// Stage 2's inventory count.
    pub inventory_items: Option<u64>,
    pub bytes_transferred: Option<u64>,
    /// Exchange's estimate, else the inventory's size.
    pub size_bytes: Option<u64>,
    /// From the batch's start (else the mailbox first seen) to its initial sync done.
    pub initial_sync_secs: Option<u64>,
    pub last_sync: Option<DateTime<Utc>>,
    pub failure: Option<Failure>,
}

impl MigrationReport {
    pub fn build(state: &ProjectState, view: &BatchView, now: DateTime<Utc>) -> MigrationReport {
        let inventory: &[Mailbox] = state.inventory.as_deref().map_or(&[], |i| &i.mailboxes);
        let started = view.batch.as_ref().and_then(|b| b.start);
        // Indexed once: a search per mailbox is 4 million comparisons at 2,000.
        let by_key: std::collections::HashMap<String, &Mailbox> = inventory.iter().map(|i| (i.key(), i)).collect();
        let mut rows: Vec<Row> = view
            .mailboxes
            .iter()
            .map(|(key, m)| batch_row(key, m, by_key.get(key).copied(), started, state, now))
            .collect();
        rows.extend(inventory.iter().filter(|i| !view.mailboxes.contains_key(&i.key())).map(absent_row));
        rows.sort_by(|a, b| (a.failure.is_none(), &a.address).cmp(&(b.failure.is_none(), &b.address)));
        let mut totals = Totals { mailboxes: rows.len(), ..Totals::default() };
        for r in &rows {
            match &r.status {
                RowStatus::NotInBatch => totals.not_in_batch += 1,
                RowStatus::InBatch(h) if h.is_migrated() => totals.migrated += 1,
                RowStatus::InBatch(Health::Failed) => totals.failed += 1,
                RowStatus::InBatch(Health::Stalled) => totals.stalled += 1,
                RowStatus::InBatch(_) => totals.in_progress += 1,
            }
            totals.synced_items = totals.synced_items.saturating_add(r.synced_items.unwrap_or(0));
            totals.skipped_items = totals.skipped_items.saturating_add(r.skipped_items.unwrap_or(0));
            totals.bytes_transferred = totals.bytes_transferred.saturating_add(r.bytes_transferred.unwrap_or(0));
        }
        MigrationReport {
            project: state.name.clone(),
            customer: state.kickoff.customer.clone(),
            generated_at: now,
            polled_at: view.polled_at,
            batch: view.batch.as_ref().map(|b| BatchSummary {
                identity: b.identity.clone(),
                status: b.status.name().to_owned(),
                started: b.start,
            }),
            totals,
            rows,
        }
    }
}

fn batch_row(
    key: &str,
    m: &MailboxView,
    inv: Option<&Mailbox>,
    started: Option<DateTime<Utc>>,
    state: &ProjectState,
    now: DateTime<Utc>,
) -> Row {
    let from = started.unwrap_or(m.first_seen);
    Row {
        address: key.to_owned(),
        display_name: inv.map(|i| i.display_name.clone()),
        status: RowStatus::InBatch(health(m, &state.migrate, now)),
        synced_items: Some(m.synced_items()),
        skipped_items: Some(m.skipped_items()),
        source_items: m.statistics.as_ref().and_then(|s| s.total_items_in_source),
        inventory_items: inv.map(|i| i.item_count),
        bytes_transferred: m.bytes_transferred(),
        size_bytes: m.estimated_total().or(inv.map(|i| i.total_item_size)),
        initial_sync_secs: m.synced_at.and_then(|t| (t - from).to_std().ok()).map(|d| d.as_secs()),
        last_sync: m.last_successful_sync(),
        failure: explain(m, &state.migrate, now).as_ref().map(Failure::from),
    }
}

/// An inventory mailbox the batch does not hold: a hidden one is explained; any other is an unknown cause, since
/// a cutover batch takes every mailbox the endpoint sees.
fn absent_row(i: &Mailbox) -> Row {
    let explanation = if i.hidden {
        Explanation { cause: Cause::HiddenFromAddressLists, error: None }
    } else {
        Explanation {
            cause: Cause::Unknown,
            error: Some("the mailbox is in the inventory but not in the migration batch".into()),
        }
    };
    Row {
        address: i.key(),
        display_name: Some(i.display_name.clone()),
        status: RowStatus::NotInBatch,
        synced_items: None,
        skipped_items: None,
        source_items: None,
        inventory_items: Some(i.item_count),
        bytes_transferred: None,
        size_bytes: Some(i.total_item_size),
        initial_sync_secs: None,
        last_sync: None,
        failure: Some(Failure::from(&explanation)),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::inventory::{Archive, Inventory, RecipientType};
    use crate::m365::exo::values::UserStatus;
    use crate::plan::migrate::view::apply_poll;
    use crate::plan::migrate::view::tests::{read, stats, t0, user};

    fn mailbox(address: &str, name: &str, hidden: bool) -> Mailbox {
        Mailbox {
            display_name: name.into(),
            primary_smtp: address.into(),
            upn: address.into(),
            proxy_addresses: vec![],
            recipient_type: RecipientType::UserMailbox,
            total_item_size: 5000,
            item_count: 100,
            deleted_item_size: 0,
            archive: Archive::None,
            hidden,
            forwarding: None,
            last_logon: None,
            database: "DB01".into(),
            legacy_exchange_dn: String::new(),
        }
    }

    /// A project of four mailboxes: one migrated, one failed with hostile text, one hidden, one named to
    /// inject a spreadsheet formula.
    pub fn sample() -> MigrationReport {
        let mut state = ProjectState::new("contoso", t0(), false);
        state.kickoff.customer = "Contoso <Ltd> & \"Sons\"".into();
        state.inventory = Some(std::sync::Arc::new(Inventory {
            imported_at: t0(),
            file_name: "inventory.csv".into(),
            mailboxes: vec![
                mailbox("a@contoso.com", "=HYPERLINK(\"http://evil\")", false),
                mailbox("b@contoso.com", "Bob <script>alert(1)</script>", false),
                mailbox("hidden@contoso.com", "Hidden", true),
            ],
        }));
        let mut failed = user("b@contoso.com", UserStatus::Failed, 0);
        failed.error = Some("<b>Weird</b>, \"quoted\" & broken".into());
        let mut view = BatchView::default();
        apply_poll(
            &mut view,
            read(
                vec![user("a@contoso.com", UserStatus::Synced, 100), failed],
                vec![stats("a@contoso.com", UserStatus::Synced, 100, 5000, 5000)],
            ),
            t0(),
        );
        MigrationReport::build(&state, &view, t0())
    }

    #[test]
    fn totals_and_rows_say_what_migrated_and_what_cannot_and_why() {
        let r = sample();
        assert_eq!(
            (r.totals.mailboxes, r.totals.migrated, r.totals.failed, r.totals.not_in_batch),
            (3, 1, 1, 1),
            "{:?}",
            r.totals
        );
        assert_eq!(r.rows[0].address, "b@contoso.com", "failures first");
        let b = r.rows[0].failure.as_ref().expect("failure");
        assert_eq!((b.cause, b.error.as_deref()), (Cause::Unknown, Some("<b>Weird</b>, \"quoted\" & broken")));
        let hidden = r.rows.iter().find(|x| x.address == "hidden@contoso.com").expect("hidden row");
        assert_eq!(hidden.failure.as_ref().map(|f| f.cause), Some(Cause::HiddenFromAddressLists));
        let a = r.rows.iter().find(|x| x.address == "a@contoso.com").expect("a");
        assert_eq!((a.synced_items, a.inventory_items, a.failure.is_none()), (Some(100), Some(100), true));
    }
}
