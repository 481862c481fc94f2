//! Stage 7, MX change: show-records (the tenant's records, the live SPF merged, what to remove, the pre-flight;
//! `mx/records.rs`), in a demo applying them at the simulated registrar, record-mx-change (when the change was
//! made, which goes on as the propagation watch), and the watch on its own for `cutover watch` (`mx/watch.rs`).
//! The checks on their own read one round of the watch.

pub mod records;
pub mod watch;

use super::super::checks::CheckError;
use super::super::jobs::{Apply, Job, JobContext};
use super::super::tasks::{TaskError, TaskOutcome};
use super::super::work::{Done, Stop, m365, task_job};
use super::{LiveChecks, NotStarted, StageWork, TaskInputs};
use crate::plan::mx::propagation::{DnsView, propagation_check};
use crate::plan::mx::{Check, STAGE, Task};
use crate::plan::{Outcome, TaskId, TaskRecord, TaskStatus};
use crate::project::ProjectState;
use crate::protocol::Event;
use chrono::{DateTime, Utc};

/// What the end of the watch says when stopped: the change spreads on without it.
const WATCH_STOPPED: &str = "Stopped watching the DNS; the change spreads on without the watch.";
const WATCH_DONE: &str = "Every watched resolver returns the new records.";

/// How far ahead of this machine's clock a given change time may be (clocks differ a little).
const FUTURE_SLACK_MINUTES: i64 = 5;

pub struct Work;

impl StageWork for Work {
    fn read_back<'a>(
        &'a self,
        state: &'a ProjectState,
        write: &'a crate::project::AuditRecord,
        _conn: &'a crate::runner::connect::Connections,
    ) -> crate::runner::resume::Reading<'a> {
        match write.action.as_str() {
            "apply-dns-records-demo" => Some(Box::pin(super::prepare::registrar::read_back(state, &write.detail))),
            _ => None,
        }
    }

    fn live(&self) -> Option<LiveChecks> {
        Some(|state, conn| {
            Box::pin(async move {
                let now = Utc::now();
                if state.mx.records.is_empty() {
                    let text = "No records to look for yet: run Show the DNS records to set first.".to_owned();
                    return Ok(vec![(
                        Check::DnsPropagation.into(),
                        crate::plan::CheckResult::new(Outcome::Fail, text, now),
                    )]);
                }
                // The pre-flight is a gate before the change: judged again until the change is recorded, then
                // its verdict of that time stands.
                let mut results = Vec::new();
                if state.mx.changed_at.is_none() {
                    results.push((Check::Preflight.into(), preflight(state, conn, now).await?));
                }

                let resolvers = match watch::resolvers(state, conn).await {
                    Ok(r) => r,
                    Err(e) => {
                        let text = format!("The resolvers to watch could not be found: {e}");
                        let failed = crate::plan::CheckResult::new(Outcome::Fail, text, now);
                        return Ok(vec![(Check::DnsPropagation.into(), failed)]);
                    }
                };
                let mut view = DnsView::default();
                let labels: Vec<String> = resolvers.iter().map(|r| r.label().to_owned()).collect();
                let domains: Vec<String> = state.mx.records.iter().map(|d| d.domain.clone()).collect();
                view.ensure_rows(&labels, &domains);
                view.apply(watch::round(&resolvers, &state.mx.records).await, &state.mx.records, now);
                results.push((Check::DnsPropagation.into(), propagation_check(&view, now)));
                Ok(results)
            })
        })
    }

    fn task(&self, task: TaskId, inputs: TaskInputs) -> Result<Job, NotStarted> {
        let TaskId::Mx(which) = task else { return Err(NotStarted::NotBuilt) };
        let label = task.def().title;
        let job = match which {
            Task::ShowRecords => task_job(task, &[TaskId::Mx(Task::ShowRecords)], label, move |ctx| async move {
                let m365 = m365(&inputs.conn)?;
                let domains = inputs.state.kickoff.domains.clone();
                if domains.is_empty() {
                    return Err(Stop::Refused("no email domain is recorded: fill Email domains in stage 1".into()));
                }
                let outcome = records::show_records(&ctx, &m365.graph, &inputs.conn, &domains).await?;
                // The record was written with the records; nothing more to record.
                Ok(Done { outcome, verification: None, status: None })
            }),
            Task::ApplyRecords => task_job(task, &[TaskId::Mx(Task::ApplyRecords)], label, move |ctx| async move {
                let state = inputs.state;
                let Some(link) = &state.simulator else {
                    return Err(Stop::Failed(TaskError::Registrar(super::prepare::registrar::RegistrarError::NotDemo)));
                };
                let url = url::Url::parse(&link.control_url)
                    .map_err(|e| Stop::Refused(format!("the simulator's control URL is not a URL: {e}")))?;
                if state.mx.records.is_empty() {
                    return Err(Stop::Refused("run the task Show the DNS records to set first".to_owned()));
                }
                let outcome = records::apply_records(&ctx, state.demo, &url, &state.mx.records).await?;
                Ok(Done::ran(outcome))
            }),
            Task::RecordMxChange => {
                let at = change_time(&inputs.state, inputs.at, Utc::now()).map_err(NotStarted::Refused)?;
                task_job(task, &[TaskId::Mx(Task::RecordMxChange)], label, move |ctx| async move {
                    let ahead = inputs.conn.service_ahead_ms().await;
                    record_change(&ctx, task, at, inputs.at.is_some(), ahead);
                    let resolvers = watch::resolvers(&inputs.state, &inputs.conn).await.map_err(Stop::Refused)?;
                    let mut view = watch::stored_view(&ctx).await;
                    view.changed_at = Some(at);
                    let end = watch::watch(&ctx, &inputs.conn, &resolvers, &inputs.state, view).await;
                    let summary = match end {
                        watch::End::Propagated => WATCH_DONE,
                        watch::End::Stopped => WATCH_STOPPED,
                    };
                    // The change was recorded as it started; the watch's end records nothing more.
                    Ok(Done {
                        outcome: TaskOutcome { summary: summary.to_owned(), ..TaskOutcome::default() },
                        verification: None,
                        status: None,
                    })
                })
            }
        };
        Ok(job)
    }

    fn takes_time(&self, task: TaskId) -> bool {
        task == TaskId::Mx(Task::RecordMxChange)
    }

    fn watches(&self) -> bool {
        true
    }

    fn watch_wanted(&self, state: &ProjectState) -> bool {
        state.mx.changed_at.is_some() && !state.status(STAGE).is_done()
    }

    /// The propagation is watched for hours: a wizard opened again goes on from `live/dns.json`.
    fn resume_on_open(&self, state: &ProjectState) -> bool {
        self.watch_wanted(state)
    }

    fn watch(&self, inputs: TaskInputs) -> Result<Job, NotStarted> {
        let Some(at) = inputs.state.mx.changed_at else {
            let task = TaskId::Mx(Task::RecordMxChange);
            return Err(NotStarted::Refused(format!(
                "the MX change is not recorded yet: record it with the task {} (`cutover task {task}`), which starts \
                 the watch; watching never records it",
                task.def().title
            )));
        };
        Ok(Job::new("Watching the DNS propagation", move |ctx| async move {
            let end = match watch::resolvers(&inputs.state, &inputs.conn).await {
                Err(e) => Err(e),
                Ok(resolvers) => {
                    let mut view = watch::stored_view(&ctx).await;
                    view.changed_at = Some(at);
                    Ok(watch::watch(&ctx, &inputs.conn, &resolvers, &inputs.state, view).await)
                }
            };
            let apply: Apply = Box::new(move |project| match end {
                Ok(watch::End::Propagated) => {
                    Event::StateChanged { state: project.snapshot(), note: Some(WATCH_DONE.into()) }
                }
                Ok(watch::End::Stopped) => {
                    Event::StateChanged { state: project.snapshot(), note: Some(WATCH_STOPPED.into()) }
                }
                Err(reason) => Event::Refused { what: "Watching the DNS propagation".to_owned(), reason },
            });
            apply
        }))
    }
}

