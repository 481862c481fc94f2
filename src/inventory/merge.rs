//! A new import against the previous one: what was added, removed and changed. A mailbox whose row is rejected
//! in the new file keeps its previous record, so a typo in a re-export loses nothing; while any row is rejected
//! without a readable address, no mailbox counts as removed (that row may be it); and removing more than a few
//! mailboxes needs an explicit allowance ([`check_removals`]), since a filtered or cut export looks the same.

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
    /// Mailboxes missing from the new file while some rows were rejected without a readable address: any of
    /// those rows may be theirs, so they are kept as they were rather than removed.
    pub kept_unreadable: Vec<String>,
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
        if !self.kept_unreadable.is_empty() {
            s.push_str(&format!(
                ", {} kept because rows could not be read (kept, row unreadable)",
                self.kept_unreadable.len()
            ));
        }
        s
    }
}

/// More removed mailboxes than this in one re-import need the allowance…
pub const MAX_REMOVALS_WITHOUT_ALLOWANCE: usize = 5;
/// …and so do more than this share (in %) of the previous mailboxes.
pub const MAX_REMOVED_PERCENT_WITHOUT_ALLOWANCE: usize = 10;

/// A re-import that would remove more than a few mailboxes, refused until removals are allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyRemovals {
    pub removed: Vec<String>,
    pub previous: usize,
}

impl std::fmt::Display for TooManyRemovals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "this import would remove {} of {} mailboxes from the project ({}); nothing was changed. If they are \
             really gone from the source server, import again with `cutover import inventory FILE --allow-removals`; \
             otherwise export the inventory again without a filter (assets/Get-CutoverInventory.ps1)",
            self.removed.len(),
            self.previous,
            self.removed.join(", ")
        )
    }
}

/// Refuses a diff that removes more than [`MAX_REMOVALS_WITHOUT_ALLOWANCE`] mailboxes or more than
/// [`MAX_REMOVED_PERCENT_WITHOUT_ALLOWANCE`] % of the `previous` ones, unless `allow` is given.
pub fn check_removals(diff: &ImportDiff, previous: usize, allow: bool) -> Result<(), TooManyRemovals> {
    let removed = diff.removed.len();
    let too_many =
        removed > MAX_REMOVALS_WITHOUT_ALLOWANCE || removed * 100 > previous * MAX_REMOVED_PERCENT_WITHOUT_ALLOWANCE;
    if allow || removed == 0 || !too_many {
        return Ok(());
    }
    Err(TooManyRemovals { removed: diff.removed.clone(), previous })
}

/// The mailboxes to keep after this import, and how they differ from the previous import.
pub fn merge(previous: Option<&Inventory>, parsed: &Parsed) -> (Vec<Mailbox>, ImportDiff) {
    let old: BTreeMap<String, &Mailbox> =
        previous.map(|p| p.mailboxes.iter().map(|m| (m.key(), m)).collect()).unwrap_or_default();
    let mut mailboxes = parsed.mailboxes.clone();
    let new_keys: BTreeSet<String> = mailboxes.iter().map(Mailbox::key).collect();
    let rejected_keys: BTreeSet<&str> = parsed.rejected.iter().filter_map(|p| p.key.as_deref()).collect();
    let some_row_unreadable = parsed.rejected.iter().any(|p| p.key.is_none());
    let mut diff = ImportDiff { first_import: previous.is_none(), ..ImportDiff::default() };
    for (key, mailbox) in &old {
        if new_keys.contains(key) {
            continue;
        }
        if rejected_keys.contains(key.as_str()) {
            diff.kept_from_previous.push(key.clone());
            mailboxes.push((*mailbox).clone());
        } else if some_row_unreadable {
            diff.kept_unreadable.push(key.clone());
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
    fn rows_rejected_without_a_readable_address_remove_no_mailbox() {
        let first = inventory("PrimarySmtpAddress,TotalItemSize\na@c.com,100\nb@c.com,200\nc@c.com,300\n");
        // b's row uses another separator and c's address is blank: neither says which mailbox it was.
        let second = parse(b"PrimarySmtpAddress,TotalItemSize\na@c.com,100\nb@c.com;200\n,300\n").expect("parse");
        assert_eq!(second.rejected.len(), 2);
        let (mailboxes, diff) = merge(Some(&first), &second);
        assert!(diff.removed.is_empty(), "{diff:?}");
        assert_eq!(diff.kept_unreadable, vec!["b@c.com", "c@c.com"]);
        assert_eq!(mailboxes.len(), 3);
        assert!(diff.summary().contains("2 kept because rows could not be read"), "{}", diff.summary());
    }

    #[test]
    fn removing_more_than_a_few_mailboxes_needs_the_allowance() {
        let many: String = (0..100).map(|i| format!("m{i}@c.com,1\n")).collect();
        let first = inventory(&format!("PrimarySmtpAddress,TotalItemSize\n{many}"));
        let keep = |n: usize| {
            let rows: String = (0..n).map(|i| format!("m{i}@c.com,1\n")).collect();
            parse(format!("PrimarySmtpAddress,TotalItemSize\n{rows}").as_bytes()).expect("parse")
        };
        let (_, five_gone) = merge(Some(&first), &keep(95));
        assert_eq!(check_removals(&five_gone, 100, false), Ok(()), "a few leavers pass");
        let (_, six_gone) = merge(Some(&first), &keep(94));
        let refused = check_removals(&six_gone, 100, false).expect_err("six is more than a few");
        assert_eq!(refused.removed.len(), 6);
        let message = refused.to_string();
        assert!(message.contains("6 of 100") && message.contains("m94@c.com"), "{message}");
        assert!(message.contains("--allow-removals"), "{message}");
        assert_eq!(check_removals(&six_gone, 100, true), Ok(()));
        // A tenth of a small project is more than a few too.
        let small = inventory("PrimarySmtpAddress\na@c.com\nb@c.com\nc@c.com\nd@c.com\ne@c.com\n");
        let (_, diff) = merge(Some(&small), &parse(b"PrimarySmtpAddress\na@c.com\nb@c.com\nc@c.com\n").expect("parse"));
        assert!(check_removals(&diff, 5, false).is_err());
        let (_, first_import) = merge(None, &keep(1));
        assert_eq!(check_removals(&first_import, 0, false), Ok(()));
    }

    #[test]
    fn a_first_import_adds_everything() {
        let parsed = parse(b"PrimarySmtpAddress\na@c.com\n").expect("parse");
        let (mailboxes, diff) = merge(None, &parsed);
        assert_eq!((mailboxes.len(), diff.added.len()), (1, 1));
        assert_eq!(diff.summary(), "first import");
    }
}
