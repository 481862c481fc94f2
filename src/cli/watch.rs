//! `cutover watch [--project NAME] [--json] [--until synced|completed]`: follows the batch without the wizard (a
//! jump host, a log), or once the MX change is recorded and until stage 7 is done, the DNS propagation watch.
//! The runner runs the stage's own watch, read-only (`Command::Watch`), so the polls, the live file and the
//! checks recorded are the wizard's; this prints a line per change (one JSON object per line with `--json`).
//! Exit code 0 once the `--until` state is reached (for the DNS watch: every resolver returns the new records),
//! 1 when the batch fails, 130 on Ctrl-C.

use super::out::{OutputError, outln};
use crate::plan::StageId;
use crate::plan::migrate::MigrateSettings;
use crate::plan::migrate::follow::{Change, Until, Verdict, changes, verdict};
use crate::plan::migrate::health::Health;
use crate::plan::migrate::view::BatchView;
use crate::plan::mx::propagation::{CellChange, DnsView, diff};
use crate::project::{DataHome, Project};
use crate::runner::stages::mx::watch::DNS_LIVE;
use crate::runner::{self, Command, Event, LOG_HINT, stages};
use chrono::{DateTime, Utc};
use color_eyre::eyre::eyre;
use std::process::ExitCode;

/// What the command line calls the states `--until` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UntilArg {
    /// Every mailbox synced or further on (the failed ones are counted and named)
    Synced,
    /// The batch Completed or CompletedWithErrors
    Completed,
}

impl From<UntilArg> for Until {
    fn from(u: UntilArg) -> Until {
        match u {
            UntilArg::Synced => Until::Synced,
            UntilArg::Completed => Until::Completed,
        }
    }
}

/// The exit code of a watch stopped by Ctrl-C: what a shell reports for SIGINT (128 + 2).
const INTERRUPTED: u8 = 130;

/// Why the follow ends, once decided; the runner's watch is then stopped and its end awaited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Reached,
    BatchFailed,
    Interrupted,
}

pub fn run(project: Option<&str>, json: bool, until: Option<UntilArg>) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, project)?;
    let (project, _, _) = super::resume::open(&home, &name)?;
    let state = project.state();
    // The latest open stage whose watch has something to follow (the DNS once the MX change is recorded), else
    // the first open stage with a watch (the batch's).
    let open: Vec<StageId> = StageId::all().filter(|s| stages::of(*s).watches() && state.is_open(*s)).collect();
    let stage =
        open.iter().rev().find(|s| stages::of(**s).watch_wanted(state)).or(open.first()).copied().ok_or_else(|| {
            eyre!(
                "project {name} has no watch to follow yet: its stages are not that far (`cutover status` shows them)"
            )
        })?;
    let settings = state.migrate;
    let runtime = super::runtime()?;
    let end = runtime.block_on(follow(project, stage, settings, json, until.map(Until::from)))?;
    Ok(match end {
        End::Reached => ExitCode::SUCCESS,
        End::BatchFailed => ExitCode::FAILURE,
        End::Interrupted => ExitCode::from(INTERRUPTED),
    })
}

async fn follow(
    project: Project,
    stage: StageId,
    settings: MigrateSettings,
    json: bool,
    until: Option<Until>,
) -> color_eyre::Result<End> {
    // A resumed DNS watch prints only what changed since the view it kept, as the watch itself goes on from it.
    let mut last_dns = project.live().read::<DnsView>(DNS_LIVE).ok().flatten().unwrap_or_default();
    let mut runner = runner::spawn(project);
    runner.commands.send(Command::Watch { stage }).map_err(|_| eyre!("the runner stopped at once; see {LOG_HINT}"))?;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut job = None;
    let mut job_ended = false;
    let mut decided: Option<End> = None;
    let mut last = BatchView::default();
    let result = loop {
        tokio::select! {
            event = runner.events.recv() => {
                let Some(event) = event else {
                    break Err(eyre!("the runner stopped before the watch ended; see {LOG_HINT}"));
                };
                match event {
                    Event::JobStarted { id, label, .. } => {
                        job = Some(id);
                        super::out::warn(&format!("{label}… (Ctrl-C stops the watch only)"));
                    }
                    Event::JobNote { note, .. } => super::out::warn(&format!("  {note}")),
                    Event::BatchWatched { view, .. } if decided.is_none() => {
                        let now = Utc::now();
                        for change in changes(&last, &view, &settings, now) {
                            print_change(&change, json, now)?;
                        }
                        let judged = verdict(&view, &settings, until.unwrap_or(Until::Completed), now);
                        decided = match judged {
                            Verdict::BatchFailed(_) => Some(End::BatchFailed),
                            Verdict::Reached { .. } if until.is_some() => Some(End::Reached),
                            _ => None,
                        };
                        if decided.is_some() {
                            print_end(&judged, until, view.mailboxes.len(), json, now)?;
                            if let Some(id) = job {
                                let _ = runner.commands.send(Command::CancelJob { id });
                            }
                        }
                        last = (*view).clone();
                    }
                    Event::DnsWatched { view, .. } if decided.is_none() => {
                        let now = Utc::now();
                        for change in diff(&last_dns, &view) {
                            print_dns_change(&change, json, now)?;
                        }
                        if view.all_new() {
                            decided = Some(End::Reached);
                            print_dns_end(&view, json, now)?;
                        }
                        last_dns = (*view).clone();
                    }
                    // The live view could not be written: the watch goes on, and says so.
                    Event::Failed { what, error } => super::out::warn(&format!("  {what}: {error}")),
                    Event::Refused { reason, .. } => break Err(eyre!("{reason}")),
                    Event::SignInNeeded { reason, .. } => break Err(eyre!(
                        "{reason}; sign the project in with `cutover auth login`, then watch again"
                    )),
                    Event::NotAvailable { stage } => {
                        break Err(eyre!("stage {stage} ({}) has no watch in this version", stage.def().title));
                    }
                    Event::JobEnded { .. } => {
                        job_ended = true;
                        if let Some(end) = decided {
                            break Ok(end);
                        }
                    }
                    // The job's last word after it ended on its own, undecided: the watch stopped.
                    Event::Resumed { writes } => super::resume::lines(&writes),
                    _ if job_ended => break Err(eyre!("the watch stopped before the batch got there; see {LOG_HINT}")),
                    _ => {}
                }
            }
            _ = &mut ctrl_c, if decided.is_none() => {
                decided = Some(End::Interrupted);
                super::out::warn("Stopping the watch; what it follows goes on without it…");
                match job {
                    Some(id) => { let _ = runner.commands.send(Command::CancelJob { id }); }
                    None => break Ok(End::Interrupted),
                }
            }
        }
    };
    runner.shutdown().await;
    result
}

