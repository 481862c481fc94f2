//! The live table of stage 5: which mailboxes of the batch's view it lists (by filter), in which order (those
//! needing attention first), and which is selected, kept by address so the selection survives every poll. The
//! rows are kept once computed, until what they come from changes: a key that moves the selection, and the frame
//! drawn after it, then cost the visible rows only, not a health and a sort of every mailbox.

use crate::inventory::Inventory;
use crate::inventory::risk::{self, Thresholds};
use crate::plan::migrate::MigrateSettings;
use crate::plan::migrate::health::{Health, health};
use crate::plan::migrate::progress::{Eta, eta_of, sparkline, throughput_mb_per_min, volume};
use crate::plan::migrate::view::BatchView;
use crate::project::ProjectState;
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Which mailboxes the table lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BatchFilter {
    #[default]
    All,
    /// Failed or stalled: what to act on.
    Attention,
    /// Data is moving or about to.
    InProgress,
    Synced,
    Vip,
}

impl BatchFilter {
    pub fn next(self) -> BatchFilter {
        match self {
            BatchFilter::All => BatchFilter::Attention,
            BatchFilter::Attention => BatchFilter::InProgress,
            BatchFilter::InProgress => BatchFilter::Synced,
            BatchFilter::Synced => BatchFilter::Vip,
            BatchFilter::Vip => BatchFilter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BatchFilter::All => "all",
            BatchFilter::Attention => "failed or stalled",
            BatchFilter::InProgress => "in progress",
            BatchFilter::Synced => "synced",
            BatchFilter::Vip => "VIP",
        }
    }

    fn keeps(self, h: &Health, vip: bool) -> bool {
        match self {
            BatchFilter::All => true,
            BatchFilter::Attention => h.needs_attention(),
            BatchFilter::InProgress => matches!(h, Health::Queued | Health::Starting | Health::Syncing),
            BatchFilter::Synced => h.is_migrated(),
            BatchFilter::Vip => vip,
        }
    }
}

/// The order of the rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BatchSort {
    /// Failed and stalled first, then the moving ones, then the rest.
    #[default]
    Attention,
    Address,
    /// The least done first: who holds the batch back.
    Progress,
    /// The largest estimated transfer first.
    Size,
}

impl BatchSort {
    pub fn next(self) -> BatchSort {
        match self {
            BatchSort::Attention => BatchSort::Address,
            BatchSort::Address => BatchSort::Progress,
            BatchSort::Progress => BatchSort::Size,
            BatchSort::Size => BatchSort::Attention,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BatchSort::Attention => "attention",
            BatchSort::Address => "address",
            BatchSort::Progress => "least done",
            BatchSort::Size => "size",
        }
    }
}

/// One row of the table: the mailbox's key (its address), its health now and its marks from stage 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    pub key: String,
    pub health: Health,
    /// "★" a VIP, "!" high-risk (large, many items, Recoverable Items, hidden), both, or "".
    pub mark: &'static str,
}

/// The header's figures: the whole batch's, whatever the filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub counts: BTreeMap<Health, usize>,
    /// Bytes (remaining, moved, estimated in all), as `progress::volume` gives them.
    pub volume: (u64, u64, u64),
    pub rate_mb_per_min: Option<f64>,
    /// Bytes moved in each bucket of the last hour, oldest first.
    pub spark: Vec<u64>,
    pub eta: Option<Eta>,
}

/// The last hour in this many bars.
const SPARK_BUCKETS: usize = 12;

/// The table's state: filter, sort, search, selection, and the rows last computed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchTable {
    pub filter: BatchFilter,
    pub sort: BatchSort,
    /// Rows whose address contains this (any case).
    pub query: String,
    /// The search being typed, when `/` was pressed.
    pub search: Option<crate::tui::widgets::input::TextInput>,
    /// The selected mailbox's key; none: the first row.
    pub selected: Option<String>,
    cache: RowsCache,
}

/// Everything the rows are computed from. The view and the inventory are compared by address: a poll or an
/// import replaces them whole.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RowsKey {
    view: usize,
    inventory: Option<usize>,
    filter: BatchFilter,
    sort: BatchSort,
    query: String,
    vips: BTreeSet<String>,
    settings: MigrateSettings,
    thresholds: Thresholds,
    upload_mbit_s: Option<u32>,
    now: DateTime<Utc>,
}

/// The rows of the last refresh and what they were computed from; the view and the inventory are held, so the
/// addresses of the key cannot be reused by others while it is kept.
#[derive(Debug, Clone, Default)]
struct RowsCache {
    kept: Option<Kept>,
}

