//! The runner: carries out the wizard's [`Command`]s and answers with [`Event`]s. It owns the open project, so
//! every change goes through [`Project::change`] (audited before and after) in the order the commands came.

pub mod checks;
pub mod connect;
pub mod import;
pub mod jobs;
mod signin;
pub mod tasks;
mod work;

pub use work::Task;

pub use crate::inventory::report::{ImportReport, MAX_INVENTORY_BYTES};

use crate::plan::kickoff::{self, Field};
use crate::plan::settings::Setting;
use crate::plan::source;
use crate::plan::{CheckResult, Outcome, Override, StageId};
use crate::project::{Project, ProjectState, audit};
use crate::secrets::Secrets;
use chrono::Utc;
use connect::Connections;
use jobs::{Apply, Job, JobContext, JobId};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Shortest override reason accepted: a few words, not a keystroke.
pub const MIN_OVERRIDE_REASON: usize = 10;

/// What the wizard asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Store one kickoff field (validated again here) and re-run the kickoff checks.
    SetKickoffField { field: Field, value: String },
    /// Run the read-only checks of a stage and record their results.
    RunChecks { stage: StageId },
    /// Go on despite a failed check, for a written reason.
    Override { stage: StageId, check: String, reason: String },
    /// Import the mailbox inventory CSV; rows that fail are reported, good rows kept.
    ImportInventory { path: PathBuf },
    /// Mark or unmark a mailbox (by primary SMTP address) as a VIP.
    SetVip { key: String, vip: bool },
    /// Store a setting of stage 2 or 3 (validated again here); stage 2's re-run the inventory checks.
    SetSetting { setting: Setting, value: String },
    /// Sign the project in to Microsoft 365 with a device code; the code comes back as [`Event::DeviceCode`].
    SignIn,
    /// Stop a running job at its next safe point.
    CancelJob { id: JobId },
    /// Start a stage task (a write to the tenant or, in a demo, the simulated registrar).
    RunTask { task: Task },
    /// Keep the source migration account's password in the OS keyring.
    StoreSourcePassword(crate::secrets::Secret),
    /// Put a text on the engineer's clipboard. The wizard's loop does this itself (OSC 52), not the runner.
    CopyToClipboard(String),
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The project state after a change; the wizard shows this copy.
    StateChanged(Box<ProjectState>),
    /// A value or request was refused; nothing changed.
    Refused { what: String, reason: String },
    /// Something could not be done (disk, I/O); nothing changed.
    Failed { what: String, error: String },
    /// The work asked for is not built in this version.
    NotAvailable { stage: StageId },
    /// An inventory was imported; the new state comes with it.
    InventoryImported { state: Box<ProjectState>, report: Box<ImportReport> },
    /// A job began; it can be cancelled by its id.
    JobStarted { id: JobId, label: String },
    /// How far a running job is.
    JobProgress { id: JobId, label: String, done: u64, total: Option<u64> },
    /// A job is over; what it found follows as its own event.
    JobEnded { id: JobId },
    /// Work needs a Microsoft 365 sign-in that the project does not hold; `retry` is sent again once signed in.
    SignInNeeded { retry: Option<Box<Command>>, reason: String },
    /// A device code sign-in is under way as job `job`; its code follows.
    SignInStarted { job: JobId },
    /// The code to enter at the verification page.
    DeviceCode { job: JobId, user_code: String, verification_uri: String, expires_in_secs: u64 },
    /// The sign-in succeeded and is kept in the OS keyring.
    SignedIn { account: Option<String> },
    /// The sign-in did not complete: cancelled (no error) or failed.
    SignInEnded { error: Option<String> },
    /// Work was stopped by the engineer before it recorded anything.
    Cancelled { what: String },
    /// A task needs the source migration account's password, which the keyring does not hold.
    PasswordNeeded { retry: Box<Command> },
    /// A task finished (or stopped) and its outcome is recorded.
    TaskDone { state: Box<ProjectState>, summary: String },
    /// A task failed; the failure is recorded.
    TaskFailed { state: Box<ProjectState>, error: String },
}

