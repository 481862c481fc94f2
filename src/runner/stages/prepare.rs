//! Stage 4, Prepare: the tenant's checks (domains verified, the migration endpoint tested, the MX TTL) as a job,
//! and the tasks: add the email domains, the verification watch, the migration endpoint, and in a demo the
//! verification records published at the simulated registrar.

mod checks;
pub mod domains;
pub mod endpoint;
pub mod registrar;

use super::super::jobs::Job;
use super::super::tasks::{TaskError, TaskOutcome};
use super::super::work::{Done, Stop, m365, task_job};
use super::{LiveChecks, NotStarted, StageWork, TaskInputs};
use crate::plan::prepare::Task;
use crate::plan::{TaskId, TaskStatus};
use crate::project::ProjectState;
use crate::project::live::LiveName;
use crate::protocol::Event;
use crate::runner::resume::Reading;
use std::time::Duration;

pub struct Work;

/// How often the verification watch asks Graph again: DNS changes take minutes to hours, so twice a minute is
/// plenty and stays far from Graph's throttling; the demo's simulated registrar answers at once.
const VERIFY_INTERVAL: Duration = Duration::from_secs(30);
const DEMO_VERIFY_INTERVAL: Duration = Duration::from_secs(3);

/// The endpoint's name in Exchange Online.
pub const ENDPOINT_NAME: &str = "Cutover endpoint";

/// Where the verification watch keeps what Graph last said of each domain.
pub const DOMAINS_LIVE: LiveName = LiveName::new("domains");

impl StageWork for Work {
    fn live(&self) -> Option<LiveChecks> {
        Some(|state, conn| Box::pin(checks::run(state, conn)))
    }

    fn read_back<'a>(
        &'a self,
        state: &'a ProjectState,
        write: &'a crate::project::AuditRecord,
        conn: &'a crate::runner::connect::Connections,
    ) -> Reading<'a> {
        let detail = &write.detail;
        match write.action.as_str() {
            "add-domain" | "verify-domains" | "new-migration-endpoint" | "set-migration-endpoint" => {
                Some(Box::pin(async move {
                    let m365 = crate::runner::resume::tenant(conn)?;
                    match write.action.as_str() {
                        "add-domain" => domains::read_back_added(&m365.graph, detail).await,
                        "verify-domains" => domains::read_back_verified(&m365.graph, detail).await,
                        _ => endpoint::read_back(&m365.exo, &write.action, detail).await,
                    }
                }))
            }
            "publish-verification-txt-demo" => Some(Box::pin(registrar::read_back(state, detail))),
            _ => None,
        }
    }

    fn task(&self, task: TaskId, inputs: TaskInputs) -> Result<Job, NotStarted> {
        let TaskId::Prepare(which) = task else { return Err(NotStarted::NotBuilt) };
        let label = task.def().title;
        let job = match which {
            Task::AddDomains => task_job(task, &[TaskId::Prepare(Task::AddDomains)], label, move |ctx| async move {
                let m365 = m365(&inputs.conn)?;
                let done = domains::add_domains(&ctx, &m365.graph, &domain_names(&inputs.state)).await?;
                let txt = done
                    .domains
                    .iter()
                    .filter_map(|d| d.state.txt.clone().map(|t| (d.state.name.clone(), t)))
                    .collect();
                let status = if done.outcome.cancelled { TaskStatus::Running } else { TaskStatus::Done };
                Ok(Done { outcome: done.outcome, verification: Some(txt), status: Some(status) })
            }),
            Task::VerifyDomains => {
                task_job(task, &[TaskId::Prepare(Task::VerifyDomains)], label, move |ctx| async move {
                    let m365 = m365(&inputs.conn)?;
                    let interval = if inputs.state.demo { DEMO_VERIFY_INTERVAL } else { VERIFY_INTERVAL };
                    let names = domain_names(&inputs.state);
                    let done = domains::verify_domains_watch(&ctx, &m365.graph, &names, interval, |seen| {
                        // Each round's view goes to live/, so the watch's last word survives a stop or a crash.
                        let seen = seen.clone();
                        ctx.record(Box::new(move |project| {
                            match project.live().write_if_changed(DOMAINS_LIVE, &seen) {
                                Ok(_) => None,
                                Err(e) => Some(Event::Failed {
                                    what: "the domains' live view".to_owned(),
                                    error: e.to_string(),
                                }),
                            }
                        }));
                    })
                    .await?;
                    let status = if done.pending.is_empty() { TaskStatus::Done } else { TaskStatus::Running };
                    Ok(Done { outcome: done.outcome, verification: None, status: Some(status) })
                })
            }
            Task::PublishVerification => {
                task_job(task, &[TaskId::Prepare(Task::VerifyDomains)], label, move |ctx| async move {
                    let state = inputs.state;
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
                })
            }
            Task::CreateEndpoint => {
                task_job(task, &[TaskId::Prepare(Task::CreateEndpoint)], label, move |ctx| async move {
                    let m365 = m365(&inputs.conn)?;
                    let password = match inputs.conn.source_password().await {
                        Ok(Some(p)) => p,
                        Ok(None) => return Err(Stop::PasswordNeeded),
                        Err(e) => return Err(Stop::Refused(e.to_string())),
                    };
                    let request = endpoint_request(&inputs.state)?;
                    let done = endpoint::create_endpoint(&ctx, &m365.exo, request, &password).await?;
                    let status = match (&done.endpoint, done.outcome.cancelled) {
                        (Some(_), _) => TaskStatus::Done,
                        (None, true) => TaskStatus::Running,
                        (None, false) => TaskStatus::Failed,
                    };
                    Ok(Done { outcome: done.outcome, verification: None, status: Some(status) })
                })
            }
        };
        Ok(job)
    }

    fn writes_tenant(&self, task: TaskId) -> bool {
        // Publishing writes only to the simulated registrar, and only in a demo.
        matches!(task, TaskId::Prepare(Task::AddDomains | Task::VerifyDomains | Task::CreateEndpoint))
    }
}

fn domain_names(state: &ProjectState) -> Vec<String> {
    state.kickoff.domains.iter().map(ToString::to_string).collect()
}

fn endpoint_request(state: &ProjectState) -> Result<endpoint::EndpointRequest, Stop> {
    let access = &state.source_access;
    let admin_user = access.admin_user.clone().ok_or_else(|| {
        Stop::Refused("set the migration account (DOMAIN\\user or a UPN) in the stage 2 settings".to_owned())
    })?;
    let email_address = access.autodiscover_address(state.inventory.as_deref()).ok_or_else(|| {
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
