//! The batch's progress from the watch's history: rolling throughput over the last hour, a per-minute series for
//! the sparkline, the percent of the estimated total, and the initial sync's ETA as a range with its assumption.
//! Pure. Sizes are in Exchange's binary units (1 MB = 1,048,576 bytes), as `format_size` shows them.

use super::view::{BatchView, HISTORY_WINDOW_MINUTES, Sample};
use crate::inventory::Mailbox;
use crate::inventory::estimate::LINK_EFFICIENCY;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

const MIB: f64 = 1_048_576.0;
/// How far the rolling rate is trusted either way for the ETA range: rates swing as large mailboxes start and end.
pub const RATE_SPREAD: f64 = 0.25;

/// The samples within the last hour, and the one just before it (the baseline).
fn window(view: &BatchView, now: DateTime<Utc>) -> Vec<Sample> {
    let cutoff = now - Duration::minutes(HISTORY_WINDOW_MINUTES);
    let samples: Vec<Sample> = view.history.iter().copied().filter(|s| s.at <= now).collect();
    let start = samples.iter().rposition(|s| s.at <= cutoff).unwrap_or(0);
    samples[start..].to_vec()
}

/// Bytes moved per minute over the last hour, in MB/min; `None` with fewer than two samples in it.
pub fn throughput_mb_per_min(view: &BatchView, now: DateTime<Utc>) -> Option<f64> {
    let w = window(view, now);
    let (first, last) = (w.first()?, w.last()?);
    let minutes = (last.at - first.at).num_milliseconds() as f64 / 60_000.0;
    // A mailbox leaving the batch lowers the sum; that is not negative throughput.
    (minutes > 0.0).then(|| last.bytes.saturating_sub(first.bytes) as f64 / MIB / minutes)
}

/// The sparkline: MB moved in each of `buckets` equal slices of the last hour, oldest first. Each step between
/// two samples counts in the slice it starts in (the baseline before the hour counts in the first).
pub fn sparkline(view: &BatchView, now: DateTime<Utc>, buckets: usize) -> Vec<u64> {
    let mut series = vec![0u64; buckets];
    if buckets == 0 {
        return series;
    }
    let span_ms = Duration::minutes(HISTORY_WINDOW_MINUTES).num_milliseconds();
    let start = now - Duration::minutes(HISTORY_WINDOW_MINUTES);
    let w = window(view, now);
    for pair in w.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b.at <= start {
            continue;
        }
        let offset = (a.at.max(start) - start).num_milliseconds().clamp(0, span_ms - 1);
        let slot = (offset as u128 * buckets as u128 / span_ms as u128) as usize;
        if let Some(cell) = series.get_mut(slot) {
            *cell = cell.saturating_add((b.bytes.saturating_sub(a.bytes) as f64 / MIB).round() as u64);
        }
    }
    series
}

/// A mailbox's size for the estimate: Exchange's estimate once read, else the inventory's, else unknown.
fn estimated_bytes(view_bytes: Option<u64>, inventory: Option<&Mailbox>) -> Option<u64> {
    view_bytes.or_else(|| inventory.map(|m| m.total_item_size))
}

/// What the initial sync still has to move and what it moved: (remaining, transferred, estimated total), over
/// every mailbox of the batch. A mailbox whose initial sync is done counts as fully moved.
pub fn volume(view: &BatchView, inventory: &[Mailbox]) -> (u64, u64, u64) {
    let (mut remaining, mut done, mut total) = (0u64, 0u64, 0u64);
    // Looked up by key once each (a search of the inventory per mailbox made each frame of the live table
    // quadratic), without building a key string per inventory mailbox.
    let mut by_key: HashMap<AsciiCaseless, &Mailbox> = HashMap::with_capacity(inventory.len());
    for i in inventory {
        by_key.entry(AsciiCaseless(&i.primary_smtp)).or_insert(i);
    }
    for (key, m) in &view.mailboxes {
        let inv = by_key.get(&AsciiCaseless(key)).copied();
        let estimate = estimated_bytes(m.estimated_total(), inv).unwrap_or(0);
        let moved = m.bytes_transferred().unwrap_or(0);
        let moved = if m.user.status.is_synced() { moved.max(estimate) } else { moved };
        total = total.saturating_add(estimate.max(moved));
        done = done.saturating_add(moved);
        remaining = remaining.saturating_add(estimate.saturating_sub(moved));
    }
    (remaining, done, total)
}

/// An address compared and hashed as [`Mailbox::key`] would make it (ASCII letters lower-cased), without making
/// it. A view's keys are lower-case already, so equal here means equal keys.
#[derive(Clone, Copy)]
struct AsciiCaseless<'a>(&'a str);