/// Where to look when the runner stops on its own.
pub const LOG_HINT: &str = "the project's cutover.log";

/// The wizard's side of the runner.
#[derive(Debug)]
pub struct RunnerHandle {
    pub commands: mpsc::UnboundedSender<Command>,
    pub events: mpsc::UnboundedReceiver<Event>,
    task: tokio::task::JoinHandle<()>,
}

impl RunnerHandle {
    /// Lets the runner finish the commands already sent, then waits for it to release the project.
    pub async fn shutdown(self) {
        let RunnerHandle { commands, events, task } = self;
        drop(commands);
        drop(events);
        if let Err(e) = task.await {
            tracing::error!(error = %e, "the runner ended abnormally");
        }
    }
}

/// Starts the runner on the current tokio runtime.
pub fn spawn(project: Project) -> RunnerHandle {
    let (command_tx, mut command_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let mut runner = Runner {
            project,
            events: event_tx,
            done: done_tx,
            jobs: HashMap::new(),
            next_job: 1,
            tasks: HashMap::new(),
            sign_in: None,
            connections: None,
        };
        loop {
            tokio::select! {
                command = command_rx.recv() => match command {
                    Some(command) => runner.handle(command),
                    None => break,
                },
                Some((id, apply)) = done_rx.recv() => runner.finish(id, apply),
            }
        }
        runner.wind_down(&mut done_rx).await;
    });
    RunnerHandle { commands: command_tx, events: event_rx, task }
}

/// How long the runner waits for cancelled jobs to reach a safe point when the wizard closes.
const WIND_DOWN: std::time::Duration = std::time::Duration::from_secs(10);

/// The runner's own state: the project, the running jobs and the tenant's clients once built.
struct Runner {
    project: Project,
    events: mpsc::UnboundedSender<Event>,
    done: mpsc::UnboundedSender<(JobId, Apply)>,
    jobs: HashMap<JobId, CancellationToken>,
    next_job: JobId,
    /// The stage tasks among the running jobs, so one is never started twice at once.
    tasks: HashMap<JobId, Task>,
    /// The device code sign-in under way, if any.
    sign_in: Option<JobId>,
    /// Built on first use and rebuilt when the settings they come from change.
    connections: Option<(String, Arc<Connections>)>,
}

