//! Totals of the inventory and an estimate of the initial sync, as a range with its assumptions stated.
//!
//! Microsoft publishes no per-mailbox rate for Outlook Anywhere cutover migrations; the range below assumes what
//! such migrations commonly reach, and the evidence text says so.

use super::Mailbox;
use super::size::format_size;
use std::time::Duration;

/// Share of the nominal upload bandwidth a migration really gets (protocol overhead, other traffic).
pub const LINK_EFFICIENCY: (f64, f64) = (0.5, 0.8);
/// What one mailbox migration moves per hour, slow and fast, in bytes.
pub const PER_MAILBOX_BYTES_PER_HOUR: (f64, f64) = (0.5 * GIB, 1.5 * GIB);
/// `MaxConcurrentMigrations` of a new migration endpoint, and its maximum.
pub const DEFAULT_CONCURRENCY: u32 = 20;
pub const MAX_CONCURRENCY: u32 = 100;

const GIB: f64 = 1_073_741_824.0;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub mailboxes: usize,
    pub total_bytes: u64,
    pub total_items: u64,
    pub recoverable_bytes: u64,
    /// The largest mailbox's address and size.
    pub largest: Option<(String, u64)>,
}

pub fn totals(mailboxes: &[Mailbox]) -> Totals {
    let largest =
        mailboxes.iter().max_by_key(|m| m.total_item_size).map(|m| (m.primary_smtp.clone(), m.total_item_size));
    Totals {
        mailboxes: mailboxes.len(),
        // Saturating: a total that cannot be told is shown at its ceiling, never wrapped below the largest mailbox.
        total_bytes: mailboxes.iter().fold(0, |sum, m| sum.saturating_add(m.total_item_size)),
        total_items: mailboxes.iter().fold(0, |sum, m| sum.saturating_add(m.item_count)),
        recoverable_bytes: mailboxes.iter().fold(0, |sum, m| sum.saturating_add(m.deleted_item_size)),
        largest,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EstimateError {
    #[error("upload bandwidth must be a positive number of Mbit/s (the customer's internet upload speed)")]
    Bandwidth,
    #[error("concurrency must be 1 to {MAX_CONCURRENCY} (MaxConcurrentMigrations of the endpoint; 20 by default)")]
    Concurrency,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    pub fastest: Duration,
    pub slowest: Duration,
    /// The assumptions, for the evidence text.
    pub assumption: String,
}

/// How long the initial sync of every mailbox takes: the whole volume through the link or through the
/// concurrent migrations, whichever is slower, and never less than the largest mailbox on its own.
pub fn initial_sync(t: &Totals, upload_mbit_s: f64, concurrency: u32) -> Result<Estimate, EstimateError> {
    if !upload_mbit_s.is_finite() || upload_mbit_s <= 0.0 {
        return Err(EstimateError::Bandwidth);
    }
    if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
        return Err(EstimateError::Concurrency);
    }
    let link_bytes_per_hour = upload_mbit_s * 1_000_000.0 / 8.0 * 3600.0;
    let hours = |efficiency: f64, per_mailbox: f64| {
        let rate = (link_bytes_per_hour * efficiency).min(per_mailbox * f64::from(concurrency));
        let whole = t.total_bytes as f64 / rate;
        let largest = t.largest.as_ref().map_or(0.0, |(_, b)| *b as f64 / per_mailbox);
        whole.max(largest)
    };
    let to_duration = |h: f64| Duration::from_secs((h * 3600.0).ceil() as u64);
    let fastest = to_duration(hours(LINK_EFFICIENCY.1, PER_MAILBOX_BYTES_PER_HOUR.1));
    let slowest = to_duration(hours(LINK_EFFICIENCY.0, PER_MAILBOX_BYTES_PER_HOUR.0));
    let assumption = format!(
        "{} over a {upload_mbit_s} Mbit/s upload at {:.0}–{:.0}% efficiency, {concurrency} mailboxes at a time, each moving {:.1}–{:.1} GB/h; Recoverable Items not counted",
        format_size(t.total_bytes),
        LINK_EFFICIENCY.0 * 100.0,
        LINK_EFFICIENCY.1 * 100.0,
        PER_MAILBOX_BYTES_PER_HOUR.0 / GIB,
        PER_MAILBOX_BYTES_PER_HOUR.1 / GIB,
    );
    Ok(Estimate { fastest, slowest, assumption })
}

/// `1 h 30 min`, `2 days 4 h`.
pub fn format_duration(d: Duration) -> String {
    let minutes = d.as_secs().div_ceil(60);
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, h) => format!("{h} h {mins} min"),
        (d, h) => format!("{d} day{} {h} h", if d == 1 { "" } else { "s" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals_of(total_gib: f64, largest_gib: f64) -> Totals {
        Totals {
            mailboxes: 10,
            total_bytes: (total_gib * GIB) as u64,
            total_items: 0,
            recoverable_bytes: 0,
            largest: Some(("big@contoso.com".into(), (largest_gib * GIB) as u64)),
        }
    }

    #[test]
    fn a_slow_link_bounds_the_sync() {
        // 100 Mbit/s = 45 GB/h nominal (decimal) = about 41.9 GiB/h; 80% of it is about 33.5 GiB/h.
        let e = initial_sync(&totals_of(335.0, 1.0), 100.0, 100).expect("estimate");
        let h = e.fastest.as_secs_f64() / 3600.0;
        assert!((9.9..10.1).contains(&h), "{h}");
        assert!(e.slowest > e.fastest);
        assert!(e.assumption.contains("100 Mbit/s"));
    }

    #[test]
    fn concurrency_bounds_the_sync_on_a_fast_link() {
        // 20 mailboxes at 1.5 GiB/h = 30 GiB/h, below a 10 Gbit/s link.
        let e = initial_sync(&totals_of(300.0, 1.0), 10_000.0, 20).expect("estimate");
        assert_eq!(e.fastest, Duration::from_secs(10 * 3600));
    }

    #[test]
    fn the_largest_mailbox_is_a_floor() {
        let e = initial_sync(&totals_of(60.0, 60.0), 10_000.0, 100).expect("estimate");
        assert_eq!(e.fastest, Duration::from_secs(40 * 3600));
        assert_eq!(e.slowest, Duration::from_secs(120 * 3600));
    }

    #[test]
    fn totals_never_overflow() {
        let huge = crate::inventory::Mailbox {
            display_name: String::new(),
            primary_smtp: "a@c.com".into(),
            upn: String::new(),
            proxy_addresses: Vec::new(),
            recipient_type: crate::inventory::RecipientType::UserMailbox,
            total_item_size: u64::MAX / 2 + 1,
            item_count: u64::MAX,
            deleted_item_size: u64::MAX,
            archive: crate::inventory::Archive::None,
            hidden: false,
            forwarding: None,
            last_logon: None,
            database: String::new(),
            legacy_exchange_dn: String::new(),
        };
        let t = totals(&[huge.clone(), huge]);
        assert_eq!((t.total_bytes, t.total_items, t.recoverable_bytes), (u64::MAX, u64::MAX, u64::MAX));
        assert!(t.total_bytes >= t.largest.map_or(0, |(_, b)| b), "the total is never below the largest mailbox");
    }

    #[test]
    fn nonsense_inputs_are_refused() {
        let t = totals_of(1.0, 1.0);
        assert_eq!(initial_sync(&t, 0.0, 20), Err(EstimateError::Bandwidth));
        assert_eq!(initial_sync(&t, f64::NAN, 20), Err(EstimateError::Bandwidth));
        assert_eq!(initial_sync(&t, 100.0, 0), Err(EstimateError::Concurrency));
        assert_eq!(initial_sync(&t, 100.0, 101), Err(EstimateError::Concurrency));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_secs(59)), "1 min");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1 h 30 min");
        assert_eq!(format_duration(Duration::from_secs(86_400 + 4 * 3600)), "1 day 4 h");
        assert_eq!(format_duration(Duration::from_secs(3 * 86_400)), "3 days 0 h");
    }
}