fn print_change(change: &Change, json: bool, now: DateTime<Utc>) -> Result<(), OutputError> {
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if json {
        let v = match change {
            Change::Mailbox { address, from, health, status } => serde_json::json!({
                "at": at, "event": "mailbox", "address": address, "from": from.as_ref().map(Health::label),
                "status": health.label(), "exchange_status": status.name(),
            }),
            Change::Batch { from, to } => serde_json::json!({
                "at": at, "event": "batch", "from": from.as_ref().map(|s| s.name()), "status": to.as_ref().map(|s| s.name()),
            }),
            Change::PollFailed { message } => serde_json::json!({ "at": at, "event": "poll-failed", "error": message }),
            Change::PollRecovered => serde_json::json!({ "at": at, "event": "poll-recovered" }),
        };
        return outln!("{v}");
    }
    let line = match change {
        Change::Mailbox { address, from: Some(from), health, status } => {
            format!("{address}: {} → {} ({status})", from.label(), health.label())
        }
        Change::Mailbox { address, from: None, health, status } => format!("{address}: {} ({status})", health.label()),
        Change::Batch { from: Some(from), to: Some(to) } => format!("batch: {from} → {to}"),
        Change::Batch { from: None, to: Some(to) } => format!("batch: {to}"),
        Change::Batch { to: None, .. } => "batch: gone from Exchange Online".to_owned(),
        Change::PollFailed { message } => format!("the poll failed: {message}"),
        Change::PollRecovered => "the poll works again".to_owned(),
    };
    outln!("{at}  {}", crate::safe_text::escape_controls(&line, false))
}

fn print_dns_change(change: &CellChange, json: bool, now: DateTime<Utc>) -> Result<(), OutputError> {
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if json {
        let v = serde_json::json!({
            "at": at, "event": "dns", "resolver": change.resolver, "domain": change.domain,
            "record": change.slot.label(), "from": change.from.label(), "status": change.to.label(),
        });
        return outln!("{v}");
    }
    let line = format!(
        "{} {} on {}: {} → {}",
        change.domain,
        change.slot.label(),
        change.resolver,
        change.from.label(),
        change.to.label()
    );
    outln!("{at}  {}", crate::safe_text::escape_controls(&line, false))
}

fn print_dns_end(view: &DnsView, json: bool, now: DateTime<Utc>) -> Result<(), OutputError> {
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (new, _) = view.counts();
    if json {
        return outln!("{}", serde_json::json!({ "at": at, "event": "propagated", "records": new }));
    }
    outln!("{at}  Propagated: every watched resolver returns the new records ({new} records).")
}

fn print_end(
    verdict: &Verdict,
    until: Option<Until>,
    total: usize,
    json: bool,
    now: DateTime<Utc>,
) -> Result<(), OutputError> {
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let word = match until {
        Some(Until::Synced) => "synced",
        Some(Until::Completed) | None => "completed",
    };
    match verdict {
        Verdict::Reached { migrated, failed } => {
            if json {
                return outln!(
                    "{}",
                    serde_json::json!({
                        "at": at, "event": "reached", "until": word, "mailboxes": total, "migrated": migrated,
                        "failed": failed,
                    })
                );
            }
            let failed_part = if failed.is_empty() {
                String::new()
            } else {
                format!("; {} did not get there (failed or stopped): {}", failed.len(), failed.join(", "))
            };
            outln!("{at}  Reached {word}: {migrated} of {total} mailboxes migrated{failed_part}.")
        }
        Verdict::BatchFailed(status) => {
            if json {
                return outln!("{}", serde_json::json!({ "at": at, "event": "batch-failed", "status": status.name() }));
            }
            outln!("{at}  The batch is {status}: `cutover status` shows each mailbox with its cause and fix.")
        }
        Verdict::Waiting => Ok(()),
    }
}