impl Runner {
    fn send(&self, event: Event) {
        // The wizard may have closed already; the work is done and audited either way.
        let _ = self.events.send(event);
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::SignIn => {
                if let Some(job) = self.sign_in {
                    // One sign-in at a time: the dialog follows the one under way.
                    self.send(Event::SignInStarted { job });
                    return;
                }
                match self.connections().and_then(|c| c.m365.as_ref().map(Clone::clone).map_err(ToString::to_string)) {
                    Ok(m365) => {
                        let job = self.start(signin::job(m365));
                        self.sign_in = Some(job);
                        self.send(Event::SignInStarted { job });
                    }
                    Err(error) => self.send(Event::SignInEnded { error: Some(error) }),
                }
            }
            Command::RunChecks { stage } if checks::is_live(stage) => match self.connections() {
                Ok(conn) => {
                    self.start(work::checks(stage, self.project.state().clone(), conn));
                }
                Err(error) => self.send(Event::Failed { what: "checks".to_owned(), error }),
            },
            Command::RunTask { task } => {
                // Checked here too: a task sent again after a sign-in may meet a stage locked meanwhile.
                if !self.project.state().is_open(task.stage()) {
                    let reason = format!("stage {} is locked until the stage before it is done", task.stage());
                    self.send(Event::Refused { what: task.label().to_owned(), reason });
                } else if self.tasks.values().any(|t| *t == task) {
                    let reason = "it is running already; x stops it".to_owned();
                    self.send(Event::Refused { what: task.label().to_owned(), reason });
                } else {
                    match self.connections() {
                        Ok(conn) => {
                            let inputs = work::TaskInputs { state: self.project.state().clone(), conn };
                            let id = self.start(work::task(task, inputs));
                            self.tasks.insert(id, task);
                        }
                        Err(error) => self.send(Event::Failed { what: task.label().to_owned(), error }),
                    }
                }
            }
            Command::StoreSourcePassword(secret) => {
                let stored = tokio::task::block_in_place(|| {
                    let secrets = Secrets::open().map_err(|e| e.to_string())?;
                    match store_source_password(&mut self.project, &secrets, &secret) {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(e) => Err(e.to_string()),
                    }
                });
                if let Err(error) = stored {
                    self.send(Event::Failed { what: "the source password".to_owned(), error });
                }
            }
            Command::CancelJob { id } => {
                if let Some(cancel) = self.jobs.get(&id) {
                    cancel.cancel();
                }
            }
            Command::CopyToClipboard(_) => {}
            command => {
                // Project writes are small and fsynced; they must stay in order, so they run here, marked as blocking.
                let event = tokio::task::block_in_place(|| execute(&mut self.project, command));
                self.send(event);
            }
        }
    }

    /// Runs `job` in its own task; what it hands back is applied here, in order with the commands.
    fn start(&mut self, job: Job) -> JobId {
        let id = self.next_job;
        self.next_job += 1;
        let ctx = JobContext::new(id, self.events.clone(), self.project.audit().clone());
        self.jobs.insert(id, ctx.cancel.clone());
        self.send(Event::JobStarted { id, label: job.label.clone() });
        let done = self.done.clone();
        let label = job.label;
        let work = (job.work)(ctx);
        tokio::spawn(async move {
            let apply = match tokio::spawn(work).await {
                Ok(apply) => apply,
                Err(e) => {
                    tracing::error!(error = %e, job = id, "a job ended abnormally");
                    let failed: Apply = Box::new(move |_| Event::Failed {
                        what: label,
                        error: format!("it stopped on an internal error; see {LOG_HINT}"),
                    });
                    failed
                }
            };
            let _ = done.send((id, apply));
        });
        id
    }

    fn finish(&mut self, id: JobId, apply: Apply) {
        self.jobs.remove(&id);
        self.tasks.remove(&id);
        if self.sign_in == Some(id) {
            self.sign_in = None;
        }
        let event = tokio::task::block_in_place(|| apply(&mut self.project));
        self.send(Event::JobEnded { id });
        self.send(event);
    }

    /// The wizard closed: running jobs are cancelled and what they found is still recorded.
    async fn wind_down(&mut self, done_rx: &mut mpsc::UnboundedReceiver<(JobId, Apply)>) {
        for cancel in self.jobs.values() {
            cancel.cancel();
        }
        let deadline = tokio::time::Instant::now() + WIND_DOWN;
        while !self.jobs.is_empty() {
            match tokio::time::timeout_at(deadline, done_rx.recv()).await {
                Ok(Some((id, apply))) => self.finish(id, apply),
                Ok(None) | Err(_) => {
                    tracing::warn!(jobs = self.jobs.len(), "jobs still running when the wizard closed");
                    break;
                }
            }
        }
    }

    /// What the checks and tasks talk to, built from the project's settings; no network call is made here.
    fn connections(&mut self) -> Result<Arc<Connections>, String> {
        let state = self.project.state();
        let key = serde_json::json!([state.kickoff.tenant, state.kickoff.domains, state.m365, state.source_access])
            .to_string();
        if let Some((built, conn)) = &self.connections
            && *built == key
        {
            return Ok(conn.clone());
        }
        // Opening the keyring may ask D-Bus; the loop must not stall on it.
        let secrets = tokio::task::block_in_place(Secrets::open).map_err(|e| e.to_string())?;
        let conn = Arc::new(Connections::new(&state.name, state, secrets));
        self.connections = Some((key, conn.clone()));
        Ok(conn)
    }
}

