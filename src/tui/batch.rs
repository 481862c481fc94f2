//! The live table of stage 5: which mailboxes of the batch's view it lists (by filter), in which order (those
//! needing attention first), and which is selected, kept by address so the selection survives every poll.

use crate::plan::migrate::MigrateSettings;
use crate::plan::migrate::health::{Health, health};
use crate::plan::migrate::view::BatchView;
use chrono::{DateTime, Utc};

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

/// The table's state; the rows are computed from the view each time.
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
}

impl BatchTable {
    /// The keys of the rows, failed and stalled first, then the moving ones, then the rest, by address within.
    pub fn rows<'v>(
        &self,
        view: &'v BatchView,
        vips: &std::collections::BTreeSet<String>,
        settings: &MigrateSettings,
        now: DateTime<Utc>,
    ) -> Vec<(&'v str, Health)> {
        let query = self.query.trim().to_lowercase();
        let mut rows: Vec<(&str, Health)> = view
            .mailboxes
            .iter()
            .filter(|(k, _)| query.is_empty() || k.contains(&query))
            .map(|(k, m)| (k.as_str(), health(m, settings, now)))
            .filter(|(k, h)| self.filter.keeps(h, vips.contains(*k)))
            .collect();
        // The map is ordered by address already: a stable sort keeps that order within equal keys.
        match self.sort {
            BatchSort::Attention => rows.sort_by_key(|(_, h)| rank(h)),
            BatchSort::Address => {}
            BatchSort::Progress => rows.sort_by_key(|(k, _)| view.mailboxes.get(*k).map_or(0, percent_done)),
            BatchSort::Size => rows.sort_by_key(|(k, _)| {
                std::cmp::Reverse(view.mailboxes.get(*k).and_then(|m| m.estimated_total()).unwrap_or(0))
            }),
        }
        rows
    }

    /// The selected row's index in `rows`.
    pub fn cursor(&self, rows: &[(&str, Health)]) -> usize {
        self.selected.as_deref().and_then(|s| rows.iter().position(|(k, _)| *k == s)).unwrap_or(0)
    }

    /// Moves the selection by `delta` rows, within the rows.
    pub fn step(&mut self, rows: &[(&str, Health)], delta: isize) {
        if rows.is_empty() {
            return;
        }
        let at = self.cursor(rows).saturating_add_signed(delta).min(rows.len() - 1);
        self.selected = Some(rows[at].0.to_owned());
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
        let settings = MigrateSettings::default();
        let rows = table.rows(&v, &Default::default(), &settings, t0());
        let keys: Vec<&str> = rows.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["b@x.example", "c@x.example", "a@x.example"]);
        table.step(&rows, 2);
        assert_eq!(table.selected.as_deref(), Some("a@x.example"));
        table.filter = BatchFilter::Synced;
        let synced = table.rows(&v, &Default::default(), &settings, t0());
        assert_eq!(synced.len(), 1);
        assert_eq!(table.cursor(&synced), 0, "the selected mailbox is still selected");
    }
}
