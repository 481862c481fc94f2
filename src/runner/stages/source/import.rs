//! Importing the mailbox inventory: read the file, parse it, merge it with the previous import, store it with
//! the stage-2 checks re-run, and report every rejected row. One audited change. A re-import that would
//! remove more than a few mailboxes changes nothing unless `allow_removals` is given: the wizard asks, the
//! command line wants `--allow-removals`. Mailboxes outside the kickoff's domains are warned of.

use super::{StageWork, Work};
use crate::inventory::Inventory;
use crate::inventory::csv;
use crate::inventory::merge;
use crate::inventory::report::{self, ImportReport, MAX_INVENTORY_BYTES};
use crate::plan::source::{STAGE, Task};
use crate::plan::{TaskRecord, TaskStatus};
use crate::project::Project;
use crate::protocol::Event;
use chrono::Utc;
use std::path::Path;

/// Imports the inventory at `path`; `allow_removals` lets it remove more than a few mailboxes.
pub(super) fn run(project: &mut Project, path: &Path, allow_removals: bool) -> Event {
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
    let previous = project.state().inventory.as_deref();
    let (mailboxes, diff) = merge::merge(previous, &parsed);
    let previous_count = previous.map_or(0, |p| p.mailboxes.len());
    if let Err(refused) = merge::check_removals(&diff, previous_count, allow_removals) {
        // Nothing changed; the wizard asks, the command line says to allow them.
        return Event::ImportRemoves { path: path.to_owned(), file_name, refused };
    }
    if mailboxes.is_empty() {
        return Event::Refused {
            what,
            reason: format!(
                "{file_name} holds no mailbox that could be read ({} rows rejected); nothing was changed",
                parsed.rejected.len()
            ),
        };
    }
    let foreign_domains = report::foreign_domains(&mailboxes, &project.state().kickoff.domains);
    let report = ImportReport {
        foreign_domains,
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
    let result = project.change(Some(STAGE), "import-inventory", detail, |state| {
        let now = Utc::now();
        state.inventory = Some(std::sync::Arc::new(Inventory { imported_at: now, file_name, mailboxes }));
        let task = TaskRecord {
            status: TaskStatus::Done,
            detail: format!("{count} mailboxes; {}", report.diff.summary()),
            at: now,
        };
        state.stage_mut(STAGE).record_task(Task::ImportInventory, task);
        Work.refresh(state);
        Ok::<(), std::convert::Infallible>(())
    });
    match result {
        Ok(Ok(())) => Event::InventoryImported { state: project.snapshot(), report: Box::new(report) },
        Ok(Err(never)) => match never {},
        Err(e) => Event::Failed { what, error: e.to_string() },
    }
}

fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    crate::input_file::read_limited(path, MAX_INVENTORY_BYTES, "a mailbox inventory")
        .map_err(|e| format!("{e}; give the path of the inventory CSV that assets/Get-CutoverInventory.ps1 wrote"))
}