/// Carries out one command against the project.
pub fn execute(project: &mut Project, command: Command) -> Event {
    match command {
        Command::SetKickoffField { field, value } => {
            let detail = serde_json::json!({ "field": field, "value": value });
            let result = project.change(Some(StageId::KICKOFF), "set-kickoff-field", detail, |state| {
                field.apply(&mut state.kickoff, &value)?;
                record_kickoff_checks(state);
                Ok::<(), kickoff::ValidationError>(())
            });
            outcome(project, field.label(), result)
        }
        Command::RunChecks { stage } if stage == StageId::KICKOFF => {
            let detail = serde_json::json!({ "stage": stage.number() });
            let result = project.change(Some(stage), "run-checks", detail, |state| {
                record_kickoff_checks(state);
                Ok::<(), std::convert::Infallible>(())
            });
            outcome(project, "checks", result)
        }
        Command::RunChecks { stage } if checks::is_live(stage) => Event::Refused {
            what: "checks".to_owned(),
            reason: format!(
                "stage {stage}'s checks go on the network: the running wizard or `cutover check` runs them"
            ),
        },
        Command::RunChecks { stage } => Event::NotAvailable { stage },
        Command::SignIn
        | Command::CancelJob { .. }
        | Command::CopyToClipboard(_)
        | Command::RunTask { .. }
        | Command::StoreSourcePassword(_) => Event::Refused {
            what: "request".to_owned(),
            reason: "only the running wizard does network work, keeps secrets or copies".to_owned(),
        },
        Command::Override { stage, check, reason } => {
            let reason = reason.trim().to_owned();
            let what = format!("override of {check}");
            if reason.chars().count() < MIN_OVERRIDE_REASON {
                return Event::Refused {
                    what,
                    reason: format!(
                        "write a reason of at least {MIN_OVERRIDE_REASON} characters; it goes into the closeout report"
                    ),
                };
            }
            if stage.def().check(&check).is_none() {
                return Event::Refused { what, reason: format!("stage {stage} has no check '{check}'") };
            }
            if project.state().stage(stage).map(|r| r.outcome(&check)) != Some(Outcome::Fail) {
                return Event::Refused { what, reason: "only a failed check can be overridden".to_owned() };
            }
            let detail = serde_json::json!({ "check": check, "reason": reason });
            let result = project.change(Some(stage), "override-check", detail, |state| {
                let entry = Override { reason, by: audit::current_actor(), at: Utc::now() };
                state.stage_mut(stage).overrides.insert(check, entry);
                Ok::<(), std::convert::Infallible>(())
            });
            outcome(project, &what, result)
        }
        Command::ImportInventory { path } => import::run(project, &path, false),
        Command::SetVip { key, vip } => {
            let key = key.to_ascii_lowercase();
            let known = project.state().inventory.as_ref().is_some_and(|i| i.mailboxes.iter().any(|m| m.key() == key));
            if !known {
                return Event::Refused { what: "VIP".to_owned(), reason: format!("{key} is not in the inventory") };
            }
            let detail = serde_json::json!({ "mailbox": key, "vip": vip });
            let result = project.change(Some(StageId::SOURCE), "mark-vip", detail, |state| {
                if vip {
                    state.vips.insert(key);
                } else {
                    state.vips.remove(&key);
                }
                let count = state.vips.len();
                let task = crate::plan::TaskRecord {
                    status: crate::plan::TaskStatus::Done,
                    detail: format!("{count} VIP mailbox(es) marked"),
                    at: Utc::now(),
                };
                state.stage_mut(StageId::SOURCE).tasks.insert("mark-vips".to_owned(), task);
                record_inventory_checks(state);
                Ok::<(), std::convert::Infallible>(())
            });
            outcome(project, "VIP", result)
        }
        Command::SetSetting { setting, value } => {
            let stage = setting.stage();
            let detail = serde_json::json!({ "setting": setting, "value": value });
            let result = project.change(Some(stage), "set-setting", detail, |state| {
                setting.apply(state.settings_mut(), &value)?;
                if stage == StageId::SOURCE {
                    record_inventory_checks(state);
                }
                if setting == Setting::Provisioning {
                    let detail = match state.users.provisioning {
                        crate::plan::users::Provisioning::ByBatch => "The cutover batch creates the cloud accounts.",
                        crate::plan::users::Provisioning::PreCreate => {
                            "cutover pre-creates the cloud accounts (the tasks below)."
                        }
                    };
                    let record = crate::plan::TaskRecord {
                        status: crate::plan::TaskStatus::Done,
                        detail: detail.to_owned(),
                        at: Utc::now(),
                    };
                    state.stage_mut(StageId::USERS).tasks.insert("choose-provisioning".to_owned(), record);
                }
                Ok::<(), kickoff::ValidationError>(())
            });
            outcome(project, setting.label(), result)
        }
    }
}

