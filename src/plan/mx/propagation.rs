//! The DNS propagation watch's view, kept in `live/dns.json`: for every resolver and email domain, what it last
//! answered for the MX, the Autodiscover CNAME and the SPF (old, new or an error), the TTL it answered with (how
//! long a caching resolver may still hand out that answer), and when it first answered the new records. A
//! resumed watch starts from it, so first-seen times survive a restart. Pure: the runner asks, this judges.

use super::records::{DomainRecords, Slot};
use super::spf;
use crate::dns::{DnsRecord, MatchMode, RecordValue, matches};
use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a resolver's last answer for one record was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellState {
    /// Not asked yet.
    Waiting,
    Old,
    New,
    Error,
}

impl CellState {
    pub fn label(self) -> &'static str {
        match self {
            CellState::Waiting => "waiting",
            CellState::Old => "old",
            CellState::New => "new",
            CellState::Error => "error",
        }
    }
}

/// One resolver × domain × record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub slot: Slot,
    pub state: CellState,
    /// The values last answered.
    #[serde(default)]
    pub answer: Vec<String>,
    /// The TTL last answered: on a caching resolver, how long it may still give this answer.
    #[serde(default)]
    pub ttl: Option<u32>,
    #[serde(default)]
    pub error: Option<String>,
    /// When the new record was first answered.
    #[serde(default)]
    pub first_new: Option<DateTime<Utc>>,
}

/// One resolver for one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub resolver: String,
    pub domain: String,
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn cell(&self, slot: Slot) -> Option<&Cell> {
        self.cells.iter().find(|c| c.slot == slot)
    }
}

/// The watch's view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsView {
    /// When the MX change was made (from the project), for the table's heading.
    #[serde(default)]
    pub changed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub polled_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub rows: Vec<Row>,
}

/// What one resolver answered for one record of one domain in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub resolver: String,
    pub domain: String,
    pub slot: Slot,
    /// The records, or the error's text. A name that does not exist is no records.
    pub answer: Result<Vec<DnsRecord>, String>,
}

/// A cell that changed in a round, for `cutover watch`'s lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellChange {
    pub resolver: String,
    pub domain: String,
    pub slot: Slot,
    pub from: CellState,
    pub to: CellState,
}