/// The pre-flight on the batch as the tenant shows it now (`Get-MigrationBatch` alone). Without a sign-in or an
/// answer it is not judged (Not run keeps the verdict recorded), so a network blip never undoes a pass; the DNS
/// is judged regardless.
async fn preflight(
    state: &ProjectState,
    conn: &crate::runner::connect::Connections,
    now: DateTime<Utc>,
) -> Result<crate::plan::CheckResult, CheckError> {
    let not_judged = |why: String| {
        let text = format!("Not judged again: {why}; the last verdict stands. Run the checks again once it can be.");
        crate::plan::CheckResult::new(Outcome::NotRun, text, now)
    };
    let m365 = match conn.m365.as_ref() {
        Ok(m) => m,
        Err(e) => return Ok(not_judged(format!("not signed in to Microsoft 365 ({e})"))),
    };
    let name = super::migrate::batch::batch_name(&state.name);
    match m365.exo.get_migration_batch(&name).await {
        Ok(batch) => Ok(records::preflight_now(state, &name, batch.as_ref(), now)),
        Err(crate::m365::M365Error::Cancelled) => Err(CheckError::Cancelled),
        Err(e) => Ok(not_judged(format!("the migration batch {name} could not be read ({e})"))),
    }
}

/// When the change was made: the time given, else the one recorded already (a watch resumed), else now. The
/// pre-flight must have passed, warned or been overridden, and the records been read.
fn change_time(
    state: &ProjectState,
    given: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let show = TaskId::Mx(Task::ShowRecords);
    if state.mx.records.is_empty() {
        return Err(format!(
            "there are no records to watch for: run the task {} (`cutover task {show}`) first",
            show.def().title
        ));
    }
    let record = state.stage(STAGE);
    let outcome = record.map_or(Outcome::NotRun, |r| r.outcome(Check::Preflight));
    let overridden = record.and_then(|r| r.active_override(Check::Preflight)).is_some();
    if !(matches!(outcome, Outcome::Pass | Outcome::Warn) || overridden) {
        let check = crate::plan::CheckId::from(Check::Preflight);
        return Err(format!(
            "the pre-flight ({}) has not passed: fix what it names and show the records again, or override it with a \
             written reason (`o` in the wizard, or `cutover override --stage {STAGE} --check {check} --reason TEXT`)",
            check.def().title
        ));
    }
    if let Some(at) = given {
        if at > now + chrono::Duration::minutes(FUTURE_SLACK_MINUTES) {
            return Err(format!("{} is in the future: record the change once it is made", at.to_rfc3339()));
        }
        return Ok(at);
    }
    Ok(state.mx.changed_at.unwrap_or(now))
}

