//! `cutover task TASK [--project NAME] [--json] [--yes] [--mailbox ADDRESS]... [--at RFC3339]`: runs one task of
//! the plan by its id through the runner, as the wizard's Enter does (the same `RunTask` command, `RunTaskFor`
//! with the picked mailboxes as the live table's keys send it, or `RunTaskAt` with the time a task records; the
//! same job, gating and audit path). The job's progress goes
//! to stderr as it comes, the outcome to stdout (one JSON document with `--json`); the exit code is 0 only when
//! the task succeeded.

use super::out::{OutputError, outln};
use crate::plan::{PLAN, TaskId, TaskStatus};
use crate::project::{DataHome, Project, ProjectState};
use crate::runner::{self, Command, Event, JobId, LOG_HINT, stages};
use color_eyre::eyre::{WrapErr, bail, eyre};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

/// How a run of the task ended.
enum End {
    /// The runner recorded the task; `ok` when it did all it was asked.
    Recorded { state: runner::Snapshot, ok: bool, text: String },
    /// Nothing was recorded: refused, not signed in, a password missing, a disk error.
    NotRun(String),
}

pub fn run(
    id: &str,
    project: Option<&str>,
    json: bool,
    yes: bool,
    mailboxes: Vec<String>,
    at: Option<&str>,
) -> color_eyre::Result<ExitCode> {
    let task =
        TaskId::parse(id.trim()).ok_or_else(|| eyre!("there is no task '{id}'. The tasks are:\n{}", all_ids()))?;
    let at = match at {
        None => None,
        Some(_) if !stages::of(task.stage()).takes_time(task) => {
            bail!("{task} ({}) records no time: --at is for a task such as the MX change's", task.def().title)
        }
        Some(text) => Some(
            chrono::DateTime::parse_from_rfc3339(text.trim())
                .map(|t| t.to_utc())
                .wrap_err_with(|| format!("--at {text:?} is not an RFC 3339 time such as 2026-12-01T21:30:00Z"))?,
        ),
    };
    for mailbox in &mailboxes {
        crate::text::validate_email(mailbox).map_err(|e| eyre!("--mailbox: {e}"))?;
    }
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, project)?;
    let (project, _, resumed) = super::resume::open(&home, &name)?;
    let def = task.def();
    let stage = task.stage();
    let state = project.state();
    // The wizard shows a demo task in a demo project only; run elsewhere it would record a failure.
    if def.demo_only && !state.demo {
        bail!(
            "{task} ({}) acts on the simulator, so it runs only in a demo project (`cutover demo`, or `cutover new \
             --simulator CONTROL_URL`); project {name} is not one",
            def.title
        );
    }
    if !state.is_open(stage)
        && let Some(reason) = crate::plan::gating::locked_reason(stage)
    {
        bail!("{task} ({}) is refused: {reason}", def.title);
    }
    if !mailboxes.is_empty() && !stages::of(stage).picks_mailboxes(task) {
        bail!("{task} ({}) acts on the whole batch or project: run it without --mailbox", def.title);
    }
    if stages::of(stage).writes_tenant(task) && !yes {
        confirm(task, state)?;
    }
    let before = state.verification.clone();
    let runtime = super::runtime()?;
    let end = runtime.block_on(drive(project, task, mailboxes, at))?;
    match end {
        End::Recorded { state, ok, text } => {
            if json {
                print_json(&state, task, ok, &text, &resumed)?;
            } else {
                print_text(&state, task, ok, &text, &before)?;
            }
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        End::NotRun(reason) => {
            if json {
                outln!(
                    "{}",
                    serde_json::json!({
                        "project": name.as_str(), "task": task, "stage": stage.number(), "ok": false, "error": reason,
                        "resumed": resumed,
                    })
                )?;
                super::out::error(&format!("{task}: {reason}"));
                Ok(ExitCode::FAILURE)
            } else {
                Err(eyre!("{task} ({}) did not run: {reason}", def.title))
            }
        }
    }
}

