//! A rehearsal world: a scenario whose mailboxes are the customer's own, from an inventory CSV in the stage 2
//! format (`assets/Get-CutoverInventory.ps1`), so `cutover demo --inventory FILE` moves the real mailbox set —
//! its sizes, item counts, Recoverable Items, hidden and never-opened mailboxes, shared and resource mailboxes —
//! at the customer's bandwidth. The base scenario gives the tenant, the source server, DNS and faults; its own
//! mailboxes, groups and contacts (a made-up customer's) are dropped. Addresses are rebuilt as
//! `alias@<the inventory's most common domain>`, as the simulator addresses every mailbox on the primary domain.

use super::SimError;
use super::scenario::{MailboxKind, MailboxSpec, Scenario};
use crate::inventory::{Mailbox, RecipientType};
use std::collections::{BTreeMap, HashSet};

const GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// `base` with the inventory's mailboxes; `bandwidth_mbit` (the customer's upload) replaces the base's link.
pub fn from_inventory(
    mut base: Scenario,
    label: &str,
    mailboxes: &[Mailbox],
    bandwidth_mbit: Option<f64>,
) -> Result<Scenario, SimError> {
    let refuse = |reason: String| SimError::Scenario { scenario: label.to_owned(), reason };
    if mailboxes.is_empty() {
        return Err(refuse("the inventory holds no mailbox to rehearse with".into()));
    }
    if let Some(b) = bandwidth_mbit
        && !(b > 0.0 && b.is_finite())
    {
        return Err(refuse(format!("bandwidth {b} Mbit/s: give the customer's upload speed, above 0")));
    }
    base.domains_from(mailboxes);
    let mut seen = HashSet::new();
    base.mailboxes = mailboxes
        .iter()
        .map(|m| {
            let local = m.primary_smtp.split('@').next().unwrap_or_default().trim().to_ascii_lowercase();
            let local = if local.is_empty() { "mailbox".to_owned() } else { local };
            // The same local part on two domains: the second gets a number, since the simulator has one domain.
            let alias = (1..)
                .map(|n| if n == 1 { local.clone() } else { format!("{local}{n}") })
                .find(|a| !seen.contains(a))
                .unwrap_or_else(|| local.clone());
            seen.insert(alias.clone());
            MailboxSpec {
                alias,
                display_name: m.display_name.clone(),
                size_gb: m.total_item_size as f64 / GB,
                items: m.item_count,
                recoverable_items_gb: m.deleted_item_size as f64 / GB,
                vip: false,
                hidden: m.hidden,
                kind: match m.recipient_type {
                    RecipientType::SharedMailbox => MailboxKind::Shared,
                    RecipientType::RoomMailbox => MailboxKind::Room,
                    RecipientType::EquipmentMailbox => MailboxKind::Equipment,
                    _ => MailboxKind::User,
                },
                never_logged_on: m.last_logon.is_none(),
                incremental_late_hours: 0.0,
                failure: None,
            }
        })
        .collect();
    base.tenant.groups.clear();
    base.tenant.contacts.clear();
    // Enough licences for every mailbox, as the customer buys them before the cutover.
    let needed = u32::try_from(base.mailboxes.len()).unwrap_or(u32::MAX);
    if let Some(l) = base.tenant.licences.first_mut() {
        l.prepaid = l.prepaid.max(l.consumed.saturating_add(needed));
    }
    if let Some(b) = bandwidth_mbit {
        base.migration.bandwidth_mbps = b;
    }
    base.name = format!("{} (rehearsal of {label})", base.name);
    base.checked().map_err(refuse)
}

/// `base` at the customer's bandwidth, with its own mailboxes.
pub fn with_bandwidth(mut base: Scenario, bandwidth_mbit: f64) -> Result<Scenario, SimError> {
    if !(bandwidth_mbit > 0.0 && bandwidth_mbit.is_finite()) {
        return Err(SimError::Scenario {
            scenario: base.name,
            reason: format!("bandwidth {bandwidth_mbit} Mbit/s: give the customer's upload speed, above 0"),
        });
    }
    base.migration.bandwidth_mbps = bandwidth_mbit;
    Ok(base)
}

