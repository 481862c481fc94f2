//! High-risk mailboxes: the ones the service asks the client to name (VIPs, 50 GB mailboxes, 30 GB of
//! Recoverable Items), plus what stops or slows a cutover (hidden from address lists, over Exchange Online's
//! mailbox limit, very many items). Each flag carries its reason and what to do.

use super::size::format_size;
use super::{Mailbox, RecipientType};
use crate::text::group_thousands;
use serde::{Deserialize, Serialize};

pub const GIB: u64 = 1 << 30;

/// The thresholds, kept per project so an engineer can adjust them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    pub large_mailbox_bytes: u64,
    pub large_recoverable_bytes: u64,
    /// Exchange Online's mailbox size limit without an archive.
    pub exo_limit_bytes: u64,
    pub many_items: u64,
    /// What a shared mailbox may hold in Exchange Online without a licence of its own.
    pub shared_unlicensed_bytes: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            large_mailbox_bytes: 50 * GIB,
            large_recoverable_bytes: 30 * GIB,
            exo_limit_bytes: 100 * GIB,
            many_items: 500_000,
            shared_unlicensed_bytes: 50 * GIB,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskFlag {
    Vip,
    LargeMailbox(u64),
    OverExoLimit(u64),
    LargeRecoverableItems(u64),
    Hidden,
    ManyItems(u64),
    SharedNeedsLicence(u64),
}

impl RiskFlag {
    /// A few characters for a table column.
    pub fn label(self) -> &'static str {
        match self {
            RiskFlag::Vip => "VIP",
            RiskFlag::LargeMailbox(_) => "large",
            RiskFlag::OverExoLimit(_) => "over limit",
            RiskFlag::LargeRecoverableItems(_) => "RI large",
            RiskFlag::Hidden => "hidden",
            RiskFlag::ManyItems(_) => "many items",
            RiskFlag::SharedNeedsLicence(_) => "needs licence",
        }
    }

    /// Whether the mailbox will not migrate as it stands.
    pub fn blocks_migration(self) -> bool {
        matches!(self, RiskFlag::Hidden | RiskFlag::OverExoLimit(_))
    }

    /// Why it is flagged and what to do about it.
    pub fn reason(self, t: &Thresholds) -> String {
        match self {
            RiskFlag::Vip => "VIP: check this mailbox first after each sync and at cutover".to_owned(),
            RiskFlag::LargeMailbox(b) => format!(
                "{} mailbox (≥ {}): its initial sync is long; start the batch early and watch it",
                format_size(b),
                format_size(t.large_mailbox_bytes)
            ),
            RiskFlag::OverExoLimit(b) => format!(
                "{} mailbox is over Exchange Online's {} limit without an archive: archive or clean it up before the batch, or it will not complete",
                format_size(b),
                format_size(t.exo_limit_bytes)
            ),
            RiskFlag::LargeRecoverableItems(b) => format!(
                "{} in Recoverable Items (≥ {}): ask whether it must move; purge it or plan for the extra sync time",
                format_size(b),
                format_size(t.large_recoverable_bytes)
            ),
            RiskFlag::Hidden => "hidden from address lists: a cutover batch does not see it. Unhide it (Set-Mailbox -HiddenFromAddressListsEnabled $false) before the batch starts, hide it again after".to_owned(),
            RiskFlag::SharedNeedsLicence(b) => format!(
                "shared mailbox of {}: over {} a shared mailbox needs an Exchange Online Plan 2 licence; count it in stage 3",
                format_size(b),
                format_size(t.shared_unlicensed_bytes)
            ),
            RiskFlag::ManyItems(n) => format!(
                "{} items (≥ {}): item count, not size, drives sync time; expect a slow sync",
                group_thousands(n),
                group_thousands(t.many_items)
            ),
        }
    }
}

/// The flags of one mailbox, most serious first.
pub fn flags(mailbox: &Mailbox, vip: bool, t: &Thresholds) -> Vec<RiskFlag> {
    let mut flags = Vec::new();
    if mailbox.hidden {
        flags.push(RiskFlag::Hidden);
    }
    if mailbox.total_item_size > t.exo_limit_bytes {
        flags.push(RiskFlag::OverExoLimit(mailbox.total_item_size));
    } else if mailbox.total_item_size >= t.large_mailbox_bytes {
        flags.push(RiskFlag::LargeMailbox(mailbox.total_item_size));
    }
    if mailbox.deleted_item_size >= t.large_recoverable_bytes {
        flags.push(RiskFlag::LargeRecoverableItems(mailbox.deleted_item_size));
    }
    if mailbox.recipient_type == RecipientType::SharedMailbox && mailbox.total_item_size > t.shared_unlicensed_bytes {
        flags.push(RiskFlag::SharedNeedsLicence(mailbox.total_item_size));
    }
    if mailbox.item_count >= t.many_items {
        flags.push(RiskFlag::ManyItems(mailbox.item_count));
    }
    if vip {
        flags.push(RiskFlag::Vip);
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Archive;

    fn mailbox(size_gib: u64, deleted_gib: u64, items: u64, hidden: bool) -> Mailbox {
        Mailbox {
            display_name: "M".into(),
            primary_smtp: "m@contoso.com".into(),
            upn: String::new(),
            proxy_addresses: Vec::new(),
            recipient_type: RecipientType::UserMailbox,
            total_item_size: size_gib * GIB,
            item_count: items,
            deleted_item_size: deleted_gib * GIB,
            archive: Archive::None,
            hidden,
            forwarding: None,
            last_logon: None,
            database: String::new(),
            legacy_exchange_dn: String::new(),
        }
    }

    #[test]
    fn thresholds_are_inclusive_at_50_and_30_gb() {
        let t = Thresholds::default();
        assert!(flags(&mailbox(49, 29, 10, false), false, &t).is_empty());
        assert_eq!(
            flags(&mailbox(50, 30, 10, false), false, &t),
            vec![RiskFlag::LargeMailbox(50 * GIB), RiskFlag::LargeRecoverableItems(30 * GIB)]
        );
    }

    #[test]
    fn over_the_limit_replaces_large_and_blocks() {
        let t = Thresholds::default();
        let f = flags(&mailbox(101, 0, 10, false), false, &t);
        assert_eq!(f, vec![RiskFlag::OverExoLimit(101 * GIB)]);
        assert!(f[0].blocks_migration());
        assert!(f[0].reason(&t).contains("100.00 GB"));
    }

    #[test]
    fn a_shared_mailbox_over_50_gb_needs_a_licence() {
        let t = Thresholds::default();
        let mut m = mailbox(51, 0, 10, false);
        m.recipient_type = RecipientType::SharedMailbox;
        let f = flags(&m, false, &t);
        assert_eq!(f, vec![RiskFlag::LargeMailbox(51 * GIB), RiskFlag::SharedNeedsLicence(51 * GIB)]);
        assert!(f[1].reason(&t).contains("Exchange Online Plan 2"));
        m.total_item_size = 50 * GIB;
        assert!(!flags(&m, false, &t).contains(&RiskFlag::SharedNeedsLicence(50 * GIB)), "50 GB itself is allowed");
    }

    #[test]
    fn hidden_vip_and_many_items_are_flagged_with_the_fix() {
        let t = Thresholds::default();
        let f = flags(&mailbox(1, 0, 600_000, true), true, &t);
        assert_eq!(f, vec![RiskFlag::Hidden, RiskFlag::ManyItems(600_000), RiskFlag::Vip]);
        assert!(f[0].reason(&t).contains("HiddenFromAddressListsEnabled $false"));
        assert!(f[1].reason(&t).contains("600,000 items"));
    }
}
