//! Stage 9, Post-migration: its checks read the tenant (the transport rules against the source's export, the
//! protection policies, DKIM and the domains' SPF and DMARC, the licences of the migrated users, Exchange
//! Online's service health) and are judged by `plan::post`; its tasks create the transport rules
//! (`post/rules.rs`), apply the protection baseline and DKIM (`post/eop.rs`) and assign the missing licences
//! (`post/licences.rs`), send the test mails (`post/mailflow.rs`) and write the closeout report
//! (`post/closeout.rs`).

pub mod closeout;
pub mod demo_dns;
pub mod eop;
pub mod licences;
pub mod mailflow;
pub mod rules;

use super::super::checks::{self, CheckError, Results};
use super::super::jobs::Job;
use super::super::work::{Done, Stop, m365, task_job};
use super::{LiveChecks, NotStarted, StageWork, TaskInputs};
use crate::dns::Resolver;
use crate::m365::Resource;
use crate::m365::exo::ExoClient;
use crate::m365::graph::GraphClient;
use crate::plan::post::rules::{TenantRule, enabled_check, map_all};
use crate::plan::post::{Check, STAGE, Task, health};
use crate::plan::settings::Setting;
use crate::plan::{CheckId, CheckResult, Outcome, TaskId};
use crate::project::ProjectState;
use crate::runner::connect::Connections;
use chrono::Utc;

pub struct Work;

const IDS: [CheckId; 5] = [
    CheckId::Post(Check::TransportRulesEnabled),
    CheckId::Post(Check::EopPolicies),
    CheckId::Post(Check::ServiceHealth),
    CheckId::Post(Check::MailFlow),
    CheckId::Post(Check::LicencesAssigned),
];