/// Whether `answer` holds the new record for `slot`: exactly the new MX set, the new CNAME, and for SPF one
/// `v=spf1` record holding every `include:` of the merged record (the tenant's and the customer's other
/// senders'), in any order.
pub fn is_new(slot: Slot, answer: &[DnsRecord], records: &DomainRecords) -> bool {
    let expected = records.expected(slot);
    match slot {
        Slot::Mx | Slot::Autodiscover => matches(answer, &expected, MatchMode::Exactly),
        Slot::Spf => {
            let spfs: Vec<&str> = answer
                .iter()
                .filter_map(|r| match &r.value {
                    RecordValue::Txt(t) if spf::is_spf(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect();
            let [live] = spfs.as_slice() else { return false };
            let live_terms: Vec<String> = live.split_whitespace().map(str::to_ascii_lowercase).collect();
            expected.iter().any(|e| match e {
                RecordValue::Txt(want) => want
                    .split_whitespace()
                    .skip(1)
                    .filter(|t| t.to_ascii_lowercase().starts_with("include:"))
                    .all(|t| live_terms.contains(&t.to_ascii_lowercase())),
                _ => false,
            })
        }
    }
}

impl DnsView {
    /// Makes sure every resolver × domain has a row (a resumed watch may add a resolver); existing rows keep
    /// what they saw.
    pub fn ensure_rows(&mut self, resolvers: &[String], domains: &[String]) {
        for resolver in resolvers {
            for domain in domains {
                if !self.rows.iter().any(|r| &r.resolver == resolver && &r.domain == domain) {
                    let cells = Slot::ALL
                        .iter()
                        .map(|slot| Cell {
                            slot: *slot,
                            state: CellState::Waiting,
                            answer: Vec::new(),
                            ttl: None,
                            error: None,
                            first_new: None,
                        })
                        .collect();
                    self.rows.push(Row { resolver: resolver.clone(), domain: domain.clone(), cells });
                }
            }
        }
    }

    /// Merges one round's answers, judged against each domain's records; returns the cells whose state changed.
    pub fn apply(&mut self, round: Vec<Asked>, records: &[DomainRecords], now: DateTime<Utc>) -> Vec<CellChange> {
        let mut changes = Vec::new();
        for asked in round {
            let Some(domain) = records.iter().find(|d| d.domain == asked.domain) else { continue };
            let Some(row) = self.rows.iter_mut().find(|r| r.resolver == asked.resolver && r.domain == asked.domain)
            else {
                continue;
            };
            let Some(cell) = row.cells.iter_mut().find(|c| c.slot == asked.slot) else { continue };
            let from = cell.state;
            match asked.answer {
                Ok(found) => {
                    let new = is_new(asked.slot, &found, domain);
                    cell.state = if new { CellState::New } else { CellState::Old };
                    cell.ttl = found.iter().map(|r| r.ttl).min();
                    cell.answer = found.iter().map(|r| r.value.to_string()).collect();
                    cell.error = None;
                    if new && cell.first_new.is_none() {
                        cell.first_new = Some(now);
                    }
                }
                Err(e) => {
                    cell.state = CellState::Error;
                    cell.error = Some(e);
                }
            }
            if from != cell.state {
                changes.push(CellChange {
                    resolver: row.resolver.clone(),
                    domain: row.domain.clone(),
                    slot: cell.slot,
                    from,
                    to: cell.state,
                });
            }
        }
        self.polled_at = Some(now);
        changes
    }

    /// Whether every resolver returns every new record: the watch is done.
    pub fn all_new(&self) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(|r| r.cells.iter().all(|c| c.state == CellState::New))
    }

    /// When each resolver was first seen answering the new MX, for every domain: the latest of its domains'
    /// first times; a resolver still answering the old MX for a domain is left out.
    pub fn switched(&self) -> BTreeMap<String, DateTime<Utc>> {
        let mut by_resolver: BTreeMap<String, Option<DateTime<Utc>>> = BTreeMap::new();
        for row in &self.rows {
            let first = row.cell(Slot::Mx).and_then(|c| c.first_new);
            let entry = by_resolver.entry(row.resolver.clone()).or_insert(first);
            *entry = match (*entry, first) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
        by_resolver.into_iter().filter_map(|(k, v)| v.map(|t| (k, t))).collect()
    }

    /// How many cells answer the new records, of all.
    pub fn counts(&self) -> (usize, usize) {
        let all = self.rows.iter().map(|r| r.cells.len()).sum();
        let new = self.rows.iter().flat_map(|r| &r.cells).filter(|c| c.state == CellState::New).count();
        (new, all)
    }
}

/// The cells whose state differs from `before` to `after` (a cell new in `after` counts from Waiting): what
/// `cutover watch` prints a line for.
pub fn diff(before: &DnsView, after: &DnsView) -> Vec<CellChange> {
    let mut out = Vec::new();
    for row in &after.rows {
        let old = before.rows.iter().find(|r| r.resolver == row.resolver && r.domain == row.domain);
        for cell in &row.cells {
            let from = old.and_then(|r| r.cell(cell.slot)).map_or(CellState::Waiting, |c| c.state);
            if from != cell.state {
                out.push(CellChange {
                    resolver: row.resolver.clone(),
                    domain: row.domain.clone(),
                    slot: cell.slot,
                    from,
                    to: cell.state,
                });
            }
        }
    }
    out
}

/// Stage 7's DNS propagation check over the view: Pass when every resolver returns every new record, with the
/// resolvers still behind as evidence.
pub fn propagation_check(view: &DnsView, now: DateTime<Utc>) -> CheckResult {
    if view.rows.is_empty() {
        return CheckResult::new(
            Outcome::Fail,
            "The propagation watch has not run: record the MX change, which starts it.".to_owned(),
            now,
        );
    }
    let (new, all) = view.counts();
    let resolvers: std::collections::BTreeSet<&str> = view.rows.iter().map(|r| r.resolver.as_str()).collect();
    let mut lines = vec![format!("{new} of {all} records new on {} resolvers.", resolvers.len())];
    for row in &view.rows {
        let behind: Vec<String> = row
            .cells
            .iter()
            .filter(|c| c.state != CellState::New)
            .map(|c| match (&c.error, c.ttl) {
                (Some(e), _) if c.state == CellState::Error => format!("{} error ({e})", c.slot.label()),
                (_, Some(ttl)) => format!("{} {} (TTL {ttl} s)", c.slot.label(), c.state.label()),
                _ => format!("{} {}", c.slot.label(), c.state.label()),
            })
            .collect();
        if !behind.is_empty() {
            lines.push(format!("  {} for {}: {}", row.resolver, row.domain, behind.join(", ")));
        }
    }
    let outcome = if view.all_new() {
        lines.push("Every watched resolver returns the new records.".to_owned());
        Outcome::Pass
    } else {
        lines.push(
            "Resolvers still answering the old records follow once their TTL runs out; one in error is asked again."
                .to_owned(),
        );
        Outcome::Fail
    };
    CheckResult::new(outcome, lines.join("\n"), now)
}

#[cfg(test)]
mod tests {
    use super::super::records::{domain_records, tests as rec};
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + secs, 0).expect("time")
    }

    fn answer(name: &str, ttl: u32, value: RecordValue) -> DnsRecord {
        DnsRecord { name: name.into(), ttl, value }
    }

    fn round(resolver: &str, new: bool) -> Vec<Asked> {
        let ask = |slot, records| Asked {
            resolver: resolver.into(),
            domain: "contoso.com".into(),
            slot,
            answer: Ok(records),
        };
        let (mx, cname, txt) = if new {
            (
                RecordValue::mx(0, "contoso-com.mail.protection.outlook.com"),
                RecordValue::cname("autodiscover.outlook.com"),
                RecordValue::txt("v=spf1 mx include:_spf.crm.example include:spf.protection.outlook.com -all"),
            )
        } else {
            (
                RecordValue::mx(10, "mail.contoso.com"),
                RecordValue::A("192.0.2.1".parse().expect("ip")),
                RecordValue::txt("v=spf1 mx -all"),
            )
        };
        vec![
            ask(Slot::Mx, vec![answer("contoso.com", 300, mx)]),
            ask(Slot::Autodiscover, vec![answer("autodiscover.contoso.com", 3600, cname)]),
            ask(
                Slot::Spf,
                vec![answer("contoso.com", 3600, RecordValue::txt("MS=ms1")), answer("contoso.com", 3600, txt)],
            ),
        ]
    }

    #[test]
    fn rounds_move_cells_from_old_to_new_and_keep_the_first_time() {
        let records = vec![domain_records("contoso.com", &rec::tenant_records(), &rec::live_dns()).expect("records")];
        let mut view = DnsView::default();
        view.ensure_rows(&["fast".into(), "slow".into()], &["contoso.com".into()]);
        assert_eq!(view.counts(), (0, 6));
        let mut first = round("fast", true);
        first.extend(round("slow", false));
        let changes = view.apply(first, &records, at(0));
        assert_eq!(changes.len(), 6, "every cell leaves Waiting");
        assert!(!view.all_new());
        assert_eq!(view.switched().keys().collect::<Vec<_>>(), ["fast"]);
        let slow = &view.rows[1];
        assert_eq!(slow.cell(Slot::Mx).map(|c| (c.state, c.ttl)), Some((CellState::Old, Some(300))));
        // The same answers again change nothing and keep the first time.
        let mut again = round("fast", true);
        again.extend(round("slow", false));
        assert!(view.apply(again, &records, at(60)).is_empty());
        let mut last = round("fast", true);
        last.extend(round("slow", true));
        let changes = view.apply(last, &records, at(120));
        assert_eq!(changes.iter().filter(|c| c.resolver == "slow" && c.to == CellState::New).count(), 3);
        assert!(view.all_new());
        let switched = view.switched();
        assert_eq!(switched.get("fast"), Some(&at(0)));
        assert_eq!(switched.get("slow"), Some(&at(120)));
        assert_eq!(propagation_check(&view, at(120)).outcome, Outcome::Pass);
        let from_nothing = diff(&DnsView::default(), &view);
        assert_eq!(from_nothing.len(), 6);
        assert!(from_nothing.iter().all(|c| c.from == CellState::Waiting && c.to == CellState::New));
        assert!(diff(&view, &view).is_empty());
    }

    #[test]
    fn an_error_is_shown_and_the_check_names_who_is_behind() {
        let records = vec![domain_records("contoso.com", &rec::tenant_records(), &rec::live_dns()).expect("records")];
        let mut view = DnsView::default();
        assert_eq!(propagation_check(&view, at(0)).outcome, Outcome::Fail);
        view.ensure_rows(&["down".into()], &["contoso.com".into()]);
        let round = vec![Asked {
            resolver: "down".into(),
            domain: "contoso.com".into(),
            slot: Slot::Mx,
            answer: Err("timed out".into()),
        }];
        view.apply(round, &records, at(0));
        let check = propagation_check(&view, at(0));
        assert_eq!(check.outcome, Outcome::Fail);
        assert!(check.evidence.contains("down for contoso.com: MX error (timed out)"), "{}", check.evidence);
        assert!(view.switched().is_empty());
    }

    #[test]
    fn the_new_spf_needs_the_tenant_include_in_the_one_spf_record() {
        let records = domain_records("contoso.com", &rec::tenant_records(), &rec::live_dns()).expect("records");
        let txt = |t: &str| answer("contoso.com", 300, RecordValue::txt(t));
        let merged = "v=spf1 include:spf.protection.outlook.com include:_spf.crm.example ~all";
        assert!(is_new(Slot::Spf, &[txt(merged)], &records), "the includes count, not their order or the all");
        assert!(!is_new(Slot::Spf, &[txt("v=spf1 mx -all")], &records));
        assert!(
            !is_new(Slot::Spf, &[txt("v=spf1 include:spf.protection.outlook.com -all")], &records),
            "the customer's other senders must stay"
        );
        let two = [txt(merged), txt("v=spf1 mx -all")];
        assert!(!is_new(Slot::Spf, &two, &records), "two SPF records are a permanent error, not the change");
        let both = [
            answer("contoso.com", 300, RecordValue::mx(0, "contoso-com.mail.protection.outlook.com")),
            answer("contoso.com", 300, RecordValue::mx(10, "mail.contoso.com")),
        ];
        assert!(!is_new(Slot::Mx, &both, &records), "the old MX still beside the new one is not done");
    }
}