/// Records a run of a stage's checks, audited; stage 2's inventory checks are taken afresh from the project as it
/// is now, since an import or a setting may have changed while the network checks ran.
pub fn record_check_run(
    project: &mut Project,
    stage: StageId,
    results: Vec<(&'static str, CheckResult)>,
    from: &str,
) -> Result<Result<(), std::convert::Infallible>, crate::project::ProjectError> {
    let detail = serde_json::json!({ "stage": stage.number(), "from": from });
    project.change(Some(stage), "run-checks", detail, |state| {
        record_checks(state, stage, results);
        if stage == StageId::SOURCE {
            record_inventory_checks(state);
        }
        Ok(())
    })
}

/// Keeps the source migration account's password in the OS keyring, audited: the record names the keyring
/// account, never the password.
pub fn store_source_password(
    project: &mut Project,
    secrets: &Secrets,
    password: &crate::secrets::Secret,
) -> Result<Result<(), crate::secrets::SecretsError>, crate::project::ProjectError> {
    let name = project.state().name.clone();
    let detail = serde_json::json!({ "keyring_account": format!("{name}/source-password") });
    project.change(Some(StageId::SOURCE), "store-source-password", detail, |_| {
        secrets.save(&name, &crate::secrets::SecretKind::SourcePassword, password)
    })
}

/// The kickoff checks are pure and cheap, so they are re-run with every kickoff change.
fn record_kickoff_checks(state: &mut ProjectState) {
    let results = kickoff::run_checks(&state.kickoff, Utc::now());
    record_checks(state, StageId::KICKOFF, results);
}

/// Likewise the stage-2 checks that read only the inventory, with every inventory, VIP or setting change.
fn record_inventory_checks(state: &mut ProjectState) {
    let results = source::run_inventory_checks(
        state.inventory.as_ref(),
        &state.vips,
        &state.source,
        state.kickoff.mailboxes,
        Utc::now(),
    );
    record_checks(state, StageId::SOURCE, results);
}

pub(crate) fn record_checks(state: &mut ProjectState, stage: StageId, results: Vec<(&'static str, CheckResult)>) {
    let record = state.stage_mut(stage);
    for (id, result) in results {
        record.checks.insert(id.to_owned(), result);
    }
}

pub(crate) fn outcome<E: std::fmt::Display>(
    project: &Project,
    what: &str,
    result: Result<Result<(), E>, crate::project::ProjectError>,
) -> Event {
    match result {
        Ok(Ok(())) => Event::StateChanged(Box::new(project.state().clone())),
        Ok(Err(refused)) => Event::Refused { what: what.to_owned(), reason: refused.to_string() },
        Err(error) => Event::Failed { what: what.to_owned(), error: error.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{DataHome, Phase, ProjectName};

    fn project(dir: &std::path::Path) -> Project {
        Project::create(&DataHome::at(dir), &ProjectName::parse("acme").expect("name"), false).expect("create")
    }

    #[test]
    fn a_kickoff_field_is_saved_with_fresh_checks_and_audited() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let event = execute(&mut p, Command::SetKickoffField { field: Field::Mailboxes, value: "2500".into() });
        let Event::StateChanged(state) = event else { panic!("expected a state change, got {event:?}") };
        assert_eq!(state.kickoff.mailboxes, Some(2_500));
        assert_eq!(state.stage(StageId::KICKOFF).map(|r| r.outcome("cutover-limits")), Some(Outcome::Fail));
        let (records, _) = p.audit().read().expect("audit");
        let last = records.last().expect("a record");
        assert_eq!((last.action.as_str(), last.phase), ("set-kickoff-field", Phase::Done));
    }

    #[test]
    fn an_invalid_value_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let before = p.state().clone();
        let event = execute(&mut p, Command::SetKickoffField { field: Field::Tenant, value: "contoso".into() });
        assert!(matches!(event, Event::Refused { ref reason, .. } if reason.contains("'contoso'")), "{event:?}");
        assert_eq!(p.state(), &before);
    }

    #[test]
    fn overrides_need_a_failed_check_and_a_real_reason() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let over = |reason: &str| Command::Override {
            stage: StageId::KICKOFF,
            check: "cutover-limits".into(),
            reason: reason.into(),
        };
        assert!(matches!(execute(&mut p, over("customer accepts the risk")), Event::Refused { .. }), "not run yet");
        execute(&mut p, Command::SetKickoffField { field: Field::Mailboxes, value: "2500".into() });
        assert!(matches!(execute(&mut p, over("ok")), Event::Refused { .. }), "too short");
        let event = execute(&mut p, over("two batches agreed with the customer"));
        let Event::StateChanged(state) = event else { panic!("expected a state change, got {event:?}") };
        let record = state.stage(StageId::KICKOFF).expect("stage 1 record");
        assert_eq!(
            record.active_override("cutover-limits").map(|o| o.reason.as_str()),
            Some("two batches agreed with the customer")
        );
    }

    #[test]
    fn checks_of_stages_not_built_yet_say_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        assert_eq!(
            execute(&mut p, Command::RunChecks { stage: StageId::MIGRATE }),
            Event::NotAvailable { stage: StageId::MIGRATE }
        );
        let live = execute(&mut p, Command::RunChecks { stage: StageId::USERS });
        assert!(matches!(&live, Event::Refused { reason, .. } if reason.contains("cutover check")), "{live:?}");
    }

    fn sample() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/inventory-typical.csv")
    }

    #[test]
    fn an_import_stores_the_mailboxes_runs_the_checks_and_audits_the_rejected_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let event = execute(&mut p, Command::ImportInventory { path: sample() });
        let Event::InventoryImported { state, report } = event else { panic!("expected an import, got {event:?}") };
        assert_eq!(report.mailboxes, 120);
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert_eq!(state.inventory.as_ref().map(|i| i.mailboxes.len()), Some(120));
        let stage = state.stage(StageId::SOURCE).expect("stage 2 record");
        assert_eq!(stage.outcome("high-risk"), Outcome::Fail, "two hidden mailboxes and one over 100 GB");
        assert_eq!(stage.outcome("mailbox-count"), Outcome::Pass, "118 visible mailboxes, no kickoff estimate");
        assert!(stage.tasks.contains_key("import-inventory"));

        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "PrimarySmtpAddress,TotalItemSize\nceo@contoso.example,huge\nnew@contoso.example,10\n")
            .expect("write");
        // 119 mailboxes gone from the file: refused until removals are allowed, naming them and the fix.
        let event = execute(&mut p, Command::ImportInventory { path: bad.clone() });
        let Event::Refused { reason, .. } = &event else { panic!("expected a refusal, got {event:?}") };
        assert!(reason.contains("remove 119 of 120") && reason.contains("--allow-removals"), "{reason}");
        assert_eq!(p.state().inventory.as_ref().map(|i| i.mailboxes.len()), Some(120), "nothing changed");
        let event = import::run(&mut p, &bad, true);
        let Event::InventoryImported { state, report } = event else { panic!("expected an import, got {event:?}") };
        assert_eq!(report.rejected.len(), 1);
        assert_eq!(report.rejected[0].line, 2);
        assert_eq!(report.diff.kept_from_previous, vec!["ceo@contoso.example"]);
        assert_eq!(report.diff.added, vec!["new@contoso.example"]);
        assert_eq!(state.inventory.as_ref().map(|i| i.mailboxes.len()), Some(2));
        let (records, _) = p.audit().read().expect("audit");
        let last = records.last().expect("a record");
        assert_eq!(last.action, "import-inventory");
        assert_eq!(last.detail["rejected"][0]["line"], 2);
    }

    #[test]
    fn an_unreadable_file_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let before = p.state().clone();
        let missing = dir.path().join("nope.csv");
        let event = execute(&mut p, Command::ImportInventory { path: missing });
        assert!(matches!(&event, Event::Refused { reason, .. } if reason.contains("nope.csv")), "{event:?}");
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, "").expect("write");
        assert!(matches!(execute(&mut p, Command::ImportInventory { path: empty }), Event::Refused { .. }));
        assert_eq!(p.state(), &before);
    }

    #[test]
    fn vips_and_settings_are_saved_and_rerun_the_checks() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        execute(&mut p, Command::ImportInventory { path: sample() });
        let event = execute(&mut p, Command::SetVip { key: "CEO@contoso.example".into(), vip: true });
        let Event::StateChanged(state) = event else { panic!("expected a state change, got {event:?}") };
        assert!(state.vips.contains("ceo@contoso.example"));
        let risk = &state.stage(StageId::SOURCE).expect("record").checks["high-risk"];
        assert!(risk.evidence.contains("ceo@contoso.example (VIP)"), "{}", risk.evidence);
        let unknown = execute(&mut p, Command::SetVip { key: "nobody@contoso.example".into(), vip: true });
        assert!(matches!(unknown, Event::Refused { .. }));
        let event = execute(&mut p, Command::SetSetting { setting: Setting::UploadBandwidth, value: "100".into() });
        let Event::StateChanged(state) = event else { panic!("expected a state change, got {event:?}") };
        let totals = &state.stage(StageId::SOURCE).expect("record").checks["totals"];
        assert_eq!(totals.outcome, Outcome::Pass, "{}", totals.evidence);
        assert!(totals.evidence.contains("Initial sync:"), "{}", totals.evidence);
        let refused = execute(&mut p, Command::SetSetting { setting: Setting::Concurrency, value: "500".into() });
        assert!(matches!(refused, Event::Refused { .. }));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_task_of_a_locked_stage_is_refused_by_the_runner_too() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut runner = spawn(project(dir.path()));
        runner.commands.send(Command::RunTask { task: Task::AddDomains }).expect("send");
        let event = runner.events.recv().await.expect("an answer");
        assert!(matches!(&event, Event::Refused { reason, .. } if reason.contains("stage 4 is locked")), "{event:?}");
        runner.shutdown().await;
    }

    #[test]
    fn choosing_who_creates_the_accounts_records_the_task() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let event = execute(&mut p, Command::SetSetting { setting: Setting::Provisioning, value: "pre-create".into() });
        let Event::StateChanged(state) = event else { panic!("expected a state change, got {event:?}") };
        let task = &state.stage(StageId::USERS).expect("stage 3 record").tasks["choose-provisioning"];
        assert_eq!(task.status, crate::plan::TaskStatus::Done);
        assert!(task.detail.contains("pre-creates"), "{}", task.detail);
    }
}