impl StageWork for Work {
    fn read_back<'a>(
        &'a self,
        state: &'a ProjectState,
        write: &'a crate::project::AuditRecord,
        conn: &'a crate::runner::connect::Connections,
    ) -> crate::runner::resume::Reading<'a> {
        let action = write.action.as_str();
        let detail = &write.detail;
        let tenant = || crate::runner::resume::tenant(conn);
        match action {
            "publish-dns-demo" => Some(Box::pin(super::prepare::registrar::read_back(state, detail))),
            "consent" => {
                Some(Box::pin(
                    async move { crate::runner::signin::read_back_consent(tenant()?, Resource::GraphMail).await },
                ))
            }
            "send-test-mail" => Some(Box::pin(async move { mailflow::read_back_sent(&tenant()?.exo, detail).await })),
            "add-send-as" | "remove-send-as" => {
                Some(Box::pin(async move { mailflow::read_back_send_as(&tenant()?.exo, action, detail).await }))
            }
            "set-usage-location" | "assign-license" => {
                Some(Box::pin(
                    async move { super::users::precreate::read_back(&tenant()?.graph, action, detail).await },
                ))
            }
            "new-transport-rule"
            | "new-dkim-signing-config"
            | "enable-dkim-signing"
            | "set-content-filter-policy"
            | "set-malware-filter-policy" => {
                Some(Box::pin(async move { eop::read_back(&tenant()?.exo, action, detail).await }))
            }
            _ => None,
        }
    }

    fn live(&self) -> Option<LiveChecks> {
        Some(|state, conn| Box::pin(run_checks(state, conn)))
    }

    fn check_setting(&self, setting: Setting, value: &str) -> Result<(), String> {
        match setting {
            Setting::TransportRulesFile if !value.trim().is_empty() => {
                rules::read_export(value.trim()).map(drop).map_err(|e| e.to_string())
            }
            _ => Ok(()),
        }
    }

    fn task(&self, task: TaskId, inputs: TaskInputs) -> Result<Job, NotStarted> {
        let TaskId::Post(which) = task else { return Err(NotStarted::NotBuilt) };
        let records: &'static [TaskId] = match which {
            Task::TransportRules => &[TaskId::Post(Task::TransportRules)],
            Task::LicencesFinal => &[TaskId::Post(Task::LicencesFinal)],
            Task::EopSettings => &[TaskId::Post(Task::EopSettings)],
            Task::SendTestMail => &[TaskId::Post(Task::SendTestMail)],
            Task::PublishDkimDmarc => &[TaskId::Post(Task::PublishDkimDmarc)],
            Task::CloseoutReport => return Ok(closeout::job(task, inputs)),
        };
        Ok(task_job(task, records, task.def().title, move |ctx| async move {
            let m365 = m365(&inputs.conn)?;
            let outcome = match which {
                Task::TransportRules => rules::create_rules(&ctx, &m365.exo, &inputs.state).await,
                Task::EopSettings => {
                    let resolver = inputs.conn.resolver().map_err(|e| Stop::Refused(e.to_string()))?;
                    eop::apply(&ctx, &m365.exo, &resolver, &inputs.state).await
                }
                Task::PublishDkimDmarc => {
                    let resolver = inputs.conn.resolver().map_err(|e| Stop::Refused(e.to_string()))?;
                    demo_dns::publish_dkim_dmarc(&ctx, &m365.exo, &resolver, &inputs.state).await
                }
                Task::LicencesFinal => licences::assign(&ctx, &m365.graph, &inputs.state).await,
                Task::SendTestMail => {
                    // The permission is asked for only now, once there is something to send.
                    let sends = mailflow::sends(&inputs.state).map_err(Stop::from)?;
                    crate::runner::signin::consent(&ctx, &m365, STAGE, Resource::GraphMail)
                        .await
                        .map_err(Stop::from)?;
                    let engineer = signed_in_engineer(&m365).await.map_err(Stop::from)?;
                    let given = match &engineer {
                        Some(t) => mailflow::ensure_send_as(&ctx, &m365.exo, &sends, t).await.map_err(Stop::from)?,
                        None => false,
                    };
                    let sent = mailflow::send(&ctx, &m365.mail, &sends).await;
                    // Kept while the sends fail (a new Send As can take a while to apply): the next run uses it.
                    if let (Ok(_), Some(t), true) = (&sent, &engineer, given) {
                        mailflow::remove_send_as(&ctx, &m365.exo, &sends, t).await.map_err(Stop::from)?;
                    }
                    sent.map(|(outcome, sent)| {
                        mailflow::keep(&ctx, sent);
                        outcome
                    })
                }
                Task::CloseoutReport => unreachable!("the closeout report is its own job, above"),
            }
            .map_err(Stop::from)?;
            Ok(Done::ran(outcome))
        }))
    }

    fn writes_tenant(&self, task: TaskId) -> bool {
        matches!(
            task,
            TaskId::Post(Task::TransportRules | Task::LicencesFinal | Task::EopSettings | Task::SendTestMail)
        )
    }
}

/// The engineer signed in by device code, who sends as the migrated mailbox through Send As; none for an app.
async fn signed_in_engineer(m365: &crate::m365::M365) -> Result<Option<String>, crate::runner::tasks::TaskError> {
    use crate::m365::http::TokenSource;
    match m365.auth.stored_kind().await? {
        Some(crate::m365::SignInKind::DeviceCode) => match m365.auth.account() {
            Some(account) => Ok(Some(account)),
            None => Err(crate::runner::tasks::TaskError::BadInput {
                what: "the signed-in account is not known, so Send As cannot be given to it".to_owned(),
                fix: "sign in again with `cutover auth login`".to_owned(),
            }),
        },
        _ => Ok(None),
    }
}

async fn run_checks(state: &ProjectState, conn: &Connections) -> Result<Results, CheckError> {
    let m = match checks::m365(conn, &IDS)? {
        Ok(m) => m,
        Err(failed) => return Ok(failed),
    };
    match conn.resolver() {
        Ok(resolver) => tenant_checks(&m.exo, &m.graph, Some(&resolver), state).await,
        Err(e) => {
            let mut results = tenant_checks(&m.exo, &m.graph, None, state).await?;
            results[1].1 = CheckResult::new(Outcome::NotRun, format!("Not run: {e}."), Utc::now());
            Ok(results)
        }
    }
}