#[derive(Debug, Clone)]
struct Kept {
    key: RowsKey,
    _view: Arc<BatchView>,
    _inventory: Option<Arc<Inventory>>,
    rows: Arc<[TableRow]>,
    summary: Arc<Summary>,
}

/// A memo: two tables are equal by their filter, sort, search and selection, whatever either has computed.
impl PartialEq for RowsCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for RowsCache {}

impl BatchTable {
    fn key(&self, view: &BatchView, state: &ProjectState, now: DateTime<Utc>) -> RowsKey {
        RowsKey {
            view: std::ptr::from_ref(view).addr(),
            inventory: state.inventory.as_deref().map(|i| std::ptr::from_ref(i).addr()),
            filter: self.filter,
            sort: self.sort,
            query: self.query.clone(),
            vips: state.vips.clone(),
            settings: state.migrate,
            thresholds: state.source.thresholds,
            upload_mbit_s: state.source.upload_mbit_s,
            now,
        }
    }

    /// The rows, failed and stalled first, then the moving ones, then the rest, by address within, and the
    /// header's figures: the kept ones when nothing they come from changed since [`BatchTable::refresh`], else
    /// computed now.
    pub fn rows(
        &self,
        view: &BatchView,
        state: &ProjectState,
        now: DateTime<Utc>,
    ) -> (Cow<'_, [TableRow]>, Cow<'_, Summary>) {
        match &self.cache.kept {
            Some(kept) if kept.key == self.key(view, state, now) => {
                (Cow::Borrowed(&kept.rows), Cow::Borrowed(&kept.summary))
            }
            _ => {
                let (rows, summary) = self.compute(view, state, now);
                (Cow::Owned(rows), Cow::Owned(summary))
            }
        }
    }

    /// Computes the rows again if what they come from changed; the app calls it after every update.
    pub fn refresh(&mut self, view: Option<&Arc<BatchView>>, state: &ProjectState, now: DateTime<Utc>) {
        let Some(view) = view else {
            self.cache.kept = None;
            return;
        };
        let key = self.key(view, state, now);
        if self.cache.kept.as_ref().is_some_and(|kept| kept.key == key) {
            return;
        }
        let (rows, summary) = self.compute(view, state, now);
        self.cache.kept = Some(Kept {
            key,
            _view: Arc::clone(view),
            _inventory: state.inventory.clone(),
            rows: rows.into(),
            summary: Arc::new(summary),
        });
    }

    /// Moves the selection by `delta` rows, within the rows.
    pub fn step(&mut self, view: &BatchView, state: &ProjectState, now: DateTime<Utc>, delta: isize) {
        let (rows, _) = self.rows(view, state, now);
        if rows.is_empty() {
            return;
        }
        let at = self.cursor(&rows).saturating_add_signed(delta).min(rows.len() - 1);
        let key = rows[at].key.clone();
        drop(rows);
        self.selected = Some(key);
    }

    fn compute(&self, view: &BatchView, state: &ProjectState, now: DateTime<Utc>) -> (Vec<TableRow>, Summary) {
        let query = self.query.trim().to_lowercase();
        let inventory: HashMap<String, &crate::inventory::Mailbox> = state
            .inventory
            .as_deref()
            .map(|i| i.mailboxes.iter().map(|m| (m.primary_smtp.to_lowercase(), m)).collect())
            .unwrap_or_default();
        let mut counts = BTreeMap::new();
        let mut rows = Vec::new();
        for (k, m) in &view.mailboxes {
            let health = health(m, &state.migrate, now);
            *counts.entry(health.clone()).or_insert(0) += 1;
            let vip = state.vips.contains(k.as_str());
            if !(query.is_empty() || k.contains(&query)) || !self.filter.keeps(&health, vip) {
                continue;
            }
            let risky = inventory.get(k.as_str()).is_some_and(|i| {
                risk::flags(i, vip, &state.source.thresholds).iter().any(|f| *f != risk::RiskFlag::Vip)
            });
            let mark = match (vip, risky) {
                (true, true) => "★!",
                (true, false) => "★",
                (false, true) => "!",
                (false, false) => "",
            };
            rows.push(TableRow { key: k.clone(), health, mark });
        }
        // The map is ordered by address already: a stable sort keeps that order within equal keys.
        match self.sort {
            BatchSort::Attention => rows.sort_by_key(|r| rank(&r.health)),
            BatchSort::Address => {}
            BatchSort::Progress => rows.sort_by_key(|r| view.mailboxes.get(&r.key).map_or(0, percent_done)),
            BatchSort::Size => rows.sort_by_key(|r| {
                std::cmp::Reverse(view.mailboxes.get(&r.key).and_then(|m| m.estimated_total()).unwrap_or(0))
            }),
        }
        let all = state.inventory.as_deref().map_or(&[][..], |i| &i.mailboxes[..]);
        let volume = volume(view, all);
        // The history's samples are on Exchange's clock.
        let service_now = view.service_time(now);
        let summary = Summary {
            counts,
            volume,
            rate_mb_per_min: throughput_mb_per_min(view, service_now),
            spark: sparkline(view, service_now, SPARK_BUCKETS),
            eta: eta_of(volume.0, view, state.source.upload_mbit_s, service_now),
        };
        (rows, summary)
    }

