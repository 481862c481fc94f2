//! The jobs behind the wizard's network work: a stage's live checks and the write tasks of stages 3 and 4. Each
//! job runs on a snapshot of the project and its connections, and hands back a change the runner applies; a
//! missing sign-in or password comes back as a request to the engineer, with the command to send again.

use super::checks::{self, CheckError};
use super::connect::Connections;
use super::jobs::{Apply, Job};
use super::tasks::{TaskError, TaskOutcome, domains, endpoint, registrar, users};
use super::{Command, Event, outcome, record_check_run};
use crate::m365::{M365, M365Error};
use crate::plan::{StageId, TaskRecord, TaskStatus};
use crate::project::{Project, ProjectState};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;

/// A stage task the wizard can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    /// Stage 3, when the engineer chose to pre-create the cloud accounts: create them, set their usage
    /// location and assign a licence (the three tasks of the plan in one pass over the mailboxes).
    PrecreateUsers,
    AddDomains,
    VerifyDomains,
    /// Demo projects only: publish the verification TXT records at the simulated registrar.
    PublishVerification,
    CreateEndpoint,
}

impl Task {
    pub fn stage(self) -> StageId {
        match self {
            Task::PrecreateUsers => StageId::USERS,
            _ => StageId::PREPARE,
        }
    }

    /// The plan's task ids this work records its outcome under.
    pub fn plan_ids(self) -> &'static [&'static str] {
        match self {
            Task::PrecreateUsers => &["create-users", "set-usage-location", "assign-licences"],
            Task::AddDomains => &["add-domains"],
            Task::VerifyDomains | Task::PublishVerification => &["verify-domains"],
            Task::CreateEndpoint => &["create-endpoint"],
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Task::PrecreateUsers => "Pre-creating the cloud accounts",
            Task::AddDomains => "Adding the email domains",
            Task::VerifyDomains => "Verifying the email domains (x stops the watch)",
            Task::PublishVerification => "Publishing the TXT records at the simulated registrar",
            Task::CreateEndpoint => "Creating the migration endpoint",
        }
    }
}

/// How often the verification watch asks Graph again: DNS changes take minutes to hours, so twice a minute is
/// plenty and stays far from Graph's throttling; the demo's simulated registrar answers at once.
const VERIFY_INTERVAL: Duration = Duration::from_secs(30);
const DEMO_VERIFY_INTERVAL: Duration = Duration::from_secs(3);

/// The endpoint's name in Exchange Online.
const ENDPOINT_NAME: &str = "Cutover endpoint";

/// The live checks of `stage`, recorded in the project when they come back.
pub fn checks(stage: StageId, state: ProjectState, conn: Arc<Connections>) -> Job {
    Job::new(format!("Running the checks of stage {stage}"), move |ctx| async move {
        let result = checks::run(stage, &state, &conn, &ctx.cancel).await;
        let apply: Apply = Box::new(move |project: &mut Project| match result {
            Ok(results) => {
                let changed = record_check_run(project, stage, results, "wizard");
                outcome(project, "checks", changed)
            }
            Err(CheckError::NotSignedIn(reason)) => {
                Event::SignInNeeded { retry: Some(Box::new(Command::RunChecks { stage })), reason }
            }
            Err(CheckError::Cancelled) => Event::Cancelled { what: format!("The checks of stage {stage}") },
            Err(CheckError::NotYet(stage)) => Event::NotAvailable { stage },
        });
        apply
    })
}

/// What a task needs besides the project snapshot.
pub struct TaskInputs {
    pub state: ProjectState,
    pub conn: Arc<Connections>,
}