/// Stage 9's checks over what the tenant says now; read-only. A read that fails fails the check that needs
/// it, with the error; only a lost sign-in or a cancel ends them all.
pub async fn tenant_checks(
    exo: &ExoClient,
    graph: &GraphClient,
    resolver: Option<&Resolver>,
    state: &ProjectState,
) -> Result<Results, CheckError> {
    let (rules, health, licences, eop, mail) = tokio::join!(
        rules_check(exo, state),
        health_check(graph),
        licences::licences_check(graph, state),
        eop_check(exo, resolver, state),
        mail_check(exo, state)
    );
    let rules = rules?;
    let health = health?;
    let licences = match licences {
        Ok(r) => r,
        Err(e) => checks::m365_failure("GET /users or GET /subscribedSkus", e)?,
    };
    Ok(vec![(IDS[0], rules), (IDS[1], eop?), (IDS[2], health), (IDS[3], mail?), (IDS[4], licences)])
}

async fn rules_check(exo: &ExoClient, state: &ProjectState) -> Result<CheckResult, CheckError> {
    let source = match rules::source_rules(state) {
        Ok(s) => s,
        Err(e) => return Ok(CheckResult::new(Outcome::Fail, format!("Cannot tell: {e}."), Utc::now())),
    };
    let tenant = match exo.get_transport_rules().await {
        Ok(out) => out.items,
        Err(e) => return checks::m365_failure("Get-TransportRule", e),
    };
    let tenant: Vec<TenantRule> =
        tenant.iter().map(|r| TenantRule { name: r.name.clone(), enabled: r.enabled.unwrap_or(true) }).collect();
    let mut r = enabled_check(&map_all(&source), &source, &tenant, Utc::now());
    r.evidence = format!("Get-TransportRule ({} in the tenant): {}", tenant.len(), r.evidence);
    Ok(r)
}

async fn eop_check(
    exo: &ExoClient,
    resolver: Option<&Resolver>,
    state: &ProjectState,
) -> Result<CheckResult, CheckError> {
    let Some(resolver) = resolver else {
        return Ok(CheckResult::new(Outcome::NotRun, "Not run: no DNS resolver.", Utc::now()));
    };
    let domains = eop::domains(state);
    match eop::read(exo, resolver, &domains).await {
        Ok((policies, auth)) => {
            let to = domains.first().map(|d| eop::reports_to(state, d)).unwrap_or_default();
            let mut r = crate::plan::post::eop::check(&policies, &auth, &to, Utc::now());
            r.evidence = format!("Baseline docs/eop-baseline.md: {}", r.evidence);
            Ok(r)
        }
        Err(eop::ReadError::M365(e)) => {
            checks::m365_failure("Get-HostedContentFilterPolicy, Get-MalwareFilterPolicy or Get-DkimSigningConfig", e)
        }
        Err(eop::ReadError::Dns(e)) => Ok(CheckResult::new(Outcome::NotRun, format!("Not run: {e}."), Utc::now())),
    }
}

async fn mail_check(exo: &ExoClient, state: &ProjectState) -> Result<CheckResult, CheckError> {
    match mailflow::traces(exo, state).await {
        Ok((each, inbound)) => {
            let domains = eop::domains(state);
            let mut r =
                crate::plan::post::mailflow::check(&state.post.test_mails, &each, &inbound, &domains, Utc::now());
            r.evidence = format!("Get-MessageTraceV2: {}", r.evidence);
            Ok(r)
        }
        Err(e) => checks::m365_failure("Get-MessageTraceV2", e),
    }
}

async fn health_check(graph: &GraphClient) -> Result<CheckResult, CheckError> {
    let (overviews, issues) = tokio::join!(graph.health_overviews(), graph.open_issues(health::EXCHANGE_ONLINE));
    let overviews = match overviews {
        Ok(o) => o,
        Err(e) => return checks::m365_failure("GET /admin/serviceAnnouncement/healthOverviews", e),
    };
    let issues = match issues {
        Ok(i) => i,
        Err(e) => return checks::m365_failure("GET /admin/serviceAnnouncement/issues", e),
    };
    let mut r = health::check(health::exchange(&overviews), &issues, Utc::now());
    r.evidence = format!("Graph service announcements: {}", r.evidence);
    Ok(r)
}
