//! The migration engine: each mailbox of a cutover batch moves through Exchange's state sequence at a rate set
//! by its size, the per-move throughput, the shared bandwidth and MaxConcurrentMigrations, driven by the simulated
//! clock. Mail arriving at the old MX is picked up by the next incremental sync (every 24 simulated hours, or on
//! demand; a mailbox's `incremental_late_hours` puts its own later); completion runs one last incremental
//! sync, and a mailbox with skipped items not approved ends CompletionFailed; failures come the way real ones do.

use chrono::{DateTime, Duration, Utc};

use super::scenario::{Failure, MailboxSpec, MigrationSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Queued,
    Provisioning,
    Syncing,
    Synced,
    IncrementalSyncing,
    Completing,
    Completed,
    CompletedWithWarnings,
    /// The last sync ran but completion refused: skipped items were not approved.
    CompletionFailed,
    Stopped,
    Failed,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Queued => "Queued",
            UserStatus::Provisioning => "Provisioning",
            UserStatus::Syncing => "Syncing",
            UserStatus::Synced => "Synced",
            UserStatus::IncrementalSyncing => "IncrementalSyncing",
            UserStatus::Completing => "Completing",
            UserStatus::Completed => "Completed",
            UserStatus::CompletedWithWarnings => "CompletedWithWarnings",
            UserStatus::CompletionFailed => "CompletionFailed",
            UserStatus::Stopped => "Stopped",
            UserStatus::Failed => "Failed",
        }
    }

    /// Whether the move holds one of the MaxConcurrentMigrations slots.
    fn active(self) -> bool {
        matches!(
            self,
            UserStatus::Provisioning | UserStatus::Syncing | UserStatus::IncrementalSyncing | UserStatus::Completing
        )
    }
}

/// One mailbox's move.
#[derive(Debug, Clone)]
pub struct Move {
    pub status: UserStatus,
    pub bytes_total: f64,
    pub bytes_done: f64,
    pub items_total: f64,
    pub items_done: f64,
    /// Arrived at the source since the last successful sync.
    pub pending_items: f64,
    pub pending_bytes: f64,
    pub skipped: u32,
    pub skipped_approved: bool,
    pub error: Option<String>,
    pub last_sync: Option<DateTime<Utc>>,
    pub next_incremental: Option<DateTime<Utc>>,
    /// End of provisioning, or when a stall turns into a failure.
    pub until: Option<DateTime<Utc>>,
    /// Whether the move was already retried: a stall does not come back; a poisoned job fails again, as the
    /// corrupt data that poisoned it is still there.
    pub retried: bool,
    /// Queued to complete once its current sync ends.
    pub completing: bool,
    /// True once provisioned in the cloud (a directory user and a mailbox exist).
    pub provisioned: bool,
    pub stalled_since: Option<DateTime<Utc>>,
}

/// What the engine reports back so the caller can provision cloud users.
#[derive(Debug, Default)]
pub struct Events {
    pub provisioned: Vec<usize>,
}

const GB: f64 = 1_073_741_824.0;
const PROVISIONING_SECONDS: i64 = 120;
const STALL_TIMEOUT_HOURS: i64 = 2;

impl Move {
    pub fn new(spec: &MailboxSpec) -> Move {
        Move {
            status: UserStatus::Queued,
            bytes_total: spec.size_gb * GB,
            bytes_done: 0.0,
            items_total: spec.items as f64,
            items_done: 0.0,
            pending_items: 0.0,
            pending_bytes: 0.0,
            skipped: 0,
            skipped_approved: false,
            error: None,
            last_sync: None,
            next_incremental: None,
            until: None,
            retried: false,
            completing: false,
            provisioned: false,
            stalled_since: None,
        }
    }

    pub fn percent(&self) -> u32 {
        if self.bytes_total <= 0.0 {
            100
        } else {
            ((self.bytes_done / self.bytes_total) * 100.0).floor().min(100.0) as u32
        }
    }
}

/// Engine parameters that stay fixed while it runs.
#[derive(Debug, Clone)]
pub struct Params {
    pub per_mailbox_bytes_per_sec: f64,
    pub bandwidth_bytes_per_sec: f64,
    pub incremental_interval: Duration,
    pub new_items_per_sec: f64,
    pub new_item_bytes: f64,
}