/// A stage task as a job; its outcome is recorded under the plan's task ids.
pub fn task(task: Task, inputs: TaskInputs) -> Job {
    Job::new(task.label(), move |ctx| async move {
        let TaskInputs { state, conn } = inputs;
        let result: Result<Done, Stop> = async {
            match task {
                Task::PrecreateUsers => {
                    let m365 = m365(&conn)?;
                    let Some(inventory) = state.inventory.as_ref() else {
                        return Err(Stop::Refused("import the mailbox inventory first (stage 2)".to_owned()));
                    };
                    let Some(location) = state.users.usage_location.clone() else {
                        return Err(Stop::Refused(
                            "set the usage location (a two-letter country code) in the stage 3 settings".to_owned(),
                        ));
                    };
                    unverified_domain(&m365, inventory).await?;
                    let sku = licence_sku(&m365, state.users.licence.as_deref()).await?;
                    let done =
                        users::precreate_users(&ctx, &m365.graph, &inventory.mailboxes, &location, sku.as_deref())
                            .await?;
                    Ok(Done::ran(done.outcome))
                }
                Task::AddDomains => {
                    let m365 = m365(&conn)?;
                    let done = domains::add_domains(&ctx, &m365.graph, &domain_names(&state)).await?;
                    let txt = done
                        .domains
                        .iter()
                        .filter_map(|d| d.state.txt.clone().map(|t| (d.state.name.clone(), t)))
                        .collect();
                    let status = if done.outcome.cancelled { TaskStatus::Running } else { TaskStatus::Done };
                    Ok(Done { outcome: done.outcome, verification: Some(txt), status: Some(status) })
                }
                Task::VerifyDomains => {
                    let m365 = m365(&conn)?;
                    let interval = if state.demo { DEMO_VERIFY_INTERVAL } else { VERIFY_INTERVAL };
                    let done =
                        domains::verify_domains_watch(&ctx, &m365.graph, &domain_names(&state), interval).await?;
                    let status = if done.pending.is_empty() { TaskStatus::Done } else { TaskStatus::Running };
                    Ok(Done { outcome: done.outcome, verification: None, status: Some(status) })
                }
                Task::PublishVerification => {
                    let Some(link) = &state.simulator else {
                        return Err(Stop::Failed(TaskError::Registrar(registrar::RegistrarError::NotDemo)));
                    };
                    let url = url::Url::parse(&link.control_url)
                        .map_err(|e| Stop::Refused(format!("the simulator's control URL is not a URL: {e}")))?;
                    if state.verification.is_empty() {
                        return Err(Stop::Refused("run the task Add email domains first".to_owned()));
                    }
                    let mut all = TaskOutcome::default();
                    for (domain, txt) in &state.verification {
                        let one = registrar::publish_verification_txt(&ctx, state.demo, &url, domain, txt).await?;
                        all.done.extend(one.done);
                        all.skipped.extend(one.skipped);
                    }
                    all.summary = format!(
                        "Demo: {} TXT record(s) published at the simulated registrar; now verify the domains.",
                        all.done.len()
                    );
                    // Publishing is not verifying: the task's record is the watch's to write.
                    Ok(Done { outcome: all, verification: None, status: None })
                }
                Task::CreateEndpoint => {
                    let m365 = m365(&conn)?;
                    let password = match conn.source_password().await {
                        Ok(Some(p)) => p,
                        Ok(None) => return Err(Stop::PasswordNeeded),
                        Err(e) => return Err(Stop::Refused(e.to_string())),
                    };
                    let request = endpoint_request(&state)?;
                    let done = endpoint::create_endpoint(&ctx, &m365.exo, request, &password).await?;
                    let status = match (&done.endpoint, done.outcome.cancelled) {
                        (Some(_), _) => TaskStatus::Done,
                        (None, true) => TaskStatus::Running,
                        (None, false) => TaskStatus::Failed,
                    };
                    Ok(Done { outcome: done.outcome, verification: None, status: Some(status) })
                }
            }
        }
        .await;
        let apply: Apply = Box::new(move |project: &mut Project| record_task(project, task, result));
        apply
    })
}

/// What a task hands back to be recorded.
struct Done {
    outcome: TaskOutcome,
    /// The verification TXT text of each domain the task read.
    verification: Option<std::collections::BTreeMap<String, String>>,
    /// What the plan's task becomes: Done, still open (stopped early) or Failed; `None` records nothing.
    status: Option<TaskStatus>,
}

impl Done {
    /// A task that finished unless the engineer stopped it.
    fn ran(outcome: TaskOutcome) -> Done {
        let status = if outcome.cancelled { TaskStatus::Running } else { TaskStatus::Done };
        Done { outcome, verification: None, status: Some(status) }
    }
}

/// Why a task stopped before its work.
enum Stop {
    SignIn(String),
    PasswordNeeded,
    Refused(String),
    Failed(TaskError),
}

impl From<TaskError> for Stop {
    fn from(e: TaskError) -> Stop {
        match e {
            TaskError::M365(e) if needs_sign_in(&e) => Stop::SignIn(e.to_string()),
            other => Stop::Failed(other),
        }
    }
}

impl From<M365Error> for Stop {
    fn from(e: M365Error) -> Stop {
        Stop::from(TaskError::M365(e))
    }
}

fn needs_sign_in(e: &M365Error) -> bool {
    use crate::m365::AuthError;
    matches!(e, M365Error::Auth(AuthError::NotSignedIn { .. } | AuthError::SignInExpired { .. }))
}

fn m365(conn: &Connections) -> Result<M365, Stop> {
    match &conn.m365 {
        Ok(m) => Ok(m.clone()),
        Err(e) => Err(Stop::Refused(e.to_string())),
    }
}

fn domain_names(state: &ProjectState) -> Vec<String> {
    state.kickoff.domains.iter().map(ToString::to_string).collect()
}