/// Every task id of the plan by stage, for the message on an unknown id.
fn all_ids() -> String {
    let mut lines = Vec::new();
    for stage in PLAN.iter().filter(|s| !s.tasks.is_empty()) {
        let ids: Vec<String> = stage
            .tasks
            .iter()
            .map(|t| if t.demo_only { format!("{} (demo only)", t.id) } else { t.id.to_string() })
            .collect();
        lines.push(format!("  stage {} ({}): {}", stage.id, stage.title, ids.join(", ")));
    }
    lines.join("\n")
}

/// Asks on the terminal before a write to the tenant; without a terminal the engineer confirms with --yes.
fn confirm(task: TaskId, state: &ProjectState) -> color_eyre::Result<()> {
    let tenant = state.kickoff.tenant.as_ref().map_or_else(|| "(no tenant set)".to_owned(), ToString::to_string);
    if !std::io::stdin().is_terminal() {
        bail!(
            "{task} ({}) writes to tenant {tenant}: add --yes to run it without a terminal to confirm on",
            task.def().title
        );
    }
    let mut stderr = std::io::stderr().lock();
    // The task's help says what the write does (complete-batch: synchronisation stops for good).
    let def = task.def();
    write!(
        stderr,
        "{} ({task}) writes to tenant {tenant} for project {}: {} Go on? [y/N] ",
        def.title, state.name, def.help
    )
    .and_then(|()| stderr.flush())
    .wrap_err("asking for confirmation on stderr")?;
    drop(stderr);
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).wrap_err("reading the answer from the terminal")?;
    if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        bail!("not confirmed: {task} did not run and nothing was changed");
    }
    Ok(())
}