impl Params {
    pub fn new(m: &MigrationSpec) -> Params {
        Params {
            per_mailbox_bytes_per_sec: m.gb_per_hour_per_mailbox * GB / 3600.0,
            bandwidth_bytes_per_sec: m.bandwidth_mbps * 1_000_000.0 / 8.0,
            incremental_interval: Duration::milliseconds((m.incremental_interval_hours * 3_600_000.0) as i64),
            new_items_per_sec: f64::from(m.new_items_per_day) / 86_400.0,
            new_item_bytes: m.new_item_bytes as f64,
        }
    }
}

/// Advances every move from `from` to `to`, event by event. `mx_at_source`: new mail still lands on the source.
/// `refused[i]`: why the tenant refuses to provision mailbox `i` (its domain not accepted, an address already
/// held by another object), as the move's error; absent or `None`: it provisions.
#[allow(clippy::too_many_arguments)]
pub fn advance(
    moves: &mut [Move],
    specs: &[MailboxSpec],
    p: &Params,
    max_concurrent: usize,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mx_at_source: bool,
    refused: &[Option<String>],
) -> Events {
    let mut events = Events::default();
    let mut t = from;
    // Bounded: each pass reaches at least one event or `to`.
    for _ in 0..(moves.len() * 64 + 1024) {
        if t >= to {
            break;
        }
        // Fill the free slots in order.
        let mut active = moves.iter().filter(|m| m.status.active()).count();
        for m in moves.iter_mut() {
            if active >= max_concurrent {
                break;
            }
            if m.status == UserStatus::Queued {
                m.status = UserStatus::Provisioning;
                m.until = Some(t + Duration::seconds(PROVISIONING_SECONDS));
                active += 1;
            }
        }
        let transferring = moves
            .iter()
            .filter(|m| {
                matches!(m.status, UserStatus::Syncing | UserStatus::IncrementalSyncing | UserStatus::Completing)
            })
            .count()
            .max(1);
        let rate = p.per_mailbox_bytes_per_sec.min(p.bandwidth_bytes_per_sec / transferring as f64);
        // The next event: a provisioning end, a transfer end, a stall point, an incremental due, or `to`.
        let mut next = to;
        for (m, s) in moves.iter_mut().zip(specs) {
            if matches!(m.status, UserStatus::IncrementalSyncing | UserStatus::Completing) && m.until.is_none() {
                m.until = Some(t + secs(m.pending_bytes.max(0.0) / rate + 30.0));
            }
            let at = match m.status {
                UserStatus::Provisioning => m.until,
                UserStatus::Syncing => {
                    let stop_at = match (&s.failure, m.retried) {
                        (Some(Failure::Stall { at }), false) => m.bytes_total * at,
                        (Some(Failure::Poison), _) => m.bytes_total * 0.3,
                        _ => m.bytes_total,
                    };
                    if m.stalled_since.is_some() {
                        m.until
                    } else {
                        Some(t + secs((stop_at - m.bytes_done).max(0.0) / rate))
                    }
                }
                UserStatus::IncrementalSyncing | UserStatus::Completing => m.until,
                UserStatus::Synced => m.next_incremental,
                _ => None,
            };
            if let Some(at) = at
                && at < next
            {
                next = at.max(t);
            }
        }
        let dt = (next - t).num_milliseconds() as f64 / 1000.0;
        for m in moves.iter_mut() {
            if mx_at_source && !matches!(m.status, UserStatus::Completed | UserStatus::CompletedWithWarnings) {
                m.pending_items += p.new_items_per_sec * dt;
                m.pending_bytes += p.new_items_per_sec * dt * p.new_item_bytes;
            }
            if m.status == UserStatus::Syncing && m.stalled_since.is_none() {
                let share = (rate * dt).min(m.bytes_total - m.bytes_done).max(0.0);
                m.bytes_done += share;
                if m.bytes_total > 0.0 {
                    m.items_done = (m.items_total * m.bytes_done / m.bytes_total).floor();
                }
            }
        }
        t = next;
        for (i, (m, s)) in moves.iter_mut().zip(specs).enumerate() {
            step(i, m, s, p, t, refused.get(i).and_then(Option::as_deref), &mut events);
        }
    }
    events
}

fn secs(s: f64) -> Duration {
    Duration::milliseconds((s * 1000.0).ceil() as i64)
}

