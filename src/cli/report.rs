//! `cutover report migration [--project NAME] [--format md|html|csv|json] [--out FILE]`: the migration report on a
//! fresh read of the batch, made by the same function as stage 6's task export-report, to stdout or FILE.
//! `cutover report closeout [--project NAME] [--format md|html|json] [--out FILE]`: the closeout report from the
//! project alone, made by the same function as stage 9's task closeout-report.
//! Read-only: they take no lock and record nothing in the project.

use super::out::outln;
use crate::project::{AUDIT_FILE, AuditLog, DataHome, STATE_FILE, state};
use crate::report::closeout::criteria::Verdict;
use crate::report::render::{Format, render};
use crate::runner::connect::Connections;
use crate::runner::stages::post::closeout::closeout_report;
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

/// The closeout report's formats as the command line names them (it has no CSV layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CloseoutFormatArg {
    Md,
    Html,
    Json,
}

impl From<CloseoutFormatArg> for Format {
    fn from(f: CloseoutFormatArg) -> Format {
        match f {
            CloseoutFormatArg::Md => Format::Markdown,
            CloseoutFormatArg::Html => Format::Html,
            CloseoutFormatArg::Json => Format::Json,
        }
    }
}

/// Refuses an `--out` that cannot be written before any work is done, and one that would overwrite the
/// project's own records.
fn check_out(path: &Path, project_dir: &Path) -> color_eyre::Result<()> {
    let shown = path.display();
    if path.is_dir() {
        color_eyre::eyre::bail!("--out {shown} is a folder; give a file name in it, such as {shown}/report.md");
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        color_eyre::eyre::bail!(
            "--out {shown}: the folder {} does not exist; create it first or give a file in an existing folder",
            parent.display()
        );
    }
    let resolved = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let target = resolved(parent).join(path.file_name().unwrap_or_default());
    let own = [STATE_FILE, AUDIT_FILE].map(|f| resolved(&project_dir.join(f)));
    if own.contains(&target) || target.starts_with(resolved(&project_dir.join("live"))) {
        color_eyre::eyre::bail!(
            "--out {shown} is one of the project's own files; give a file outside {}",
            project_dir.display()
        );
    }
    Ok(())
}

pub fn closeout(project: Option<&str>, format: CloseoutFormatArg, out: Option<&Path>) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, project)?;
    let dir = home.project(&name);
    if let Some(path) = out {
        check_out(path, &dir)?;
    }
    if !dir.join(STATE_FILE).exists() {
        return Err(crate::project::missing(&home, &name).into());
    }
    let audit = AuditLog::new(dir.join(AUDIT_FILE));
    let state = state::load(&dir.join(STATE_FILE), &audit)?;
    super::resume::warn_unread(&audit);
    let report = closeout_report(&dir, &state, &audit, chrono::Utc::now())?;
    if !report.timeline.torn_lines.is_empty() {
        super::out::warn(&format!(
            "warning: {} line(s) of {} cannot be read and are left out of the timeline",
            report.timeline.torn_lines.len(),
            audit.path().display()
        ));
    }
    let text = crate::report::closeout::render::render(&report, format.into());
    match out {
        None => outln!("{}", text.trim_end())?,
        Some(path) => {
            crate::project::state::write_atomic(path, text.as_bytes())
                .wrap_err_with(|| format!("writing the report to {}", path.display()))?;
            let met = report.criteria.iter().filter(|c| c.verdict == Verdict::Met).count();
            super::out::warn(&format!(
                "Wrote the closeout report to {} ({met} of {} success criteria met).",
                path.display(),
                report.criteria.len()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn migration(project: Option<&str>, format: FormatArg, out: Option<&Path>) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, project)?;
    let dir = home.project(&name);
    if let Some(path) = out {
        check_out(path, &dir)?;
    }
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
