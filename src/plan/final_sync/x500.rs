//! Stage 8's X500 diff: for each migrated mailbox, the source `LegacyExchangeDN` (from the inventory) must be
//! among its cloud mailbox's `EmailAddresses` as `X500:<dn>`, so replies to old mail and old meeting items,
//! which address the old DN, are delivered rather than bounced (IMCEAEX NDRs). Only what is missing is
//! added; the DN is compared without regard to case, as Exchange does. Pure.

use crate::inventory::Mailbox as SourceMailbox;
use crate::m365::exo::Mailbox as CloudMailbox;
use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Utc};

/// One X500 address to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The cloud mailbox's identity, as `Set-Mailbox -Identity` takes it (its primary address).
    pub identity: String,
    /// `X500:<dn>`.
    pub proxy: String,
}

/// What the diff found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct X500Diff {
    pub missing: Vec<Missing>,
    /// Source addresses whose cloud mailbox holds its X500 address already.
    pub present: Vec<String>,
    /// Source addresses with no cloud mailbox (not migrated): nothing to add to.
    pub no_cloud_mailbox: Vec<String>,
    /// Source addresses the inventory gives no LegacyExchangeDN for.
    pub no_dn: Vec<String>,
}

/// The proxy address of a DN.
pub fn proxy(dn: &str) -> String {
    format!("X500:{}", dn.trim())
}

/// Whether `addresses` holds `X500:<dn>` (prefix and DN in any case).
pub fn holds(addresses: &[String], dn: &str) -> bool {
    addresses.iter().any(|a| {
        a.split_once(':').is_some_and(|(prefix, value)| {
            prefix.eq_ignore_ascii_case("x500") && value.trim().eq_ignore_ascii_case(dn.trim())
        })
    })
}

/// The cloud mailbox of a source mailbox's primary `address`: the one whose primary or any SMTP address it is.
pub fn cloud_mailbox<'a>(address: &str, cloud: &'a [CloudMailbox]) -> Option<&'a CloudMailbox> {
    let want = address.trim();
    cloud.iter().find(|c| {
        c.primary_smtp_address.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(want))
            || c.email_addresses.iter().any(|a| {
                a.split_once(':').is_some_and(|(p, v)| p.eq_ignore_ascii_case("smtp") && v.eq_ignore_ascii_case(want))
            })
    })
}

/// The diff of the inventory against the cloud mailboxes.
pub fn diff(sources: &[SourceMailbox], cloud: &[CloudMailbox]) -> X500Diff {
    let mut d = X500Diff::default();
    for s in sources {
        let address = s.primary_smtp.trim().to_lowercase();
        let dn = s.legacy_exchange_dn.trim();
        if dn.is_empty() {
            d.no_dn.push(address);
            continue;
        }
        match cloud_mailbox(&s.primary_smtp, cloud) {
            None => d.no_cloud_mailbox.push(address),
            Some(c) if holds(&c.email_addresses, dn) => d.present.push(address),
            Some(c) => d.missing.push(Missing {
                identity: c.primary_smtp_address.clone().unwrap_or_else(|| c.identity.clone()),
                proxy: proxy(dn),
            }),
        }
    }
    d
}