/// Handles whatever is due for one move at `t`.
fn step(i: usize, m: &mut Move, s: &MailboxSpec, p: &Params, t: DateTime<Utc>, refused: Option<&str>, ev: &mut Events) {
    let due = |at: Option<DateTime<Utc>>| at.is_some_and(|a| a <= t);
    match m.status {
        UserStatus::Provisioning if due(m.until) => {
            m.until = None;
            if s.hidden {
                m.status = UserStatus::Failed;
                m.error = Some(format!(
                    "Error: MigrationPermanentException: The mailbox '{}' is hidden from address lists, so the migration service can't find it. Clear HiddenFromAddressListsEnabled on the source mailbox and start the batch again.",
                    s.alias
                ));
            } else if let Some(why) = refused {
                m.status = UserStatus::Failed;
                m.error = Some(why.to_owned());
            } else {
                if !m.provisioned {
                    m.provisioned = true;
                    ev.provisioned.push(i);
                }
                m.status = UserStatus::Syncing;
            }
        }
        UserStatus::Syncing => {
            if m.stalled_since.is_some() {
                if due(m.until) {
                    m.status = UserStatus::Failed;
                    m.stalled_since = None;
                    m.until = None;
                    m.error = Some("Error: SyncTimeoutException: The migration job has stalled: the source server didn't respond in time. Check the source server's health and the RPC proxy, then start the batch again to retry.".into());
                }
                return;
            }
            let stop = match (&s.failure, m.retried) {
                (Some(Failure::Stall { at }), false) => Some(("stall", *at)),
                (Some(Failure::Poison), _) => Some(("poison", 0.3)),
                _ => None,
            };
            if let Some((kind, at)) = stop
                && m.bytes_done + 1.0 >= m.bytes_total * at
            {
                if kind == "stall" {
                    m.stalled_since = Some(t);
                    m.until = Some(t + Duration::hours(STALL_TIMEOUT_HOURS));
                } else {
                    m.status = UserStatus::Failed;
                    m.error = Some("Error: MigrationPermanentException: The job was quarantined after it failed repeatedly (poisoned job). Start the batch again to retry it; if it fails again, check the mailbox for corruption.".into());
                }
                return;
            }
            if m.bytes_done + 1.0 >= m.bytes_total {
                m.bytes_done = m.bytes_total;
                m.items_done = m.items_total;
                if let Some(Failure::LargeItems { count }) = &s.failure {
                    m.skipped = *count;
                    m.items_done -= f64::from(*count);
                }
                finish_sync(m, s, p, t);
            }
        }
        UserStatus::IncrementalSyncing | UserStatus::Completing if due(m.until) => {
            m.until = None;
            finish_sync(m, s, p, t);
        }
        UserStatus::Synced if due(m.next_incremental) => {
            m.status = UserStatus::IncrementalSyncing;
        }
        _ => {}
    }
}

fn finish_sync(m: &mut Move, s: &MailboxSpec, p: &Params, t: DateTime<Utc>) {
    let items = m.pending_items.floor();
    m.items_total += items;
    m.items_done += items;
    m.bytes_total += m.pending_bytes;
    m.bytes_done += m.pending_bytes;
    m.pending_items -= items;
    m.pending_bytes = 0.0;
    m.last_sync = Some(t);
    if m.status == UserStatus::Completing {
        m.next_incremental = None;
        m.completing = false;
        if m.skipped > 0 && !m.skipped_approved {
            m.status = UserStatus::CompletionFailed;
            m.error = Some(format!(
                "Error: MigrationPermanentException: The mailbox has {} skipped item(s) that haven't been approved, so it can't be completed. Approve them with Set-MigrationUser -ApproveSkippedItems, then run Complete-MigrationBatch again.",
                m.skipped
            ));
        } else {
            m.status = if m.skipped > 0 { UserStatus::CompletedWithWarnings } else { UserStatus::Completed };
            m.error = None;
        }
    } else if m.completing {
        m.status = UserStatus::Completing;
        m.until = None;
    } else {
        m.status = UserStatus::Synced;
        let late = Duration::milliseconds((s.incremental_late_hours.max(0.0) * 3_600_000.0) as i64);
        m.next_incremental = Some(t + p.incremental_interval + late);
    }
}

