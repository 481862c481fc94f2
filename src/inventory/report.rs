//! What an inventory import did: the rows kept, rejected and changed, for the wizard's report dialog, the
//! headless `cutover import inventory` and the audit record.

use super::csv::RowProblem;
use super::merge::ImportDiff;

/// Inventory files larger than this are refused: 2,000 mailboxes take well under 5 MB.
pub const MAX_INVENTORY_BYTES: u64 = 64 * 1024 * 1024;

/// What an import did, for the screen and for `cutover import inventory`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub file_name: String,
    pub encoding: &'static str,
    pub delimiter: char,
    /// Mailboxes in the project after the import.
    pub mailboxes: usize,
    pub diff: ImportDiff,
    pub rejected: Vec<RowProblem>,
    pub warnings: Vec<RowProblem>,
    pub missing_columns: Vec<&'static str>,
    /// Mailboxes whose primary address is in a domain the kickoff does not name, by domain: the file may be
    /// another customer's, or the kickoff lacks a domain.
    pub foreign_domains: Vec<DomainCount>,
}

/// How many of the imported mailboxes have their primary address in one domain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DomainCount {
    pub domain: String,
    pub mailboxes: usize,
}

/// The primary SMTP domains of `mailboxes` that are not among the kickoff's `domains`, most mailboxes first.
/// Without kickoff domains there is nothing to compare with.
pub fn foreign_domains(mailboxes: &[super::Mailbox], domains: &[String]) -> Vec<DomainCount> {
    if domains.is_empty() {
        return Vec::new();
    }
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for m in mailboxes {
        let Some((_, domain)) = m.primary_smtp.rsplit_once('@') else { continue };
        let domain = domain.to_ascii_lowercase();
        if !domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)) {
            *counts.entry(domain).or_default() += 1;
        }
    }
    let mut out: Vec<DomainCount> =
        counts.into_iter().map(|(domain, mailboxes)| DomainCount { domain, mailboxes }).collect();
    out.sort_by(|a, b| b.mailboxes.cmp(&a.mailboxes).then_with(|| a.domain.cmp(&b.domain)));
    out
}

impl ImportReport {
    /// One line: what was imported and what changed, and a warning when the addresses are not the kickoff's.
    pub fn summary(&self) -> String {
        let mut line = format!("Imported {}: {} mailboxes; {}.", self.file_name, self.mailboxes, self.diff.summary());
        if let Some(warning) = self.foreign_warning() {
            line.push(' ');
            line.push_str(&warning);
        }
        line
    }

    /// "Warning: 120 mailboxes are in domains the kickoff does not name (contoso.example): …", if any are.
    pub fn foreign_warning(&self) -> Option<String> {
        let count: usize = self.foreign_domains.iter().map(|d| d.mailboxes).sum();
        if count == 0 {
            return None;
        }
        let names: Vec<&str> = self.foreign_domains.iter().take(3).map(|d| d.domain.as_str()).collect();
        let more = if self.foreign_domains.len() > 3 { ", …" } else { "" };
        Some(format!(
            "Warning: {count} of {} mailboxes are in domains the kickoff does not name ({}{more}): check that the file \
             is this customer's, or add the domain to the kickoff.",
            self.mailboxes,
            names.join(", ")
        ))
    }

    /// The whole report, line by line: rejected rows first, since they need acting on.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!("{} ({}, separated by '{}')", self.file_name, self.encoding, self.delimiter.escape_default()),
            format!("{} mailboxes in the project: {}.", self.mailboxes, self.diff.summary()),
        ];
        if let Some(warning) = self.foreign_warning() {
            lines.push(warning);
        }
        let list = |lines: &mut Vec<String>, title: &str, items: &[String]| {
            if !items.is_empty() {
                lines.push(String::new());
                lines.push(format!("{title} ({}):", items.len()));
                lines.extend(items.iter().map(|i| format!("  {i}")));
            }
        };
        let rows = |rows: &[RowProblem]| -> Vec<String> {
            rows.iter().map(|r| format!("line {}: {}", r.line, r.reason)).collect()
        };
        list(&mut lines, "Rejected rows, left out", &rows(&self.rejected));
        list(&mut lines, "Kept from the previous import", &self.diff.kept_from_previous);
        list(
            &mut lines,
            "Kept, row unreadable (not in the file while some rows could not be read)",
            &self.diff.kept_unreadable,
        );
        list(&mut lines, "Warnings", &rows(&self.warnings));
        if !self.diff.first_import {
            list(&mut lines, "Added", &self.diff.added);
        }
        list(&mut lines, "Removed", &self.diff.removed);
        let changed: Vec<String> = self.diff.changed.iter().map(|(k, f)| format!("{k}: {}", f.join(", "))).collect();
        list(&mut lines, "Changed", &changed);
        let missing: Vec<String> =
            self.missing_columns.iter().map(|c| format!("{c} (unknown for every mailbox)")).collect();
        list(&mut lines, "Columns not in the file", &missing);
        lines
    }

    pub fn to_json(&self) -> serde_json::Value {
        let rows = |rows: &[RowProblem]| -> Vec<serde_json::Value> {
            rows.iter().map(|r| serde_json::json!({ "line": r.line, "mailbox": r.key, "reason": r.reason })).collect()
        };
        serde_json::json!({
            "file": self.file_name,
            "encoding": self.encoding,
            "delimiter": self.delimiter.to_string(),
            "mailboxes": self.mailboxes,
            "added": self.diff.added,
            "removed": self.diff.removed,
            "changed": self.diff.changed.iter().map(|(k, f)| serde_json::json!({ "mailbox": k, "fields": f })).collect::<Vec<_>>(),
            "kept_from_previous": self.diff.kept_from_previous,
            "kept_unreadable": self.diff.kept_unreadable,
            "rejected": rows(&self.rejected),
            "warnings": rows(&self.warnings),
            "missing_columns": self.missing_columns,
            "foreign_domains": self.foreign_domains,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_outside_the_kickoffs_domains_are_counted_by_domain() {
        let csv = "PrimarySmtpAddress,TotalItemSize\na@contoso.example,1\nb@Contoso.Example,1\nc@fabrikam.example,1\nd@fabrikam.example,1\ne@fabrikam.example,1\n";
        let parsed = crate::inventory::csv::parse(csv.as_bytes()).expect("parses");
        let domains = vec!["contoso.example".to_owned()];
        let foreign = foreign_domains(&parsed.mailboxes, &domains);
        assert_eq!(foreign, vec![DomainCount { domain: "fabrikam.example".into(), mailboxes: 3 }]);
        assert!(foreign_domains(&parsed.mailboxes, &[]).is_empty(), "no kickoff domains: nothing to compare");
        let report = ImportReport {
            file_name: "inv.csv".into(),
            encoding: "UTF-8",
            delimiter: ',',
            mailboxes: 5,
            diff: ImportDiff::default(),
            rejected: Vec::new(),
            warnings: Vec::new(),
            missing_columns: Vec::new(),
            foreign_domains: foreign,
        };
        let summary = report.summary();
        assert!(
            summary.contains("3 of 5 mailboxes are in domains the kickoff does not name (fabrikam.example)"),
            "{summary}"
        );
    }
}
