//! A rehearsal (`cutover demo --inventory FILE`): the simulator moves the customer's own mailbox set, and stage
//! 2's time estimate is put beside the simulated initial sync once the batch has synced. What the project keeps of
//! it ([`Rehearsal`]), when the simulated sync is over ([`simulated_initial_sync`]) and the line stage 2 shows
//! ([`comparison`]). Pure.

use super::{SourceSettings, migrating};
use crate::inventory::Inventory;
use crate::inventory::estimate::{self, format_duration};
use crate::plan::migrate::view::BatchView;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a rehearsal project keeps in `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rehearsal {
    /// The inventory's file name (not its path: paths can name people).
    pub inventory_file: String,
    /// The upload bandwidth the simulated link had, in Mbit/s.
    pub bandwidth_mbit: u32,
    /// Simulated time from the batch's start to the end of its last mailbox's initial sync, once it synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulated_initial_sync_secs: Option<u64>,
}

/// How long the simulated initial sync took, once every mailbox of the batch is past it (synced, or failed):
/// from the batch's start to the latest last sync of the synced ones, both on Exchange's (the simulator's) clock,
/// so the time is simulated time whatever the demo's speed. `None` while any mailbox is still moving.
pub fn simulated_initial_sync(view: &BatchView) -> Option<Duration> {
    let start = view.batch.as_ref()?.start?;
    let mut end = None;
    for m in view.mailboxes.values() {
        let status = &m.user.status;
        if status.is_synced() {
            end = end.max(m.last_successful_sync());
        } else if !status.is_failed() {
            return None;
        }
    }
    (end? - start).to_std().ok()
}

/// Stage 2's line: the estimate's range beside the simulated run.
pub fn comparison(r: &Rehearsal, inventory: Option<&Inventory>, settings: &SourceSettings) -> String {
    let head = format!("Rehearsal with {} at {} Mbit/s", r.inventory_file, r.bandwidth_mbit);
    let estimate = inventory.and_then(|inv| {
        let t = estimate::totals(&migrating(inv).cloned().collect::<Vec<_>>());
        let mbit = settings.upload_mbit_s?;
        estimate::initial_sync(&t, f64::from(mbit), settings.concurrency).ok()
    });
    let estimate_text = estimate.as_ref().map_or_else(
        || "no estimate yet (import the inventory, set the bandwidth)".to_owned(),
        |e| format!("estimate {} to {}", format_duration(e.fastest), format_duration(e.slowest)),
    );
    let simulated = match r.simulated_initial_sync_secs.map(Duration::from_secs) {
        None => "simulated initial sync: not yet (start the batch in stage 5)".to_owned(),
        Some(s) => {
            let verdict = match &estimate {
                Some(e) if s < e.fastest => ", faster than the estimate",
                Some(e) if s > e.slowest => ", slower than the estimate",
                Some(_) => ", within the estimate",
                None => "",
            };
            format!("simulated initial sync {}{verdict}", format_duration(s))
        }
    };
    format!("{head}: {estimate_text}; {simulated}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::m365::exo::values::{BatchStatus, UserStatus};
    use crate::plan::migrate::view::apply_poll;
    use crate::plan::migrate::view::tests::{batch, read, t0, user};

    /// A batch started at t0 whose mailboxes have `statuses`, the i-th last synced i hours after the start.
    fn view(statuses: &[UserStatus]) -> BatchView {
        let users = statuses
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut u = user(&format!("u{i}@contoso.com"), s.clone(), 10);
                u.last_successful_sync = Some(t0() + chrono::Duration::hours(i as i64 + 1));
                u
            })
            .collect();
        let mut v = BatchView::default();
        apply_poll(&mut v, read(users, vec![]), t0());
        v.batch = Some(batch(BatchStatus::Synced));
        v
    }

    #[test]
    fn the_simulated_sync_ends_with_the_last_mailbox_past_its_initial_sync() {
        let v = view(&[UserStatus::Synced, UserStatus::Synced, UserStatus::Failed]);
        assert_eq!(simulated_initial_sync(&v), Some(Duration::from_secs(2 * 3600)), "a failed one does not count");
        let moving = view(&[UserStatus::Synced, UserStatus::Syncing]);
        assert_eq!(simulated_initial_sync(&moving), None, "a mailbox still moves");
        assert_eq!(simulated_initial_sync(&BatchView::default()), None);
    }

    #[test]
    fn the_line_puts_the_estimate_beside_the_simulated_run() {
        let settings = SourceSettings { upload_mbit_s: None, ..SourceSettings::default() };
        let mut r =
            Rehearsal { inventory_file: "inv.csv".into(), bandwidth_mbit: 100, simulated_initial_sync_secs: None };
        let line = comparison(&r, None, &settings);
        assert!(line.contains("inv.csv at 100 Mbit/s") && line.contains("no estimate yet"), "{line}");
        assert!(line.contains("not yet"), "{line}");
        r.simulated_initial_sync_secs = Some(5400);
        assert!(comparison(&r, None, &settings).contains("simulated initial sync 1 h 30 min."));
    }
}
