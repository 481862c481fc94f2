//! The mailbox view's state: filter, sort, search and cursor, and the pure function that lists the rows to
//! show. Used by `App::update` (cursor bounds, VIP toggle) and by the screen that draws the table.

use crate::inventory::risk::{self, Thresholds};
use crate::inventory::{Mailbox, RecipientType};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    HighRisk,
    Vip,
    Hidden,
    Shared,
}

impl Filter {
    pub fn next(self) -> Filter {
        match self {
            Filter::All => Filter::HighRisk,
            Filter::HighRisk => Filter::Vip,
            Filter::Vip => Filter::Hidden,
            Filter::Hidden => Filter::Shared,
            Filter::Shared => Filter::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::HighRisk => "high-risk",
            Filter::Vip => "VIP",
            Filter::Hidden => "hidden",
            Filter::Shared => "shared",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    SizeDesc,
    Name,
    ItemsDesc,
    RecoverableDesc,
}

impl Sort {
    pub fn next(self) -> Sort {
        match self {
            Sort::SizeDesc => Sort::Name,
            Sort::Name => Sort::ItemsDesc,
            Sort::ItemsDesc => Sort::RecoverableDesc,
            Sort::RecoverableDesc => Sort::SizeDesc,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::SizeDesc => "size",
            Sort::Name => "name",
            Sort::ItemsDesc => "items",
            Sort::RecoverableDesc => "Recoverable Items",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxView {
    pub filter: Filter,
    pub sort: Sort,
    /// Case-insensitive text that name, address or UPN must contain.
    pub query: String,
    /// The search being typed, while it is.
    pub search: Option<crate::tui::widgets::input::TextInput>,
    /// The selected mailbox by its address, so the selection stays on it when the rows re-sort or filter.
    pub selected: Option<String>,
}

impl Default for MailboxView {
    fn default() -> Self {
        MailboxView { filter: Filter::All, sort: Sort::SizeDesc, query: String::new(), search: None, selected: None }
    }
}

impl MailboxView {
    /// The position of the selected mailbox among `rows` (the first row when it is not among them).
    pub fn cursor(&self, rows: &[usize], mailboxes: &[Mailbox]) -> usize {
        self.selected.as_ref().and_then(|key| rows.iter().position(|&i| mailboxes[i].key() == *key)).unwrap_or(0)
    }

    /// Moves the selection `delta` rows, stopping at either end.
    pub fn step(&mut self, rows: &[usize], mailboxes: &[Mailbox], delta: isize) {
        let at = self.cursor(rows, mailboxes).saturating_add_signed(delta).min(rows.len().saturating_sub(1));
        self.selected = rows.get(at).map(|&i| mailboxes[i].key());
    }

    /// The address of the mailbox under the cursor.
    pub fn selected_key(&self, rows: &[usize], mailboxes: &[Mailbox]) -> Option<String> {
        rows.get(self.cursor(rows, mailboxes)).map(|&i| mailboxes[i].key())
    }

    /// Indices into `mailboxes` of the rows to show, in order.
    pub fn rows(&self, mailboxes: &[Mailbox], vips: &BTreeSet<String>, t: &Thresholds) -> Vec<usize> {
        let query = self.query.to_lowercase();
        let mut rows: Vec<usize> = mailboxes
            .iter()
            .enumerate()
            .filter(|(_, m)| match self.filter {
                Filter::All => true,
                Filter::HighRisk => !risk::flags(m, vips.contains(&m.key()), t).is_empty(),
                Filter::Vip => vips.contains(&m.key()),
                Filter::Hidden => m.hidden,
                Filter::Shared => m.recipient_type == RecipientType::SharedMailbox,
            })
            .filter(|(_, m)| {
                query.is_empty()
                    || m.display_name.to_lowercase().contains(&query)
                    || m.primary_smtp.to_lowercase().contains(&query)
                    || m.upn.to_lowercase().contains(&query)
            })
            .map(|(i, _)| i)
            .collect();
        let key = |i: &usize| &mailboxes[*i];
        match self.sort {
            Sort::SizeDesc => rows.sort_by_key(|i| std::cmp::Reverse(key(i).total_item_size)),
            Sort::Name => rows.sort_by_cached_key(|i| key(i).display_name.to_lowercase()),
            Sort::ItemsDesc => rows.sort_by_key(|i| std::cmp::Reverse(key(i).item_count)),
            Sort::RecoverableDesc => rows.sort_by_key(|i| std::cmp::Reverse(key(i).deleted_item_size)),
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::csv::parse;

    fn mailboxes() -> Vec<Mailbox> {
        let csv = "DisplayName,PrimarySmtpAddress,TotalItemSizeBytes,ItemCount,TotalDeletedItemSizeBytes,HiddenFromAddressListsEnabled,RecipientTypeDetails\n\
            Zed,zed@c.com,10,5,0,False,UserMailbox\n\
            Amy,amy@c.com,60000000000,1,0,False,UserMailbox\n\
            Info,info@c.com,5,900,40000000000,False,SharedMailbox\n\
            Ghost,ghost@c.com,1,1,0,True,UserMailbox\n";
        parse(csv.as_bytes()).expect("parse").mailboxes
    }

    fn names(view: &MailboxView, vips: &BTreeSet<String>) -> Vec<String> {
        let m = mailboxes();
        view.rows(&m, vips, &Thresholds::default()).into_iter().map(|i| m[i].display_name.clone()).collect()
    }

    #[test]
    fn filters_sorts_and_search_combine() {
        let vips = BTreeSet::from(["zed@c.com".to_owned()]);
        let mut view = MailboxView::default();
        assert_eq!(names(&view, &vips), ["Amy", "Zed", "Info", "Ghost"]);
        view.sort = Sort::Name;
        assert_eq!(names(&view, &vips), ["Amy", "Ghost", "Info", "Zed"]);
        view.filter = Filter::HighRisk;
        assert_eq!(names(&view, &vips), ["Amy", "Ghost", "Info", "Zed"]);
        view.filter = Filter::Vip;
        assert_eq!(names(&view, &vips), ["Zed"]);
        view.filter = Filter::Shared;
        assert_eq!(names(&view, &vips), ["Info"]);
        view.filter = Filter::Hidden;
        assert_eq!(names(&view, &vips), ["Ghost"]);
        view.filter = Filter::All;
        view.query = "AM".into();
        assert_eq!(names(&view, &vips), ["Amy"]);
        view.query.clear();
        view.sort = Sort::RecoverableDesc;
        assert_eq!(names(&view, &vips)[0], "Info");
    }

    #[test]
    fn the_selection_follows_the_mailbox_when_the_rows_re_sort() {
        let m = mailboxes();
        let vips = BTreeSet::new();
        let mut view = MailboxView::default();
        let rows = view.rows(&m, &vips, &Thresholds::default());
        view.step(&rows, &m, 1);
        assert_eq!(view.selected.as_deref(), Some("zed@c.com"), "second by size");
        view.sort = Sort::Name;
        let rows = view.rows(&m, &vips, &Thresholds::default());
        assert_eq!(view.cursor(&rows, &m), 3, "Zed is last by name, and still selected");
        view.step(&rows, &m, 5);
        assert_eq!(view.selected.as_deref(), Some("zed@c.com"), "the cursor stops at the last row");
    }

    #[test]
    fn filters_and_sorts_cycle_through_every_choice() {
        let mut f = Filter::All;
        for _ in 0..5 {
            f = f.next();
        }
        assert_eq!(f, Filter::All);
        let mut s = Sort::SizeDesc;
        for _ in 0..4 {
            s = s.next();
        }
        assert_eq!(s, Sort::SizeDesc);
    }
}