/// Hands the task to a runner of its own and follows its events until the task's outcome; Ctrl-C stops the
/// job at its next safe point, as the wizard's stop key does, and what it did is still recorded.
async fn drive(
    project: Project,
    task: TaskId,
    mailboxes: Vec<String>,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> color_eyre::Result<End> {
    let mut runner = runner::spawn(project);
    // No task both records a time and acts per mailbox: `run` refused the flag the task does not take.
    let command = match at {
        Some(at) => Command::RunTaskAt { task, at },
        None if mailboxes.is_empty() => Command::RunTask { task },
        None => Command::RunTaskFor { task, mailboxes },
    };
    runner.commands.send(command).map_err(|_| eyre!("the runner stopped at once; see {LOG_HINT}"))?;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut job: Option<JobId> = None;
    let mut ended = false;
    let mut stopped = false;
    let end = loop {
        tokio::select! {
            event = runner.events.recv() => {
                let Some(event) = event else {
                    break End::NotRun(format!("the runner stopped before the task ended; see {LOG_HINT}"));
                };
                if let Some(end) = on_event(event, task, &mut job, &mut ended, stopped) {
                    break end;
                }
            }
            _ = &mut ctrl_c, if !stopped => {
                stopped = true;
                match job {
                    Some(id) => {
                        super::out::warn("Stopping at the next safe point; what was done is recorded…");
                        let _ = runner.commands.send(Command::CancelJob { id });
                    }
                    None => break End::NotRun("stopped before the task started; nothing was changed".to_owned()),
                }
            }
        }
    };
    runner.shutdown().await;
    Ok(end)
}

/// What one event of the runner means here: progress to show, or the task's end.
fn on_event(event: Event, task: TaskId, job: &mut Option<JobId>, ended: &mut bool, stopped: bool) -> Option<End> {
    let running = job.is_some() && !*ended;
    match event {
        Event::JobStarted { id, label, .. } => {
            *job = Some(id);
            super::out::warn(&format!("{label}…"));
            None
        }
        Event::JobProgress { label, .. } => {
            super::out::warn(&format!("  {label}"));
            None
        }
        Event::BatchWatched { .. } | Event::DnsWatched { .. } => None,
        Event::JobNote { note, .. } => {
            super::out::warn(&format!("  {note}"));
            None
        }
        Event::ConsentCode { permission, user_code, verification_uri, expires_in_secs, .. } => {
            super::out::warn(&format!(
                "  The task needs the Microsoft Graph permission {permission}, asked for only now: open \
                 {verification_uri} and enter the code {user_code} within {} minutes, signed in as the same admin, \
                 and accept {permission}. The task goes on by itself.",
                expires_in_secs.div_ceil(60)
            ));
            None
        }
        Event::JobEnded { .. } => {
            *ended = true;
            None
        }
        // What a running job recorded on its way; only a note is worth a line.
        Event::StateChanged { note, .. } if running => {
            if let Some(note) = note {
                super::out::warn(&format!("  {note}"));
            }
            None
        }
        Event::Failed { what, error } if running => {
            super::out::warn(&format!("  {what}: {error}"));
            None
        }
        Event::TaskDone { state, summary } => {
            // Done only if the task's own record says so: a watch stopped early is recorded as still running.
            let record = state.stage(task.stage()).and_then(|r| r.task(task)).map(|r| r.status);
            let ok = !stopped && record.is_none_or(|s| s == TaskStatus::Done);
            Some(End::Recorded { state, ok, text: summary })
        }
        Event::TaskFailed { state, error } => Some(End::Recorded { state, ok: false, text: error }),
        Event::Refused { reason, .. } => Some(End::NotRun(reason)),
        Event::ImportRemoves { file_name, refused, .. } => Some(End::NotRun(format!("{file_name}: {refused}"))),
        Event::Failed { error, .. } => Some(End::NotRun(error)),
        Event::NotAvailable { stage } => {
            Some(End::NotRun(format!("stage {stage} ({}) runs no tasks in this version", stage.def().title)))
        }
        Event::SignInNeeded { reason, .. } => Some(End::NotRun(format!(
            "{reason}; sign the project in with `cutover auth login`, then run the task again"
        ))),
        Event::PasswordNeeded { .. } => Some(End::NotRun(
            "the source migration account's password is not in the OS keyring; store it with \
             `cutover source --password-stdin`, then run the task again"
                .to_owned(),
        )),
        Event::Cancelled { what } => Some(End::NotRun(format!("{what} stopped before recording anything"))),
        Event::Resumed { writes } => {
            super::resume::lines(&writes);
            None
        }
        // A sign-in's own events, or a change with nothing to say: not this command's.
        Event::StateChanged { .. }
        | Event::InventoryImported { .. }
        | Event::SignInStarted { .. }
        | Event::DeviceCode { .. }
        | Event::SignedIn { .. }
        | Event::SignInEnded { .. } => None,
    }
}

fn record_json(state: &ProjectState, task: TaskId) -> serde_json::Value {
    let record = state.stage(task.stage()).and_then(|r| r.task(task));
    serde_json::json!(record)
}

fn print_json(
    state: &ProjectState,
    task: TaskId,
    ok: bool,
    text: &str,
    resumed: &[crate::protocol::Resumed],
) -> Result<(), OutputError> {
    let stage = task.stage();
    outln!(
        "{}",
        serde_json::json!({
            "project": state.name,
            "task": task,
            "title": task.def().title,
            "stage": stage.number(),
            "ok": ok,
            "summary": text,
            "record": record_json(state, task),
            "stage_status": super::status::status_word(state.status(stage)),
            "verification": state.verification,
            // The writes a crash had cut short, read back as the project opened.
            "resumed": resumed,
        })
    )
}

fn print_text(
    state: &ProjectState,
    task: TaskId,
    ok: bool,
    text: &str,
    before: &BTreeMap<String, String>,
) -> Result<(), OutputError> {
    let word = if ok { "done" } else { "not done" };
    outln!("{} ({task}): {word}. {text}", task.def().title)?;
    // New verification records are what the customer must publish next: worth showing where they appear.
    if state.verification != *before && !state.verification.is_empty() {
        outln!("Publish these TXT records at each domain's DNS host:")?;
        for (domain, txt) in &state.verification {
            outln!("  {domain}  TXT  \"{txt}\"")?;
        }
    }
    let stage = task.stage();
    outln!("Stage {stage} ({}) is {}.", stage.def().title, super::status::status_word(state.status(stage)))
}