    /// The selected row's index in `rows`.
    pub fn cursor(&self, rows: &[TableRow]) -> usize {
        self.selected.as_deref().and_then(|s| rows.iter().position(|r| r.key == s)).unwrap_or(0)
    }
}

/// Per mille of the estimated transfer moved, Exchange's percentage when it gives no sizes.
fn percent_done(m: &crate::plan::migrate::view::MailboxView) -> u64 {
    match (m.bytes_transferred(), m.estimated_total()) {
        (Some(done), Some(total)) if total > 0 => done.saturating_mul(1000) / total,
        _ => m.statistics.as_ref().and_then(|s| s.percentage_complete).unwrap_or(0).saturating_mul(10),
    }
}

fn rank(h: &Health) -> u8 {
    match h {
        Health::Failed | Health::Stalled => 0,
        Health::Unknown(_) => 1,
        Health::Syncing | Health::Starting | Health::Completing => 2,
        Health::Queued => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::migrate::UserStatus;
    use crate::plan::migrate::view::apply_poll;
    use crate::plan::migrate::view::tests::{read, t0, user};

    fn view() -> BatchView {
        let mut v = BatchView::default();
        let users = vec![
            user("a@x.example", UserStatus::Synced, 10),
            user("b@x.example", UserStatus::Failed, 1),
            user("c@x.example", UserStatus::Syncing, 5),
        ];
        apply_poll(&mut v, read(users, Vec::new()), t0());
        v
    }

    #[test]
    fn failed_mailboxes_come_first_and_the_selection_follows_the_address() {
        let v = view();
        let mut table = BatchTable::default();
        let state = ProjectState::new("t", t0(), false);
        let (rows, summary) = table.rows(&v, &state, t0());
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["b@x.example", "c@x.example", "a@x.example"]);
        assert_eq!(summary.counts.values().sum::<usize>(), 3, "the header counts every mailbox");
        table.step(&v, &state, t0(), 2);
        assert_eq!(table.selected.as_deref(), Some("a@x.example"));
        table.filter = BatchFilter::Synced;
        let (synced, summary) = table.rows(&v, &state, t0());
        assert_eq!(summary.counts.values().sum::<usize>(), 3, "whatever the filter");
        assert_eq!(synced.len(), 1);
        assert_eq!(table.cursor(&synced), 0, "the selected mailbox is still selected");
    }

    #[test]
    fn kept_rows_are_used_until_what_they_come_from_changes() {
        let v = Arc::new(view());
        let mut table = BatchTable::default();
        let mut state = ProjectState::new("t", t0(), false);
        table.refresh(Some(&v), &state, t0());
        assert!(matches!(table.rows(&v, &state, t0()).0, Cow::Borrowed(_)), "kept");
        // A VIP marked since: the kept rows are stale, so they are computed again, with the mark.
        state.vips.insert("c@x.example".into());
        let (rows, _) = table.rows(&v, &state, t0());
        assert!(matches!(rows, Cow::Owned(_)), "computed");
        assert_eq!(rows.iter().find(|r| r.key == "c@x.example").map(|r| r.mark), Some("★"));
        table.filter = BatchFilter::Vip;
        table.refresh(Some(&v), &state, t0());
        let (rows, _) = table.rows(&v, &state, t0());
        assert!(matches!(rows, Cow::Borrowed(_)) && rows.len() == 1, "kept after the refresh: {rows:?}");
        // A new poll is a new view; a second later is another time.
        let polled = Arc::new(view());
        assert!(matches!(table.rows(&polled, &state, t0()).0, Cow::Owned(_)));
        let later = t0() + chrono::Duration::seconds(1);
        assert!(matches!(table.rows(&v, &state, later).0, Cow::Owned(_)));
    }
}
