//! A new import against the previous one: what was added, removed and changed. A mailbox whose row is rejected
//! in the new file keeps its previous record, so a typo in a re-export loses nothing.

use super::csv::Parsed;
use super::{Inventory, Mailbox};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportDiff {
    /// No inventory was there before: everything is new, so `added` is not worth listing.
    pub first_import: bool,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Each changed mailbox with the names of the fields that changed.
    pub changed: Vec<(String, Vec<&'static str>)>,
    /// Mailboxes whose new row was rejected, kept as they were.
    pub kept_from_previous: Vec<String>,
}

impl ImportDiff {
    pub fn summary(&self) -> String {
        if self.first_import {
            return "first import".to_owned();
        }
        let mut s =
            format!("{} added, {} removed, {} changed", self.added.len(), self.removed.len(), self.changed.len());
        if !self.kept_from_previous.is_empty() {
            s.push_str(&format!(
                ", {} kept from the previous import because their new row was rejected",
                self.kept_from_previous.len()
            ));
        }
        s
    }
}

/// The mailboxes to keep after this import, and how they differ from the previous import.
pub fn merge(previous: Option<&Inventory>, parsed: &Parsed) -> (Vec<Mailbox>, ImportDiff) {
    let old: BTreeMap<String, &Mailbox> =
        previous.map(|p| p.mailboxes.iter().map(|m| (m.key(), m)).collect()).unwrap_or_default();
    let mut mailboxes = parsed.mailboxes.clone();
    let new_keys: BTreeSet<String> = mailboxes.iter().map(Mailbox::key).collect();
    let rejected_keys: BTreeSet<&str> = parsed.rejected.iter().filter_map(|p| p.key.as_deref()).collect();
    let mut diff = ImportDiff { first_import: previous.is_none(), ..ImportDiff::default() };
    for (key, mailbox) in &old {
        if new_keys.contains(key) {
            continue;
        }
        if rejected_keys.contains(key.as_str()) {
            diff.kept_from_previous.push(key.clone());
            mailboxes.push((*mailbox).clone());
        } else {
            diff.removed.push(key.clone());
        }
    }
    for mailbox in &parsed.mailboxes {
        let key = mailbox.key();
        match old.get(&key) {
            None => diff.added.push(key),
            Some(before) => {
                let fields = changed_fields(before, mailbox);
                if !fields.is_empty() {
                    diff.changed.push((key, fields));
                }
            }
        }
    }
    (mailboxes, diff)
}

fn changed_fields(a: &Mailbox, b: &Mailbox) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            fields.push(name);
        }
    };
    check("display name", a.display_name != b.display_name);
    check("primary SMTP", a.primary_smtp != b.primary_smtp);
    check("UPN", a.upn != b.upn);
    check("proxy addresses", a.proxy_addresses != b.proxy_addresses);
    check("recipient type", a.recipient_type != b.recipient_type);
    check("size", a.total_item_size != b.total_item_size);
    check("item count", a.item_count != b.item_count);
    check("Recoverable Items", a.deleted_item_size != b.deleted_item_size);
    check("archive", a.archive != b.archive);
    check("hidden", a.hidden != b.hidden);
    check("forwarding", a.forwarding != b.forwarding);
    check("last logon", a.last_logon != b.last_logon);
    check("database", a.database != b.database);
    check("LegacyExchangeDN", a.legacy_exchange_dn != b.legacy_exchange_dn);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::csv::parse;
    use chrono::DateTime;

    fn inventory(csv: &str) -> Inventory {
        Inventory {
            imported_at: DateTime::from_timestamp(1_790_000_000, 0).expect("valid"),
            file_name: "first.csv".into(),
            mailboxes: parse(csv.as_bytes()).expect("parse").mailboxes,
        }
    }

    #[test]
    fn a_reimport_shows_what_was_added_removed_and_changed() {
        let first =
            inventory("PrimarySmtpAddress,TotalItemSize,ItemCount\na@c.com,100,1\nb@c.com,100,1\nc@c.com,100,1\n");
        let second = parse(b"PrimarySmtpAddress,TotalItemSize,ItemCount\na@c.com,100,1\nb@c.com,250,3\nd@c.com,5,1\n")
            .expect("parse");
        let (mailboxes, diff) = merge(Some(&first), &second);
        assert_eq!(mailboxes.len(), 3);
        assert_eq!(diff.added, vec!["d@c.com"]);
        assert_eq!(diff.removed, vec!["c@c.com"]);
        assert_eq!(diff.changed, vec![("b@c.com".to_owned(), vec!["size", "item count"])]);
        assert_eq!(diff.summary(), "1 added, 1 removed, 1 changed");
    }

    #[test]
    fn a_mailbox_whose_new_row_is_rejected_keeps_its_previous_record() {
        let first = inventory("PrimarySmtpAddress,TotalItemSize\na@c.com,100\nb@c.com,200\n");
        let second = parse(b"PrimarySmtpAddress,TotalItemSize\na@c.com,100\nb@c.com,oops\n").expect("parse");
        let (mailboxes, diff) = merge(Some(&first), &second);
        assert_eq!(diff.kept_from_previous, vec!["b@c.com"]);
        assert!(diff.removed.is_empty());
        assert_eq!(mailboxes.iter().find(|m| m.key() == "b@c.com").map(|m| m.total_item_size), Some(200));
    }

    #[test]
    fn a_first_import_adds_everything() {
        let parsed = parse(b"PrimarySmtpAddress\na@c.com\n").expect("parse");
        let (mailboxes, diff) = merge(None, &parsed);
        assert_eq!((mailboxes.len(), diff.added.len()), (1, 1));
        assert_eq!(diff.summary(), "first import");
    }
}
