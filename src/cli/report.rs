//! `cutover report migration [--project NAME] [--format md|html|csv|json] [--out FILE]`: the migration report on a
//! fresh read of the batch, made by the same function as stage 6's task export-report, to stdout or FILE.
//! Read-only: it takes no lock and records nothing in the project.

use super::out::outln;
use crate::project::{AUDIT_FILE, AuditLog, DataHome, STATE_FILE, state};
use crate::report::render::{Format, render};
use crate::runner::connect::Connections;
use crate::runner::stages::verify::{ReportError, migration_report};
use crate::secrets::Secrets;
use color_eyre::eyre::{WrapErr, eyre};
use std::path::Path;
use std::process::ExitCode;

/// The report formats as the command line names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Md,
    Html,
    Csv,
    Json,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Md => Format::Markdown,
            FormatArg::Html => Format::Html,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
        }
    }
}

pub fn migration(project: Option<&str>, format: FormatArg, out: Option<&Path>) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, project)?;
    let dir = home.project(&name);
    if !dir.join(STATE_FILE).exists() {
        return Err(crate::project::missing(&home, &name).into());
    }
    let state = state::load(&dir.join(STATE_FILE), &AuditLog::new(dir.join(AUDIT_FILE)))?;
    let conn = Connections::new(name.as_str(), &state, Secrets::open()?);
    let m365 = conn.m365.as_ref().map_err(|e| eyre!("the report reads the batch in Microsoft 365: {e}"))?;
    super::out::warn(&format!("Reading the batch of project {name}…"));
    let runtime = super::runtime()?;
    let report = runtime
        .block_on(crate::m365::observed(super::out::waits(), migration_report(&m365.exo, &state)))
        .map_err(|e| match e {
            ReportError::M365(e) => eyre!("the batch could not be read: {e}"),
            stale => eyre!("{stale}"),
        })?;
    let text = render(&report, format.into());
    match out {
        None => outln!("{}", text.trim_end())?,
        Some(path) => {
            crate::project::state::write_atomic(path, text.as_bytes())
                .wrap_err_with(|| format!("writing the report to {}", path.display()))?;
            super::out::warn(&format!(
                "Wrote the migration report to {} ({} rows).",
                path.display(),
                report.rows.len()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