/// Graph refuses a user whose UPN is on a domain the tenant has not verified: say so before the first write.
async fn unverified_domain(m365: &M365, inventory: &crate::inventory::Inventory) -> Result<(), Stop> {
    let domains: std::collections::BTreeSet<String> = crate::plan::source::migrating(inventory)
        .filter_map(|m| m.primary_smtp.split_once('@').map(|(_, d)| d.to_ascii_lowercase()))
        .collect();
    for domain in domains {
        match m365.graph.domain(&domain).await? {
            Some(d) if d.is_verified => {}
            _ => {
                return Err(Stop::Refused(format!(
                    "{domain} is not a verified domain of the tenant yet, and Graph creates no account on it: add and verify it in stage 4 (Prepare), then pre-create the accounts"
                )));
            }
        }
    }
    Ok(())
}

/// The licence to assign: the one named in the settings (by its part number), else the first subscription
/// that gives a mailbox and has a free unit for every mailbox to create.
async fn licence_sku(m365: &M365, wanted: Option<&str>) -> Result<Option<String>, Stop> {
    let skus = m365.graph.subscribed_skus().await?;
    let gives_mailbox = |s: &crate::m365::graph::types::SubscribedSku| {
        s.service_plans.iter().any(|p| crate::plan::users::gives_mailbox(&p.service_plan_name))
    };
    let found = match wanted {
        Some(name) => skus.iter().find(|s| s.sku_part_number.eq_ignore_ascii_case(name)),
        None => skus.iter().find(|s| gives_mailbox(s)),
    };
    match (found, wanted) {
        (Some(sku), _) => Ok(Some(sku.sku_id.clone())),
        (None, Some(name)) => Err(Stop::Refused(format!(
            "the tenant has no subscription {name}; choose one of: {}",
            skus.iter().map(|s| s.sku_part_number.as_str()).collect::<Vec<_>>().join(", ")
        ))),
        (None, None) => Ok(None),
    }
}

fn endpoint_request(state: &ProjectState) -> Result<endpoint::EndpointRequest, Stop> {
    let access = &state.source_access;
    let admin_user = access.admin_user.clone().ok_or_else(|| {
        Stop::Refused("set the migration account (DOMAIN\\user or a UPN) in the stage 2 settings".to_owned())
    })?;
    let email_address = access.autodiscover_address(state.inventory.as_ref()).ok_or_else(|| {
        Stop::Refused("set the Autodiscover address in the stage 2 settings, or import the inventory".to_owned())
    })?;
    let manual = match (&access.exchange_server, &access.rpc_proxy_server) {
        (Some(server), Some(proxy)) => Some(endpoint::ManualSettings {
            exchange_server: server.clone(),
            rpc_proxy_server: proxy.clone(),
            authentication: access.auth,
            mailbox_permission: access.permission,
        }),
        _ => None,
    };
    Ok(endpoint::EndpointRequest {
        name: ENDPOINT_NAME.to_owned(),
        admin_user,
        email_address,
        manual,
        max_concurrent_migrations: state.source.concurrency,
    })
}

/// Records a task's outcome under its plan ids and says what the engineer must do next, if anything.
fn record_task(project: &mut Project, task: Task, result: Result<Done, Stop>) -> Event {
    let stage = task.stage();
    let (status, detail, verification) = match result {
        Ok(Done { outcome, status: None, .. }) => {
            return Event::TaskDone { state: Box::new(project.state().clone()), summary: outcome.summary };
        }
        Ok(Done { outcome, verification, status: Some(status) }) => (status, outcome.summary, verification),
        Err(Stop::SignIn(reason)) => {
            return Event::SignInNeeded { retry: Some(Box::new(Command::RunTask { task })), reason };
        }
        Err(Stop::PasswordNeeded) => return Event::PasswordNeeded { retry: Box::new(Command::RunTask { task }) },
        Err(Stop::Refused(reason)) => {
            return Event::Refused { what: task.label().to_owned(), reason };
        }
        Err(Stop::Failed(TaskError::M365(M365Error::Cancelled))) => {
            (TaskStatus::Running, "Stopped by the engineer.".to_owned(), None)
        }
        Err(Stop::Failed(e)) => (TaskStatus::Failed, e.to_string(), None),
    };
    let summary = detail.clone();
    let audit = serde_json::json!({ "task": task.plan_ids(), "status": status, "detail": detail });
    let changed = project.change(Some(stage), "record-task", audit, |state| {
        let record = state.stage_mut(stage);
        for id in task.plan_ids() {
            record.tasks.insert((*id).to_owned(), TaskRecord { status, detail: detail.clone(), at: Utc::now() });
        }
        // Domains read this time update their records; the others keep theirs.
        state.verification.extend(verification.into_iter().flatten());
        Ok::<(), std::convert::Infallible>(())
    });
    match changed {
        Ok(Ok(())) if status == TaskStatus::Failed => {
            Event::TaskFailed { state: Box::new(project.state().clone()), error: summary }
        }
        Ok(Ok(())) => Event::TaskDone { state: Box::new(project.state().clone()), summary },
        other => outcome(project, task.label(), other),
    }
}
