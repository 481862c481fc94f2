//! `cutover import inventory FILE`: the same import as `i` in stage 2, through the same runner, without the
//! screen. Exit code 0 when mailboxes were imported (rejected rows are listed on stderr), 1 when nothing was.

use super::out::outln;
use crate::project::DataHome;
use crate::runner::{self, Event};
use std::path::Path;
use std::process::ExitCode;

pub fn inventory(file: &Path, project: Option<&str>, json: bool, allow_removals: bool) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, project)?;
    let (mut project, _, _) = super::resume::open(&home, &name)?;
    match runner::execute(&mut project, runner::Command::ImportInventory { path: file.to_owned(), allow_removals }) {
        Event::InventoryImported { report, .. } => {
            if json {
                outln!("{}", report.to_json())?;
            } else {
                outln!("{}", report.summary())?;
                for line in report.lines().iter().skip(2) {
                    outln!("{line}")?;
                }
            }
            if let Some(warning) = report.foreign_warning() {
                super::out::warn(&warning);
            }
            for row in &report.rejected {
                super::out::warn(&format!("{}: line {}: {}", report.file_name, row.line, row.reason));
            }
            Ok(ExitCode::SUCCESS)
        }
        Event::ImportRemoves { file_name, refused, .. } => {
            super::out::error(&format!("{file_name}: {refused}"));
            Ok(ExitCode::FAILURE)
        }
        Event::Refused { reason, .. } | Event::Failed { error: reason, .. } => {
            super::out::error(&reason);
            Ok(ExitCode::FAILURE)
        }
        other => Err(color_eyre::eyre::eyre!("unexpected answer from the runner: {other:?}")),
    }
}