/// Exchange's ByteQuantifiedSize text: `"28.45 GB (30,551,458,399 bytes)"`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let rounded = (value * 100.0).floor() / 100.0;
    let mut number = format!("{rounded:.2}");
    while number.contains('.') && (number.ends_with('0') || number.ends_with('.')) {
        number.pop();
    }
    format!("{number} {} ({} bytes)", UNITS[unit], group(bytes))
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_exchange() {
        assert_eq!(format_size(30_551_458_399), "28.45 GB (30,551,458,399 bytes)");
        assert_eq!(format_size(0), "0 B (0 bytes)");
        assert_eq!(format_size(1_610_612_736), "1.5 GB (1,610,612,736 bytes)");
        assert_eq!(format_size(1023), "1023 B (1,023 bytes)");
    }

    #[test]
    fn moves_respect_concurrency_and_finish() {
        let specs: Vec<MailboxSpec> = (0..5)
            .map(|i| MailboxSpec {
                alias: format!("u{i}"),
                display_name: format!("U {i}"),
                size_gb: 1.0,
                items: 1000,
                recoverable_items_gb: 0.0,
                vip: false,
                hidden: i == 4,
                kind: Default::default(),
                never_logged_on: false,
                incremental_late_hours: 0.0,
                failure: None,
            })
            .collect();
        let mut moves: Vec<Move> = specs.iter().map(Move::new).collect();
        let p = Params::new(&MigrationSpec::default());
        let t0 = Utc::now();
        advance(&mut moves, &specs, &p, 2, t0, t0 + Duration::seconds(10), true, &[]);
        assert_eq!(moves.iter().filter(|m| m.status.active()).count(), 2);
        let ev = advance(&mut moves, &specs, &p, 2, t0 + Duration::seconds(10), t0 + Duration::hours(6), true, &[]);
        assert_eq!(ev.provisioned.len(), 4);
        assert!(moves[..4].iter().all(|m| m.status == UserStatus::Synced), "{moves:?}");
        assert_eq!(moves[4].status, UserStatus::Failed);
        assert!(moves[0].items_done >= 1000.0);
    }

    #[test]
    fn a_stall_times_out_and_a_retry_gets_through() {
        let specs = vec![MailboxSpec {
            alias: "accounts".into(),
            display_name: "Accounts".into(),
            size_gb: 2.0,
            items: 20_000,
            recoverable_items_gb: 0.0,
            vip: false,
            hidden: false,
            kind: Default::default(),
            never_logged_on: false,
            incremental_late_hours: 0.0,
            failure: Some(Failure::Stall { at: 0.5 }),
        }];
        let mut moves: Vec<Move> = specs.iter().map(Move::new).collect();
        let p = Params::new(&MigrationSpec::default());
        let t0 = Utc::now();
        advance(&mut moves, &specs, &p, 20, t0, t0 + Duration::hours(2), true, &[]);
        assert_eq!(moves[0].status, UserStatus::Syncing);
        assert!(moves[0].stalled_since.is_some());
        assert_eq!(moves[0].percent(), 50);
        advance(&mut moves, &specs, &p, 20, t0 + Duration::hours(2), t0 + Duration::hours(4), true, &[]);
        assert_eq!(moves[0].status, UserStatus::Failed);
        assert!(moves[0].error.as_deref().unwrap_or("").contains("SyncTimeoutException"));
        moves[0].status = UserStatus::Queued;
        moves[0].retried = true;
        advance(&mut moves, &specs, &p, 20, t0 + Duration::hours(4), t0 + Duration::hours(8), true, &[]);
        assert_eq!(moves[0].status, UserStatus::Synced);
        assert!(moves[0].last_sync.is_some());
    }

    #[test]
    fn a_poisoned_job_fails_again_when_retried() {
        let specs = vec![MailboxSpec {
            alias: "k.brown".into(),
            display_name: "Kim Brown".into(),
            size_gb: 1.0,
            items: 8_000,
            recoverable_items_gb: 0.0,
            vip: false,
            hidden: false,
            kind: Default::default(),
            never_logged_on: false,
            incremental_late_hours: 0.0,
            failure: Some(Failure::Poison),
        }];
        let mut moves: Vec<Move> = specs.iter().map(Move::new).collect();
        let p = Params::new(&MigrationSpec::default());
        let t0 = Utc::now();
        advance(&mut moves, &specs, &p, 20, t0, t0 + Duration::hours(4), true, &[]);
        assert_eq!(moves[0].status, UserStatus::Failed);
        assert_eq!(moves[0].percent(), 30);
        moves[0].status = UserStatus::Queued;
        moves[0].error = None;
        moves[0].retried = true;
        advance(&mut moves, &specs, &p, 20, t0 + Duration::hours(4), t0 + Duration::hours(8), true, &[]);
        assert_eq!(moves[0].status, UserStatus::Failed);
        assert!(moves[0].error.as_deref().unwrap_or("").contains("MigrationPermanentException"));
    }
}