/// x500-present: Pass when every migrated mailbox holds its X500 address; Warn when all that have a cloud
/// mailbox do but some source mailboxes have none (not migrated) or no DN in the inventory.
pub fn check(d: &X500Diff, now: DateTime<Utc>) -> CheckResult {
    let mut lines = Vec::new();
    let outcome = if !d.missing.is_empty() {
        lines.push(format!(
            "{} of {} migrated mailboxes lack their X500 address: run the task Add the X500 addresses.",
            d.missing.len(),
            d.missing.len() + d.present.len()
        ));
        lines.extend(d.missing.iter().map(|m| format!("  {}: {}", m.identity, m.proxy)));
        Outcome::Fail
    } else if d.present.is_empty() {
        lines.push("No migrated mailbox found in Exchange Online to hold an X500 address.".to_owned());
        Outcome::Fail
    } else {
        lines.push(format!("All {} migrated mailboxes hold their source LegacyExchangeDN as X500.", d.present.len()));
        if d.no_cloud_mailbox.is_empty() && d.no_dn.is_empty() { Outcome::Pass } else { Outcome::Warn }
    };
    if !d.no_cloud_mailbox.is_empty() {
        lines.push(format!("No cloud mailbox for: {}.", d.no_cloud_mailbox.join(", ")));
    }
    if !d.no_dn.is_empty() {
        lines.push(format!("The inventory gives no LegacyExchangeDN for: {}.", d.no_dn.join(", ")));
    }
    CheckResult::new(outcome, lines.join("\n"), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Archive, RecipientType};

    fn source(address: &str, dn: &str) -> SourceMailbox {
        SourceMailbox {
            display_name: address.into(),
            primary_smtp: address.into(),
            upn: address.into(),
            proxy_addresses: vec![format!("SMTP:{address}")],
            recipient_type: RecipientType::UserMailbox,
            total_item_size: 0,
            item_count: 0,
            deleted_item_size: 0,
            archive: Archive::None,
            hidden: false,
            forwarding: None,
            last_logon: None,
            database: "DB01".into(),
            legacy_exchange_dn: dn.into(),
        }
    }

    fn cloud(address: &str, extra: &[&str]) -> CloudMailbox {
        let mut email_addresses = vec![format!("SMTP:{address}")];
        email_addresses.extend(extra.iter().map(|s| (*s).to_owned()));
        CloudMailbox {
            identity: address.split('@').next().unwrap_or(address).to_owned(),
            user_principal_name: Some(address.into()),
            primary_smtp_address: Some(address.into()),
            email_addresses,
            recipient_type_details: Some("UserMailbox".into()),
            hidden_from_address_lists: Some(false),
            legacy_exchange_dn: None,
        }
    }

    const DN: &str = "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=meganb";

    #[test]
    fn only_the_missing_x500_is_added_compared_in_any_case() {
        let sources = [source("megan@contoso.com", DN), source("alex@contoso.com", "/o=Contoso/cn=alexw")];
        let lower = format!("x500:{}", DN.to_lowercase());
        let clouds =
            [cloud("Megan@Contoso.com", &[&lower]), cloud("alex@contoso.com", &["smtp:alex@c.onmicrosoft.com"])];
        let d = diff(&sources, &clouds);
        assert_eq!(d.present, ["megan@contoso.com"]);
        assert_eq!(
            d.missing,
            [Missing { identity: "alex@contoso.com".into(), proxy: "X500:/o=Contoso/cn=alexw".into() }]
        );
        assert_eq!(check(&d, Utc::now()).outcome, Outcome::Fail);
    }

    #[test]
    fn a_mailbox_found_by_a_secondary_smtp_address_and_ones_not_migrated_are_told_apart() {
        let sources =
            [source("a@contoso.com", "/o=C/cn=a"), source("b@contoso.com", "/o=C/cn=b"), source("c@contoso.com", "")];
        let mut moved = cloud("a@contoso.onmicrosoft.com", &["smtp:A@contoso.com", "X500:/o=C/cn=a"]);
        moved.primary_smtp_address = Some("a@contoso.onmicrosoft.com".into());
        let d = diff(&sources, &[moved]);
        assert_eq!(d.present, ["a@contoso.com"]);
        assert_eq!(d.no_cloud_mailbox, ["b@contoso.com"]);
        assert_eq!(d.no_dn, ["c@contoso.com"]);
        let r = check(&d, Utc::now());
        assert_eq!(r.outcome, Outcome::Warn, "{}", r.evidence);
        assert!(r.evidence.contains("No cloud mailbox for: b@contoso.com"), "{}", r.evidence);
    }

    #[test]
    fn every_x500_in_place_passes_and_nothing_migrated_fails() {
        let d = diff(&[source("a@contoso.com", "/o=C/cn=a")], &[cloud("a@contoso.com", &["X500:/o=C/cn=a"])]);
        assert!(d.missing.is_empty());
        assert_eq!(check(&d, Utc::now()).outcome, Outcome::Pass);
        assert_eq!(check(&X500Diff::default(), Utc::now()).outcome, Outcome::Fail);
        assert!(holds(&["X500:/O=C/CN=A ".into()], "/o=c/cn=a"));
        assert!(!holds(&["smtp:/o=c/cn=a".into()], "/o=c/cn=a"));
    }
}