impl Scenario {
    /// The inventory's primary-address domains, the most common first, as the tenant's email domains.
    fn domains_from(&mut self, mailboxes: &[Mailbox]) {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for m in mailboxes {
            if let Some((_, d)) = m.primary_smtp.rsplit_once('@').filter(|(_, d)| d.contains('.')) {
                *counts.entry(d.trim().to_ascii_lowercase()).or_default() += 1;
            }
        }
        let mut domains: Vec<(String, usize)> = counts.into_iter().collect();
        domains.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if !domains.is_empty() {
            self.tenant.domains = domains.into_iter().map(|(d, _)| d).collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Archive;

    fn mailbox(address: &str, bytes: u64, items: u64, hidden: bool, kind: RecipientType) -> Mailbox {
        Mailbox {
            display_name: format!("Name of {address}"),
            primary_smtp: address.into(),
            upn: address.into(),
            proxy_addresses: vec![],
            recipient_type: kind,
            total_item_size: bytes,
            item_count: items,
            deleted_item_size: bytes / 10,
            archive: Archive::None,
            hidden,
            forwarding: None,
            last_logon: None,
            database: "DB01".into(),
            legacy_exchange_dn: String::new(),
        }
    }

    #[test]
    fn the_inventory_becomes_the_scenarios_mailboxes_on_its_own_domains() {
        let base = Scenario::load("typical").expect("typical");
        let inventory = vec![
            mailbox("Ann@fabrikam.com", 60 * 1024 * 1024 * 1024, 250_000, false, RecipientType::UserMailbox),
            mailbox("ann@fabrikam.de", 1024 * 1024 * 1024, 10, false, RecipientType::UserMailbox),
            mailbox("desk@fabrikam.com", 0, 0, true, RecipientType::SharedMailbox),
        ];
        let s = from_inventory(base, "inv.csv", &inventory, Some(50.0)).expect("a world");
        assert_eq!(s.tenant.domains, ["fabrikam.com", "fabrikam.de"]);
        let aliases: Vec<&str> = s.mailboxes.iter().map(|m| m.alias.as_str()).collect();
        assert_eq!(aliases, ["ann", "ann2", "desk"]);
        assert_eq!((s.mailboxes[0].size_gb, s.mailboxes[0].items), (60.0, 250_000), "the large mailbox stays large");
        assert!((s.mailboxes[0].recoverable_items_gb - 6.0).abs() < 1e-9);
        assert!(s.mailboxes[2].hidden && s.mailboxes[2].kind == MailboxKind::Shared);
        assert!(s.mailboxes.iter().all(|m| m.failure.is_none() && !m.vip));
        assert_eq!(s.migration.bandwidth_mbps, 50.0);
        assert!(s.tenant.groups.is_empty() && s.tenant.contacts.is_empty());
        assert!(s.tenant.licences[0].prepaid >= s.tenant.licences[0].consumed + 3);
    }

    #[test]
    fn an_empty_inventory_or_a_bad_bandwidth_is_refused() {
        let base = || Scenario::load("small").expect("small");
        let e = from_inventory(base(), "inv.csv", &[], None).expect_err("empty").to_string();
        assert!(e.contains("no mailbox"), "{e}");
        let one = [mailbox("a@b.com", 1, 1, false, RecipientType::UserMailbox)];
        let e = from_inventory(base(), "inv.csv", &one, Some(0.0)).expect_err("zero").to_string();
        assert!(e.contains("above 0"), "{e}");
        let link = base().migration.bandwidth_mbps;
        let kept = from_inventory(base(), "inv.csv", &one, None).expect("ok");
        assert_eq!(kept.migration.bandwidth_mbps, link, "without a bandwidth the scenario's link stays");
    }
}
