//! Importing the mailbox inventory: read the file, parse it, merge it with the previous import, store it with
//! the stage-2 checks re-run, and report every rejected row. One audited change.

use super::{Event, record_inventory_checks};
use crate::inventory::Inventory;
use crate::inventory::csv::{self, RowProblem};
use crate::inventory::merge::{self, ImportDiff};
use crate::plan::{StageId, TaskRecord, TaskStatus};
use crate::project::Project;
use chrono::Utc;
use std::io::Read;
use std::path::Path;

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
            "rejected": rows(&self.rejected),
            "warnings": rows(&self.warnings),
            "missing_columns": self.missing_columns,
        })
    }
}

pub(super) fn run(project: &mut Project, path: &Path) -> Event {
    let what = "inventory import".to_owned();
    let bytes = match read_limited(path) {
        Ok(bytes) => bytes,
        Err(reason) => return Event::Refused { what, reason },
    };
    let parsed = match csv::parse(&bytes) {
        Ok(parsed) => parsed,
        Err(e) => return Event::Refused { what, reason: format!("{}: {e}", path.display()) },
    };
    let file_name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let (mailboxes, diff) = merge::merge(project.state().inventory.as_ref(), &parsed);
    if mailboxes.is_empty() {
        return Event::Refused {
            what,
            reason: format!(
                "{file_name} holds no mailbox that could be read ({} rows rejected); nothing was changed",
                parsed.rejected.len()
            ),
        };
    }
    let report = ImportReport {
        file_name: file_name.clone(),
        encoding: parsed.encoding,
        delimiter: parsed.delimiter,
        mailboxes: mailboxes.len(),
        diff,
        rejected: parsed.rejected,
        warnings: parsed.warnings,
        missing_columns: parsed.missing_columns,
    };
    let detail = report.to_json();
    let count = mailboxes.len();
    let result = project.change(Some(StageId::SOURCE), "import-inventory", detail, |state| {
        let now = Utc::now();
        state.inventory = Some(Inventory { imported_at: now, file_name, mailboxes });
        let task = TaskRecord {
            status: TaskStatus::Done,
            detail: format!("{count} mailboxes; {}", report.diff.summary()),
            at: now,
        };
        state.stage_mut(StageId::SOURCE).tasks.insert("import-inventory".to_owned(), task);
        record_inventory_checks(state);
        Ok::<(), std::convert::Infallible>(())
    });
    match result {
        Ok(Ok(())) => Event::InventoryImported { state: Box::new(project.state().clone()), report: Box::new(report) },
        Ok(Err(never)) => match never {},
        Err(e) => Event::Failed { what, error: e.to_string() },
    }
}

fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_INVENTORY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_INVENTORY_BYTES {
        return Err(format!(
            "{} is larger than {} MiB; that is not a mailbox inventory",
            path.display(),
            MAX_INVENTORY_BYTES / 1024 / 1024
        ));
    }
    Ok(bytes)
}