impl PartialEq for AsciiCaseless<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for AsciiCaseless<'_> {}

impl Hash for AsciiCaseless<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut buf = [0u8; 64];
        for chunk in self.0.as_bytes().chunks(buf.len()) {
            let lower = &mut buf[..chunk.len()];
            lower.copy_from_slice(chunk);
            lower.make_ascii_lowercase();
            state.write(lower);
        }
        state.write_u8(0xff);
    }
}

/// Percent of the estimated total moved, 0 to 100; `None` while nothing is estimated.
pub fn percent_complete(view: &BatchView, inventory: &[Mailbox]) -> Option<f64> {
    let (_, done, total) = volume(view, inventory);
    (total > 0).then(|| (done as f64 * 100.0 / total as f64).min(100.0))
}

/// When the initial sync may end, as a range, and what the range assumes.
#[derive(Debug, Clone, PartialEq)]
pub struct Eta {
    /// Time left at the fast end.
    pub low: std::time::Duration,
    pub high: std::time::Duration,
    pub remaining_bytes: u64,
    pub basis: EtaBasis,
    /// For the screen: "at the last hour's 120.0 MB/min ±25%".
    pub assumption: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtaBasis {
    /// The rolling rate of the last hour.
    RollingRate,
    /// No rate measured yet: stage 2's upload bandwidth at the link efficiency its estimate uses.
    Bandwidth,
}

/// The ETA of the initial sync: the remaining volume at the last hour's rate ±[`RATE_SPREAD`], or, before any
/// rate is measured, at the stage 2 upload bandwidth (its link efficiency range). `None` when neither is known;
/// zero when nothing remains.
pub fn eta(view: &BatchView, inventory: &[Mailbox], upload_mbit_s: Option<u32>, now: DateTime<Utc>) -> Option<Eta> {
    let (remaining, _, _) = volume(view, inventory);
    eta_of(remaining, view, upload_mbit_s, now)
}

/// [`eta`] with the remaining bytes of [`volume`] already known, so a screen that shows both reads the batch once.
pub fn eta_of(remaining: u64, view: &BatchView, upload_mbit_s: Option<u32>, now: DateTime<Utc>) -> Option<Eta> {
    let secs = |bytes_per_sec: f64| std::time::Duration::from_secs_f64((remaining as f64 / bytes_per_sec).min(1e9));
    let rate = throughput_mb_per_min(view, now).filter(|r| *r > 0.0);
    if remaining == 0 {
        let zero = std::time::Duration::ZERO;
        let basis = if rate.is_some() { EtaBasis::RollingRate } else { EtaBasis::Bandwidth };
        return Some(Eta { low: zero, high: zero, remaining_bytes: 0, basis, assumption: "nothing left".into() });
    }
    if let Some(rate) = rate {
        let per_sec = rate * MIB / 60.0;
        return Some(Eta {
            low: secs(per_sec * (1.0 + RATE_SPREAD)),
            high: secs(per_sec * (1.0 - RATE_SPREAD)),
            remaining_bytes: remaining,
            basis: EtaBasis::RollingRate,
            assumption: format!("at the last hour's {rate:.1} MB/min ±{:.0}%", RATE_SPREAD * 100.0),
        });
    }
    let mbit = f64::from(upload_mbit_s.filter(|n| *n > 0)?);
    let link = mbit * 1_000_000.0 / 8.0;
    Some(Eta {
        low: secs(link * LINK_EFFICIENCY.1),
        high: secs(link * LINK_EFFICIENCY.0),
        remaining_bytes: remaining,
        basis: EtaBasis::Bandwidth,
        assumption: format!(
            "no rate measured yet: a {mbit} Mbit/s upload at {:.0}–{:.0}% efficiency",
            LINK_EFFICIENCY.0 * 100.0,
            LINK_EFFICIENCY.1 * 100.0
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::super::view::tests::{read, stats, t0, user};
    use super::super::view::{BatchView, apply_poll};
    use super::*;
    use crate::m365::exo::values::UserStatus;

    const GIB: u64 = 1 << 30;

    /// One mailbox of 10 GiB moving 100 MiB a minute, polled every minute for `minutes`.
    fn moving(minutes: i64) -> BatchView {
        let mut view = BatchView::default();
        let a = "a@contoso.com";
        for i in 0..=minutes {
            let moved = i as u64 * 100 * (1 << 20);
            let s = stats(a, UserStatus::Syncing, i as u64, moved, 10 * GIB);
            apply_poll(
                &mut view,
                read(vec![user(a, UserStatus::Syncing, i as u64)], vec![s]),
                t0() + Duration::minutes(i),
            );
        }
        view
    }

    #[test]
    fn throughput_and_sparkline_over_the_last_hour() {
        let view = moving(90);
        let now = t0() + Duration::minutes(90);
        let rate = throughput_mb_per_min(&view, now).expect("rate");
        assert!((rate - 100.0).abs() < 0.01, "{rate}");
        let line = sparkline(&view, now, 60);
        assert_eq!(line.len(), 60);
        assert!(line.iter().all(|v| *v == 100), "{line:?}");
        assert_eq!(throughput_mb_per_min(&BatchView::default(), now), None);
    }

    #[test]
    fn the_rate_is_measured_on_exchanges_clock_when_it_jumps_ahead_of_ours() {
        use crate::plan::migrate::view::{PollFacts, PollResult};
        let poll = |synced: u64, bytes: u64, ahead_ms: i64| {
            PollResult::Read(Box::new(PollFacts {
                batch: None,
                users: vec![user("a@x.com", UserStatus::Syncing, synced)],
                statistics: vec![stats("a@x.com", UserStatus::Syncing, synced, bytes, 100 * 1_048_576 * 1_000)],
                service_ahead_ms: Some(ahead_ms),
            }))
        };
        let mut view = BatchView::default();
        apply_poll(&mut view, poll(1, 0, 0), t0());
        // Ten minutes on our clock, six hours and ten on Exchange's (a demo's `+`): 3,700 MB moved in them.
        let six_hours = 6 * 3_600_000;
        let now = t0() + Duration::minutes(10);
        apply_poll(&mut view, poll(2, 3_700 * 1_048_576, six_hours), now);
        let rate = throughput_mb_per_min(&view, view.service_time(now)).expect("rate");
        assert!((rate - 10.0).abs() < 0.01, "3,700 MB over 370 minutes, not over 10: {rate}");
    }

    #[test]
    fn the_eta_is_a_range_around_the_rolling_rate() {
        let view = moving(30);
        let now = t0() + Duration::minutes(30);
        // 10 GiB - 3000 MiB = 7240 MiB left at 100 MiB/min: 72.4 min, ±25%: 57.9 to 96.5 min.
        let e = eta(&view, &[], Some(100), now).expect("eta");
        assert_eq!(e.basis, EtaBasis::RollingRate);
        let (low, high) = (e.low.as_secs_f64() / 60.0, e.high.as_secs_f64() / 60.0);
        assert!((low - 57.92).abs() < 0.1 && (high - 96.53).abs() < 0.1, "{low} {high}");
        assert!(e.assumption.contains("100.0 MB/min ±25%"), "{}", e.assumption);
        let pct = percent_complete(&view, &[]).expect("percent");
        assert!((pct - 29.3).abs() < 0.1, "{pct}");
    }

    #[test]
    fn the_volume_finds_each_mailbox_in_the_inventory_whatever_the_case_of_its_address() {
        let csv = "\"DisplayName\",\"PrimarySmtpAddress\",\"UserPrincipalName\",\"TotalItemSizeBytes\"\n\
                   \"Pilar\",\"Pilar.Ackerman@Contoso.com\",\"pilar@contoso.local\",\"3000\"\n\
                   \"Other\",\"other@contoso.com\",\"other@contoso.local\",\"5000\"\n";
        let inventory = crate::inventory::csv::parse(csv.as_bytes()).expect("parses").mailboxes;
        let mut view = BatchView::default();
        let users =
            vec![user("pilar.ackerman@contoso.com", UserStatus::Syncing, 0), user("x@y.com", UserStatus::Queued, 0)];
        apply_poll(&mut view, read(users, vec![]), t0());
        // Pilar's 3,000 bytes from the inventory; x@y.com is not in it, so its size is unknown.
        assert_eq!(volume(&view, &inventory), (3000, 0, 3000));
    }

    #[test]
    fn before_any_rate_the_eta_rests_on_the_bandwidth_setting() {
        let mut view = BatchView::default();
        let a = "a@contoso.com";
        apply_poll(
            &mut view,
            read(vec![user(a, UserStatus::Syncing, 0)], vec![stats(a, UserStatus::Syncing, 0, 0, 45 * 1_000_000_000)]),
            t0(),
        );
        // 45 GB over 100 Mbit/s (12.5 MB/s): 1 h at full speed, so 1.25 h to 2 h at 80% to 50%.
        let e = eta(&view, &[], Some(100), t0()).expect("eta");
        assert_eq!(e.basis, EtaBasis::Bandwidth);
        assert_eq!((e.low.as_secs(), e.high.as_secs()), (4500, 7200));
        assert!(e.assumption.contains("100 Mbit/s"), "{}", e.assumption);
        assert_eq!(eta(&view, &[], None, t0()), None, "no rate and no bandwidth: no guess");
    }
}
