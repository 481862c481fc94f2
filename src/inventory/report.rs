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
}

impl ImportReport {
    /// One line: what was imported and what changed.
    pub fn summary(&self) -> String {
        format!("Imported {}: {} mailboxes; {}.", self.file_name, self.mailboxes, self.diff.summary())
    }

    /// The whole report, line by line: rejected rows first, since they need acting on.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!("{} ({}, separated by '{}')", self.file_name, self.encoding, self.delimiter.escape_default()),
            format!("{} mailboxes in the project: {}.", self.mailboxes, self.diff.summary()),
        ];
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
        })
    }
}