/// Records the change at once (the watch after it runs for hours), audited with who recorded it, with how far
/// Microsoft 365's clock was ahead (`ahead`) when it is a new time.
fn record_change(ctx: &JobContext, task: TaskId, at: DateTime<Utc>, given: bool, ahead: Option<i64>) {
    ctx.record(Box::new(move |project| {
        let before = project.state().mx.changed_at;
        let by = project.state().decided_by();
        let when = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let summary = match before {
            Some(b) if b == at => format!("The MX change is recorded at {when}; watching the resolvers."),
            Some(_) if given => format!("The MX change time is corrected to {when}; watching the resolvers."),
            _ => format!("The MX change is recorded at {when}; watching the resolvers."),
        };
        let detail = serde_json::json!({
            "task": task, "changed_at": at, "before": before, "by": by, "service_ahead_ms": ahead,
        });
        let result = project.change(Some(STAGE), "record-mx-change", detail, |state| {
            if state.mx.changed_at != Some(at) {
                state.mx.change_ahead_ms = ahead;
            }
            state.mx.changed_at = Some(at);
            let record = TaskRecord { status: TaskStatus::Done, detail: summary.clone(), at: Utc::now() };
            state.stage_mut(STAGE).record_task(task, record);
            Ok::<(), std::convert::Infallible>(())
        });
        Some(match result {
            Ok(_) => Event::TaskDone { state: project.snapshot(), summary },
            Err(e) => Event::Failed { what: "the MX change's record".to_owned(), error: e.to_string() },
        })
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::mx::records::{DomainRecords, Slot, ZoneRecord};

    fn ready_state(outcome: Outcome) -> ProjectState {
        let mut s = ProjectState::new("acme", Utc::now(), false);
        s.mx.records = vec![DomainRecords {
            domain: "contoso.com".into(),
            set: vec![ZoneRecord {
                slot: Slot::Mx,
                name: "contoso.com".into(),
                ttl: 3600,
                value: crate::dns::RecordValue::mx(0, "contoso-com.mail.protection.outlook.com"),
            }],
            remove: vec![],
            spf_replaces: vec![],
            spf_lookups: 0,
            warnings: vec![],
        }];
        s.stage_mut(STAGE).record_check(Check::Preflight, crate::plan::CheckResult::new(outcome, "x", Utc::now()));
        s
    }

    #[test]
    fn an_opened_wizard_resumes_the_watch_only_while_the_change_is_propagating() {
        let mut s = ready_state(Outcome::Pass);
        assert!(!Work.resume_on_open(&s), "no change recorded: nothing to follow");
        s.mx.changed_at = Some(Utc::now());
        assert!(Work.resume_on_open(&s), "recorded, not yet propagated");
        let done = crate::plan::CheckResult::new(Outcome::Pass, "every resolver", Utc::now());
        s.stage_mut(STAGE).record_check(Check::DnsPropagation, done);
        assert!(!Work.resume_on_open(&s), "propagated: the stage is done");
    }

    #[test]
    fn the_change_needs_the_records_and_a_preflight_passed_or_overridden() {
        let now = Utc::now();
        let empty = ProjectState::new("acme", now, false);
        assert!(change_time(&empty, None, now).expect_err("no records").contains("Show the DNS records"));
        let failed = ready_state(Outcome::Fail);
        let err = change_time(&failed, None, now).expect_err("pre-flight failed");
        assert!(err.contains("override") && err.contains("mx-preflight"), "{err}");
        let mut overridden = failed.clone();
        overridden.stage_mut(STAGE).overrides.insert(
            Check::Preflight.as_str().to_owned(),
            crate::plan::Override { reason: "TTL lowered yesterday by the customer".into(), by: "me".into(), at: now },
        );
        assert_eq!(change_time(&overridden, None, now), Ok(now));
        let passed = ready_state(Outcome::Pass);
        let earlier = now - chrono::Duration::minutes(20);
        assert_eq!(change_time(&passed, Some(earlier), now), Ok(earlier));
        assert!(change_time(&passed, Some(now + chrono::Duration::hours(1)), now).is_err(), "not in the future");
        let mut recorded = passed;
        recorded.mx.changed_at = Some(earlier);
        assert_eq!(change_time(&recorded, None, now), Ok(earlier), "a resumed watch keeps the recorded time");
    }
}
