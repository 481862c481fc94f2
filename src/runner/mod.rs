//! The runner: carries out the wizard's [`Command`]s and answers with [`Event`]s. It owns the open project, so
//! every change goes through [`Project::change`] (audited before and after) in the order the commands and the
//! jobs' changes came. What is particular to a stage lives in its file under [`stages`]; this file dispatches on
//! the stage only.

pub mod checks;
pub mod connect;
pub mod jobs;
pub mod resume;
pub mod signin;
pub mod stages;
pub mod tasks;
mod work;

pub use crate::inventory::report::{ImportReport, MAX_INVENTORY_BYTES};
pub use crate::protocol::{Command, Event, JobId, LOG_HINT, Snapshot};

use crate::plan::gating::MIN_OVERRIDE_REASON;
use crate::plan::{CheckId, CheckResult, Outcome, Override, StageId, TaskId};
use crate::project::{Project, ProjectState};
use crate::secrets::Secrets;
use chrono::{DateTime, Utc};
use connect::Connections;
use jobs::{Apply, Job, JobContext, JobMsg};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The wizard's side of the runner: the two channel ends, and the runner's task to wait for.
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
            watching: HashMap::new(),
            sign_in: None,
            connections: None,
        };
        // Before any command: writes a crash cut short are read back and the wizard told.
        let writes = resume::reconcile(&mut runner.project, resume_connections).await;
        if !writes.is_empty() {
            runner.send(Event::Resumed { writes });
        }
        loop {
            tokio::select! {
                command = command_rx.recv() => match command {
                    Some(command) => runner.handle(command),
                    None => break,
                },
                Some((id, msg)) = done_rx.recv() => runner.job_message(id, msg),
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
    done: mpsc::UnboundedSender<(JobId, JobMsg)>,
    jobs: HashMap<JobId, CancellationToken>,
    next_job: JobId,
    /// The plan tasks among the running jobs, so one is never started twice at once.
    tasks: HashMap<JobId, TaskId>,
    /// The stages' own watches among the running jobs, so one is never followed twice at once.
    watching: HashMap<JobId, StageId>,
    /// The device code sign-in under way, if any.
    sign_in: Option<JobId>,
    /// Built on first use and rebuilt when the settings they come from change.
    connections: Option<(String, Arc<Connections>)>,
}

/// What the demo's clock jump is called in notices.
fn strings_skip_ahead(seconds: u64) -> String {
    format!("moving the simulated clock {} h on", seconds / 3600)
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
            Command::RunChecks { stage } if stages::of(stage).live_checks() => match self.connections() {
                Ok(conn) => {
                    self.start(work::checks(stage, self.project.state().clone(), conn));
                }
                Err(error) => self.send(Event::Failed { what: "checks".to_owned(), error }),
            },
            Command::SkipAhead { seconds } => self.skip_ahead(seconds),
            Command::RunTask { task } => self.run_task(task, Vec::new(), None),
            Command::RunTaskFor { task, mailboxes } => self.run_task(task, mailboxes, None),
            Command::RunTaskAt { task, at } => self.run_task(task, Vec::new(), Some(at)),
            Command::Watch { stage } => {
                let what = format!("the watch of stage {stage}");
                if self.watching.values().any(|s| *s == stage) {
                    self.send(Event::Refused { what, reason: "it is running already".to_owned() });
                } else if !stages::of(stage).watches() {
                    self.send(Event::NotAvailable { stage });
                } else {
                    match self.connections() {
                        Ok(conn) => {
                            let inputs = stages::TaskInputs {
                                state: self.project.state().clone(),
                                conn,
                                mailboxes: Vec::new(),
                                at: None,
                            };
                            match stages::of(stage).watch(inputs) {
                                Ok(job) => {
                                    let id = self.start(job.for_stage(stage));
                                    self.watching.insert(id, stage);
                                }
                                Err(stages::NotStarted::Refused(reason)) => self.send(Event::Refused { what, reason }),
                                Err(stages::NotStarted::NotBuilt) => self.send(Event::NotAvailable { stage }),
                            }
                        }
                        Err(error) => self.send(Event::Failed { what, error }),
                    }
                }
            }
            Command::StoreSourcePassword(secret) => {
                let stored = tokio::task::block_in_place(|| {
                    let secrets = Secrets::open().map_err(|e| e.to_string())?;
                    match stages::source::store_password(&mut self.project, &secrets, &secret) {
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
            command => {
                // Project writes are small and fsynced; they must stay in order, so they run here, marked as blocking.
                let event = tokio::task::block_in_place(|| execute(&mut self.project, command));
                self.send(event);
            }
        }
    }

    /// Runs `job` in its own task; what it hands back is applied here, in order with the commands.
    /// Starts a task's job, once: refused when its stage is locked or it runs already.
    fn run_task(&mut self, task: TaskId, mailboxes: Vec<String>, at: Option<DateTime<Utc>>) {
        let stage = task.stage();
        let what = task.def().title.to_owned();
        // Checked here too: a task sent again after a sign-in may meet a stage locked meanwhile.
        if !self.project.state().is_open(stage) {
            let reason = crate::plan::gating::locked_reason(stage).unwrap_or_default();
            self.send(Event::Refused { what, reason });
        } else if self.tasks.values().any(|t| *t == task) {
            self.send(Event::Refused { what, reason: "it is running already".to_owned() });
        } else {
            match self.connections() {
                Ok(conn) => {
                    let inputs = stages::TaskInputs { state: self.project.state().clone(), conn, mailboxes, at };
                    match stages::of(stage).task(task, inputs) {
                        Ok(job) => {
                            let id = self.start(job.for_stage(stage));
                            self.tasks.insert(id, task);
                        }
                        Err(reason) => self.send(reason.event(task)),
                    }
                }
                Err(error) => self.send(Event::Failed { what, error }),
            }
        }
    }

    /// Demo only: the simulated clock jumps on, so a day of incremental syncs plays in a key; the watches see
    /// it at their next poll. Refused outside a demo project.
    fn skip_ahead(&mut self, seconds: u64) {
        let state = self.project.state();
        let what = strings_skip_ahead(seconds);
        let Some(link) = state.simulator.clone().filter(|_| state.demo) else {
            self.send(Event::Refused { what, reason: "only a demo project has a simulated clock".to_owned() });
            return;
        };
        let Ok(url) = url::Url::parse(&link.control_url) else {
            let reason = format!("the simulator's control URL {} is not a URL", link.control_url);
            self.send(Event::Refused { what, reason });
            return;
        };
        self.start(Job::new(what.clone(), move |_ctx| async move {
            let moved = stages::prepare::registrar::advance_clock(true, &url, seconds).await;
            let apply: jobs::Apply = Box::new(move |project| match moved {
                Ok(now) => Event::StateChanged {
                    state: project.snapshot(),
                    note: Some(format!(
                        "DEMO: the simulated clock moved {} h on, to {}.",
                        seconds / 3600,
                        now.format("%Y-%m-%d %H:%M UTC")
                    )),
                },
                Err(e) => Event::Failed { what, error: e.to_string() },
            });
            apply
        }));
    }

    fn start(&mut self, job: Job) -> JobId {
        let id = self.next_job;
        self.next_job += 1;
        let ctx =
            JobContext::new(id, self.events.clone(), self.project.audit().clone()).with_updates(self.done.clone());
        self.jobs.insert(id, ctx.cancel.clone());
        self.send(Event::JobStarted { id, label: job.label.clone(), stage: job.stage, at: Utc::now() });
        let done = self.done.clone();
        let label = job.label;
        let observer = ctx.clone();
        let work = observer.observed((job.work)(ctx));
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
            let _ = done.send((id, JobMsg::Finished(apply)));
        });
        id
    }

    fn job_message(&mut self, id: JobId, msg: JobMsg) {
        match msg {
            JobMsg::Update(apply) => {
                if let Some(event) = tokio::task::block_in_place(|| apply(&mut self.project)) {
                    self.send(event);
                }
            }
            JobMsg::Finished(apply) => self.finish(id, apply),
        }
    }

    fn finish(&mut self, id: JobId, apply: Apply) {
        self.jobs.remove(&id);
        self.tasks.remove(&id);
        self.watching.remove(&id);
        if self.sign_in == Some(id) {
            self.sign_in = None;
        }
        let event = tokio::task::block_in_place(|| apply(&mut self.project));
        self.send(Event::JobEnded { id });
        self.send(event);
    }

    /// The wizard closed: running jobs are cancelled and what they found is still recorded.
    async fn wind_down(&mut self, done_rx: &mut mpsc::UnboundedReceiver<(JobId, JobMsg)>) {
        for cancel in self.jobs.values() {
            cancel.cancel();
        }
        let deadline = tokio::time::Instant::now() + WIND_DOWN;
        while !self.jobs.is_empty() {
            match tokio::time::timeout_at(deadline, done_rx.recv()).await {
                Ok(Some((id, msg))) => self.job_message(id, msg),
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

/// The clients of the project's settings for reading back a write cut short; opening the keyring may ask D-Bus.
fn resume_connections(state: &ProjectState) -> Result<Arc<Connections>, String> {
    let secrets = tokio::task::block_in_place(Secrets::open).map_err(|e| e.to_string())?;
    Ok(Arc::new(Connections::new(&state.name, state, secrets)))
}

/// Carries out one command against the project, in place (no network).
pub fn execute(project: &mut Project, command: Command) -> Event {
    match command {
        Command::SetKickoffField { field, value } => stages::kickoff::set_field(project, field, value),
        Command::RunChecks { stage } => match stages::of(stage).pure_checks(project.state()) {
            Some(results) => {
                let detail = serde_json::json!({ "stage": stage.number() });
                let result = project.change(Some(stage), "run-checks", detail, |state| {
                    record_checks(state, results);
                    Ok::<(), std::convert::Infallible>(())
                });
                outcome(project, "checks", result)
            }
            None if stages::of(stage).live_checks() => Event::Refused {
                what: "checks".to_owned(),
                reason: format!(
                    "stage {stage}'s checks go on the network: the running wizard or `cutover check` runs them"
                ),
            },
            None => Event::NotAvailable { stage },
        },
        Command::SignIn
        | Command::CancelJob { .. }
        | Command::RunTask { .. }
        | Command::RunTaskFor { .. }
        | Command::RunTaskAt { .. }
        | Command::Watch { .. }
        | Command::SkipAhead { .. }
        | Command::StoreSourcePassword(_) => Event::Refused {
            what: "request".to_owned(),
            reason: "only the running wizard or `cutover task` does network work or keeps secrets".to_owned(),
        },
        Command::Override { check, reason } => override_check(project, check, reason),
        Command::ImportInventory { path, allow_removals } => stages::source::import(project, &path, allow_removals),
        Command::SetVip { key, vip } => stages::source::set_vip(project, key, vip),
        Command::SetSetting { setting, value } => {
            let stage = setting.stage();
            if let Err(reason) = stages::of(stage).check_setting(setting, &value) {
                return Event::Refused { what: setting.label().to_owned(), reason };
            }
            let detail = serde_json::json!({ "setting": setting, "value": value });
            let result = project.change(Some(stage), "set-setting", detail, |state| {
                setting.apply(state.settings_mut(), &value)?;
                stages::of(stage).after_setting(setting, state);
                stages::of(stage).refresh(state);
                Ok::<(), crate::plan::kickoff::ValidationError>(())
            });
            outcome(project, setting.label(), result)
        }
    }
}

/// Goes on despite a failed check, for a written reason kept with who gave it.
pub fn override_check(project: &mut Project, check: CheckId, reason: String) -> Event {
    let stage = check.stage();
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
    if project.state().stage(stage).map(|r| r.outcome(check)) != Some(Outcome::Fail) {
        return Event::Refused { what, reason: "only a failed check can be overridden".to_owned() };
    }
    let detail = serde_json::json!({ "check": check, "reason": reason });
    let result = project.change(Some(stage), "override-check", detail, |state| {
        let entry = Override { reason, by: state.decided_by(), at: Utc::now() };
        state.stage_mut(stage).overrides.insert(check.as_str().to_owned(), entry);
        Ok::<(), std::convert::Infallible>(())
    });
    outcome(project, &what, result)
}

/// Keeps who the project is signed in as (a user's account; none for an app), so an override names them.
pub fn remember_sign_in(
    project: &mut Project,
    signed_in: &crate::m365::SignedIn,
) -> Result<(), crate::project::ProjectError> {
    let account = match signed_in.kind {
        crate::m365::SignInKind::DeviceCode => signed_in.account.clone(),
        crate::m365::SignInKind::ClientSecret => None,
    };
    forget_or_keep_account(project, account)
}

/// Records the account the project is signed in as, or that it is signed out (`None`); nothing if unchanged.
pub fn forget_or_keep_account(
    project: &mut Project,
    account: Option<String>,
) -> Result<(), crate::project::ProjectError> {
    if project.state().signed_in_as == account {
        return Ok(());
    }
    let detail = serde_json::json!({ "account": account });
    project
        .change(None, "record-signed-in-account", detail, |s| {
            s.signed_in_as = account;
            Ok::<(), std::convert::Infallible>(())
        })
        .map(|_| ())
}

/// A check of a run that could not run, whose earlier verdict stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReRun {
    pub check: CheckId,
    /// Why it could not run ("Not run: …").
    pub why: String,
    /// The verdict recorded before, kept.
    pub kept: CheckResult,
}

/// Records a run of a stage's checks, audited; the checks that read only the project are taken afresh from the
/// project as it is now, since an import or a setting may have changed while the network checks ran. A check
/// that could not run (a missing CA file, no connection) keeps the verdict it had: those are returned.
pub fn record_check_run(
    project: &mut Project,
    stage: StageId,
    results: Vec<(CheckId, CheckResult)>,
    from: &str,
) -> Result<Vec<NotReRun>, crate::project::ProjectError> {
    let detail = serde_json::json!({ "stage": stage.number(), "from": from });
    let mut kept = Vec::new();
    let changed = project.change(Some(stage), "run-checks", detail, |state| {
        for (check, result) in results {
            let why = result.evidence.clone();
            if let Some(before) = state.stage_mut(check.stage()).record_run(check, result) {
                kept.push(NotReRun { check, why, kept: before.clone() });
            }
        }
        stages::of(stage).refresh(state);
        Ok::<(), std::convert::Infallible>(())
    })?;
    match changed {
        Ok(()) => Ok(kept),
        Err(never) => match never {},
    }
}

/// Records a run's results; a check that could not run leaves the verdict it had (a removed batch says nothing
/// new of how it synced).
pub(crate) fn record_checks(state: &mut ProjectState, results: Vec<(CheckId, CheckResult)>) {
    for (id, result) in results {
        state.stage_mut(id.stage()).record_run(id, result);
    }
}

pub(crate) fn outcome<E: std::fmt::Display>(
    project: &Project,
    what: &str,
    result: Result<Result<(), E>, crate::project::ProjectError>,
) -> Event {
    match result {
        Ok(Ok(())) => Event::StateChanged { state: project.snapshot(), note: None },
        Ok(Err(refused)) => Event::Refused { what: what.to_owned(), reason: refused.to_string() },
        Err(error) => Event::Failed { what: what.to_owned(), error: error.to_string() },
    }
}

#[cfg(test)]
mod bad_input;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::kickoff::Field;
    use crate::plan::settings::Setting;
    use crate::project::{DataHome, Phase, ProjectName};

    fn project(dir: &std::path::Path) -> Project {
        Project::create(&DataHome::at(dir), &ProjectName::parse("acme").expect("name"), false).expect("create")
    }

    #[test]
    fn a_kickoff_field_is_saved_with_fresh_checks_and_audited() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let event = execute(&mut p, Command::SetKickoffField { field: Field::Mailboxes, value: "2500".into() });
        let Event::StateChanged { state, .. } = event else { panic!("expected a state change, got {event:?}") };
        assert_eq!(state.kickoff.mailboxes, Some(2_500));
        assert_eq!(
            state.stage(crate::plan::kickoff::STAGE).map(|r| r.outcome(crate::plan::kickoff::Check::CutoverLimits)),
            Some(Outcome::Fail)
        );
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
            check: crate::plan::kickoff::Check::CutoverLimits.into(),
            reason: reason.into(),
        };
        assert!(matches!(execute(&mut p, over("customer accepts the risk")), Event::Refused { .. }), "not run yet");
        execute(&mut p, Command::SetKickoffField { field: Field::Mailboxes, value: "2500".into() });
        assert!(matches!(execute(&mut p, over("ok")), Event::Refused { .. }), "too short");
        let event = execute(&mut p, over("two batches agreed with the customer"));
        let Event::StateChanged { state, .. } = event else { panic!("expected a state change, got {event:?}") };
        let record = state.stage(crate::plan::kickoff::STAGE).expect("stage 1 record");
        assert_eq!(
            record.active_override(crate::plan::kickoff::Check::CutoverLimits).map(|o| o.reason.as_str()),
            Some("two batches agreed with the customer")
        );
    }

    #[test]
    fn an_override_names_the_signed_in_account_else_the_os_user() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        execute(&mut p, Command::SetKickoffField { field: Field::Mailboxes, value: "2500".into() });
        let check: CheckId = crate::plan::kickoff::Check::CutoverLimits.into();
        let by =
            |p: &Project| p.state().stage(check.stage()).and_then(|r| r.active_override(check)).map(|o| o.by.clone());
        execute(&mut p, Command::Override { check, reason: "two batches agreed with the customer".into() });
        assert_eq!(by(&p), Some(audit_actor()), "no sign-in: the OS user");
        assert_ne!(by(&p).as_deref(), Some("unknown"));

        let signed_in = crate::m365::SignedIn {
            kind: crate::m365::SignInKind::DeviceCode,
            account: Some("alice@contoso.com".into()),
            tenant_id: None,
        };
        remember_sign_in(&mut p, &signed_in).expect("kept");
        execute(&mut p, Command::Override { check, reason: "two batches agreed with the customer".into() });
        assert_eq!(by(&p).as_deref(), Some("alice@contoso.com"));

        // An app's sign-in names no person, and a sign-out forgets the account.
        let app = crate::m365::SignedIn { kind: crate::m365::SignInKind::ClientSecret, ..signed_in };
        remember_sign_in(&mut p, &app).expect("kept");
        assert_eq!(p.state().signed_in_as, None);
    }

    fn audit_actor() -> String {
        crate::project::audit::current_actor()
    }

    #[tokio::test]
    async fn a_check_that_cannot_run_keeps_the_result_recorded_before_and_says_why() {
        use crate::plan::source::server::CHECK_IDS;
        let stage = crate::plan::source::STAGE;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let before: Vec<(CheckId, CheckResult)> =
            CHECK_IDS.iter().map(|id| (*id, CheckResult::new(Outcome::Pass, "answered", Utc::now()))).collect();
        assert_eq!(record_check_run(&mut p, stage, before, "wizard").expect("recorded"), vec![]);
        // The demo's simulator CA file is gone once the demo exits.
        let gone = dir.path().join("sim-ca.pem");
        p.change(Some(stage), "set-source-access", serde_json::Value::Null, |s| {
            s.source_access.ca_cert = Some(gone.clone());
            Field::Domains.apply(&mut s.kickoff, "contoso.com")
        })
        .expect("io")
        .expect("valid");
        let conn = Connections::new("acme", p.state(), Secrets::mock());
        let results =
            stages::run_checks(stage, &p.state().clone(), &conn, &CancellationToken::new()).await.expect("ran");
        for id in CHECK_IDS {
            let r = &results.iter().find(|(c, _)| *c == id).expect("a result").1;
            assert_eq!(r.outcome, Outcome::NotRun, "{id}: {}", r.evidence);
            assert!(r.evidence.starts_with("Not run:") && r.evidence.contains("sim-ca.pem"), "{}", r.evidence);
        }
        let kept = record_check_run(&mut p, stage, results, "cutover check").expect("recorded");
        assert_eq!(kept.iter().map(|k| k.check).collect::<Vec<_>>(), CHECK_IDS.to_vec());
        assert!(kept[0].why.contains("sim-ca.pem") && kept[0].kept.outcome == Outcome::Pass, "{:?}", kept[0]);
        let record = p.state().stage(stage).expect("record");
        for id in CHECK_IDS {
            assert_eq!(record.outcome(id), Outcome::Pass, "{id} keeps its verdict");
        }
    }

    #[test]
    fn checks_that_go_on_the_network_are_not_run_in_place() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        for stage in [crate::plan::users::STAGE, crate::plan::mx::STAGE, crate::plan::post::STAGE] {
            let live = execute(&mut p, Command::RunChecks { stage });
            assert!(matches!(&live, Event::Refused { reason, .. } if reason.contains("cutover check")), "{live:?}");
        }
    }

    fn sample() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples/inventory-typical.csv")
    }

    #[test]
    fn an_import_stores_the_mailboxes_runs_the_checks_and_audits_the_rejected_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let event = execute(&mut p, Command::ImportInventory { path: sample(), allow_removals: false });
        let Event::InventoryImported { state, report } = event else { panic!("expected an import, got {event:?}") };
        assert_eq!(report.mailboxes, 120);
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert_eq!(state.inventory.as_deref().map(|i| i.mailboxes.len()), Some(120));
        let stage = state.stage(crate::plan::source::STAGE).expect("stage 2 record");
        assert_eq!(
            stage.outcome(crate::plan::source::Check::HighRisk),
            Outcome::Fail,
            "two hidden mailboxes and one over 100 GB"
        );
        assert_eq!(
            stage.outcome(crate::plan::source::Check::MailboxCount),
            Outcome::Pass,
            "118 visible mailboxes, no kickoff estimate"
        );
        assert!(stage.task(crate::plan::source::Task::ImportInventory).is_some());

        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "PrimarySmtpAddress,TotalItemSize\nceo@contoso.example,huge\nnew@contoso.example,10\n")
            .expect("write");
        // 119 mailboxes gone from the file: nothing changes until removals are allowed; they are named, with the fix.
        let event = execute(&mut p, Command::ImportInventory { path: bad.clone(), allow_removals: false });
        let Event::ImportRemoves { refused, .. } = &event else { panic!("expected a question, got {event:?}") };
        assert_eq!((refused.removed.len(), refused.previous), (119, 120));
        let reason = refused.to_string();
        assert!(reason.contains("remove 119 of 120") && reason.contains("--allow-removals"), "{reason}");
        assert_eq!(p.state().inventory.as_deref().map(|i| i.mailboxes.len()), Some(120), "nothing changed");
        let event = execute(&mut p, Command::ImportInventory { path: bad, allow_removals: true });
        let Event::InventoryImported { state, report } = event else { panic!("expected an import, got {event:?}") };
        assert_eq!(report.rejected.len(), 1);
        assert_eq!(report.rejected[0].line, 2);
        assert_eq!(report.diff.kept_from_previous, vec!["ceo@contoso.example"]);
        assert_eq!(report.diff.added, vec!["new@contoso.example"]);
        assert_eq!(state.inventory.as_deref().map(|i| i.mailboxes.len()), Some(2));
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
        let event = execute(&mut p, Command::ImportInventory { path: missing, allow_removals: false });
        assert!(matches!(&event, Event::Refused { reason, .. } if reason.contains("nope.csv")), "{event:?}");
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, "").expect("write");
        assert!(matches!(
            execute(&mut p, Command::ImportInventory { path: empty, allow_removals: false }),
            Event::Refused { .. }
        ));
        assert_eq!(p.state(), &before);
    }

    #[test]
    fn vips_and_settings_are_saved_and_rerun_the_checks() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        execute(&mut p, Command::ImportInventory { path: sample(), allow_removals: false });
        let event = execute(&mut p, Command::SetVip { key: "CEO@contoso.example".into(), vip: true });
        let Event::StateChanged { state, .. } = event else { panic!("expected a state change, got {event:?}") };
        assert!(state.vips.contains("ceo@contoso.example"));
        let risk = &state.stage(crate::plan::source::STAGE).expect("record").checks["high-risk"];
        assert!(risk.evidence.contains("ceo@contoso.example (VIP)"), "{}", risk.evidence);
        let unknown = execute(&mut p, Command::SetVip { key: "nobody@contoso.example".into(), vip: true });
        assert!(matches!(unknown, Event::Refused { .. }));
        let event = execute(&mut p, Command::SetSetting { setting: Setting::UploadBandwidth, value: "100".into() });
        let Event::StateChanged { state, .. } = event else { panic!("expected a state change, got {event:?}") };
        let totals = &state.stage(crate::plan::source::STAGE).expect("record").checks["totals"];
        assert_eq!(totals.outcome, Outcome::Pass, "{}", totals.evidence);
        assert!(totals.evidence.contains("Initial sync:"), "{}", totals.evidence);
        let refused = execute(&mut p, Command::SetSetting { setting: Setting::Concurrency, value: "500".into() });
        assert!(matches!(refused, Event::Refused { .. }));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_task_of_a_locked_stage_is_refused_by_the_runner_too() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut runner = spawn(project(dir.path()));
        runner.commands.send(Command::RunTask { task: crate::plan::prepare::Task::AddDomains.into() }).expect("send");
        let event = runner.events.recv().await.expect("an answer");
        assert!(
            matches!(&event, Event::Refused { reason, .. } if reason.contains("opens when stage 3 (Users / directory sync)")),
            "{event:?}"
        );
        runner.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_runner_reads_back_a_write_cut_short_before_its_first_command() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = project(dir.path());
        let about = crate::project::AuditRecord {
            time: Utc::now(),
            actor: "eng".into(),
            stage: Some(crate::plan::kickoff::STAGE),
            action: "set-kickoff-field".into(),
            phase: crate::project::Phase::AboutTo,
            detail: serde_json::json!({"field": "Customer"}),
            touches: Some(crate::project::Touches::Project),
        };
        p.audit().append(&about).expect("append");
        let mut runner = spawn(p);
        runner.commands.send(Command::RunChecks { stage: crate::plan::kickoff::STAGE }).expect("send");
        let first = runner.events.recv().await.expect("an event");
        let Event::Resumed { writes } = first else { panic!("the read-back comes first, got {first:?}") };
        assert_eq!(writes.iter().map(|w| w.found).collect::<Vec<_>>(), [crate::protocol::Found::NotDone]);
        assert!(matches!(runner.events.recv().await, Some(Event::StateChanged { .. })), "then the command");
        runner.shutdown().await;
    }

    #[test]
    fn choosing_who_creates_the_accounts_records_the_task() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut p = project(dir.path());
        let event = execute(&mut p, Command::SetSetting { setting: Setting::Provisioning, value: "pre-create".into() });
        let Event::StateChanged { state, .. } = event else { panic!("expected a state change, got {event:?}") };
        let task = &state.stage(crate::plan::users::STAGE).expect("stage 3 record").tasks["choose-provisioning"];
        assert_eq!(task.status, crate::plan::TaskStatus::Done);
        assert!(task.detail.contains("pre-creates"), "{}", task.detail);
    }
}
