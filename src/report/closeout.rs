//! The closeout report (the service's last deliverable, the one the customer signs): the final status of each
//! stage, the evidence for each of the five success criteria ([`criteria`]), what is outstanding, the final
//! budget against the kickoff estimate, the timeline from the audit log ([`timeline`]) and every override with
//! who made it and why. Built from the project alone (its state, the migration facts the watch kept, the audit
//! log); rendered as Markdown, self-contained HTML with inline SVG charts, and JSON by [`render`]. Pure.

pub mod criteria;
pub mod render;
mod svg;
pub mod timeline;

use super::migration::{MigrationReport, RowStatus, Totals};
use crate::plan::final_sync::advice::advice;
use crate::plan::kickoff::budget_usd;
use crate::plan::migrate::health::Health;
use crate::plan::migrate::view::Sample;
use crate::plan::{StageId, StageStatus, TaskStatus, gating};
use crate::project::audit::AuditRecord;
use crate::project::state::ProjectState;
use chrono::{DateTime, Utc};
use criteria::CriterionEvidence;
use serde::Serialize;
use timeline::Timeline;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloseoutReport {
    pub project: String,
    pub customer: String,
    pub generated_at: DateTime<Utc>,
    pub kickoff: KickoffFacts,
    pub status: ProjectStatus,
    pub criteria: Vec<CriterionEvidence>,
    pub outstanding: Outstanding,
    pub budget: Budget,
    /// What the migration moved, when the project kept it.
    pub migration: Option<MigrationSummary>,
    /// The batch's counters over time (the watch keeps about the last hour), oldest first.
    pub data_moved: Vec<Sample>,
    pub timeline: Timeline,
    /// Every override recorded, also those whose check has passed since.
    pub overrides: Vec<OverrideLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KickoffFacts {
    pub partner: String,
    pub client: String,
    pub tenant: Option<String>,
    pub domains: Vec<String>,
    pub cutover: Option<String>,
    pub estimated_mailboxes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectStatus {
    /// Every stage done (overridden checks included).
    pub complete: bool,
    pub stages: Vec<StageLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageLine {
    pub stage: u8,
    pub title: String,
    pub status: String,
    /// "Stage 2 checks: 7 run: 5 pass, 1 warn, 1 fail."
    pub checks: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outstanding {
    /// Failed checks nobody overrode.
    pub failed_checks: Vec<CheckIssue>,
    /// Failed checks the engineer went on despite.
    pub overridden_checks: Vec<CheckIssue>,
    pub failed_tasks: Vec<TaskIssue>,
    /// Mailboxes not migrated (failed, stalled, still moving or never in the batch), with why and the fix.
    pub mailboxes: Vec<MailboxIssue>,
    /// Mailboxes with items the migration skipped.
    pub skipped_items: Vec<SkippedItems>,
    /// What the transport-rules task recorded (rules it could not map among it), or that it has not run.
    pub transport_rules: String,
    /// What the customer must do by hand (stage 8's advice).
    pub advice: Vec<AdviceLine>,
}

impl Outstanding {
    pub fn is_empty(&self) -> bool {
        self.failed_checks.is_empty()
            && self.overridden_checks.is_empty()
            && self.failed_tasks.is_empty()
            && self.mailboxes.is_empty()
            && self.skipped_items.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckIssue {
    pub stage: u8,
    pub check: String,
    pub title: String,
    pub evidence: String,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskIssue {
    pub stage: u8,
    pub task: String,
    pub detail: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailboxIssue {
    pub address: String,
    pub status: String,
    pub reason: String,
    pub fix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedItems {
    pub address: String,
    pub items: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdviceLine {
    pub title: String,
    pub text: String,
    pub command: Option<String>,
}

/// $300 + $25 per mailbox migrated, against the same rule on the kickoff estimate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub estimated_mailboxes: Option<u32>,
    pub estimate_usd: Option<u64>,
    /// Mailboxes the migration moved; unknown while the project kept no migration facts.
    pub migrated_mailboxes: Option<u32>,
    pub final_usd: Option<u64>,
    /// Final minus estimate.
    pub difference_usd: Option<i64>,
}

impl Budget {
    pub fn new(estimated_mailboxes: Option<u32>, migrated_mailboxes: Option<u32>) -> Budget {
        let estimate_usd = estimated_mailboxes.map(budget_usd);
        let final_usd = migrated_mailboxes.map(budget_usd);
        let difference_usd = match (final_usd, estimate_usd) {
            (Some(f), Some(e)) => i64::try_from(f).ok().zip(i64::try_from(e).ok()).map(|(f, e)| f - e),
            _ => None,
        };
        Budget { estimated_mailboxes, estimate_usd, migrated_mailboxes, final_usd, difference_usd }
    }
}

/// Where the migration facts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrationSource {
    /// The batch watch's last view (`live/batch.json`).
    BatchView,
    /// The migration report stage 6 wrote, when it is fresher than the view (once the batch is removed, the view
    /// holds no mailbox).
    Stage6Report,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationSummary {
    pub source: MigrationSource,
    /// When the facts were read.
    pub as_of: Option<DateTime<Utc>>,
    pub totals: Totals,
    /// Mailboxes by outcome, for the bar chart: migrated, in progress, failed, stalled, not in the batch.
    pub by_outcome: Vec<(String, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideLine {
    pub stage: u8,
    pub check: String,
    pub by: String,
    pub reason: String,
    pub at: DateTime<Utc>,
    /// Whether the check still fails (else it has passed since and the override no longer counts).
    pub active: bool,
}

/// What the report is made of, as the caller read it from the project.
pub struct Inputs<'a> {
    pub state: &'a ProjectState,
    /// The migration facts and where they come from.
    pub migration: Option<(MigrationReport, MigrationSource)>,
    pub history: Vec<Sample>,
    /// The audit log's records, oldest first, and the lines that could not be read.
    pub audit: &'a [AuditRecord],
    pub torn_audit_lines: &'a [usize],
    pub now: DateTime<Utc>,
}

/// A stage status in words, as `cutover status` says it.
pub fn status_word(status: StageStatus) -> &'static str {
    match status {
        StageStatus::NotStarted => "not started",
        StageStatus::InProgress => "in progress",
        StageStatus::Done => "done",
        StageStatus::Overridden => "done (overridden)",
        StageStatus::Failed => "failed",
        StageStatus::Locked => "locked",
    }
}

impl CloseoutReport {
    pub fn build(inputs: Inputs<'_>) -> CloseoutReport {
        let Inputs { state, migration, history, audit, torn_audit_lines, now } = inputs;
        let k = &state.kickoff;
        let contact = |c: &crate::plan::kickoff::Contact| {
            [c.name.as_str(), c.email.as_str(), c.phone.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let stages: Vec<StageLine> = StageId::all()
            .map(|id| StageLine {
                stage: id.number(),
                title: id.def().title.to_owned(),
                status: status_word(state.shown_status(id)).to_owned(),
                checks: gating::check_summary(id.def(), state.stage(id)),
            })
            .collect();
        let complete = StageId::all().all(|id| state.shown_status(id).is_done());
        let migrated = migration.as_ref().map(|(m, _)| u32::try_from(m.totals.migrated).unwrap_or(u32::MAX));
        CloseoutReport {
            project: state.name.clone(),
            customer: k.customer.clone(),
            generated_at: now,
            kickoff: KickoffFacts {
                partner: contact(&k.partner),
                client: contact(&k.client),
                tenant: k.tenant.as_ref().map(ToString::to_string),
                domains: k.domains.clone(),
                cutover: k.cutover.as_ref().map(ToString::to_string),
                estimated_mailboxes: k.mailboxes,
            },
            status: ProjectStatus { complete, stages },
            criteria: criteria::assess(state),
            outstanding: outstanding(state, migration.as_ref().map(|(m, _)| m)),
            budget: Budget::new(k.mailboxes, migrated),
            migration: migration.as_ref().map(|(m, source)| summary(m, *source)),
            data_moved: history,
            timeline: timeline::timeline(audit, torn_audit_lines),
            overrides: overrides(state),
        }
    }
}

fn summary(m: &MigrationReport, source: MigrationSource) -> MigrationSummary {
    let t = m.totals;
    MigrationSummary {
        source,
        as_of: m.polled_at.or(Some(m.generated_at)),
        totals: t,
        by_outcome: [
            ("migrated", t.migrated),
            ("in progress", t.in_progress),
            ("failed", t.failed),
            ("stalled", t.stalled),
            ("not in batch", t.not_in_batch),
        ]
        .into_iter()
        .map(|(label, n)| (label.to_owned(), n))
        .collect(),
    }
}

fn outstanding(state: &ProjectState, migration: Option<&MigrationReport>) -> Outstanding {
    let mut out = Outstanding::default();
    for id in StageId::all() {
        let Some(record) = state.stage(id) else { continue };
        for check in id.def().checks {
            let Some(result) = record.result(check.id).filter(|r| r.outcome == crate::plan::Outcome::Fail) else {
                continue;
            };
            let over = record.active_override(check.id);
            let issue = CheckIssue {
                stage: id.number(),
                check: check.id.as_str().to_owned(),
                title: check.title.to_owned(),
                evidence: result.evidence.clone(),
                at: result.at,
                reason: over.map(|o| o.reason.clone()),
                by: over.map(|o| o.by.clone()),
            };
            if over.is_some() { out.overridden_checks.push(issue) } else { out.failed_checks.push(issue) }
        }
        for task in id.def().tasks {
            if let Some(t) = record.task(task.id).filter(|t| t.status == TaskStatus::Failed) {
                out.failed_tasks.push(TaskIssue {
                    stage: id.number(),
                    task: task.id.as_str().to_owned(),
                    detail: t.detail.clone(),
                    at: t.at,
                });
            }
        }
    }
    if let Some(m) = migration {
        for row in &m.rows {
            let migrated = matches!(&row.status, RowStatus::InBatch(h) if h.is_migrated());
            if let Some(f) = row.failure.as_ref().filter(|_| !migrated) {
                out.mailboxes.push(MailboxIssue {
                    address: row.address.clone(),
                    status: row.status.label().to_owned(),
                    reason: f.reason.clone(),
                    fix: f.fix.clone(),
                });
            } else if !migrated {
                out.mailboxes.push(MailboxIssue {
                    address: row.address.clone(),
                    status: row.status.label().to_owned(),
                    reason: match &row.status {
                        RowStatus::InBatch(Health::Queued | Health::Starting | Health::Syncing) => {
                            "its initial sync had not finished when the batch was last read".to_owned()
                        }
                        _ => "not migrated when the batch was last read".to_owned(),
                    },
                    fix: "follow the batch (stage 5) until it syncs, or retry it (stage 6)".to_owned(),
                });
            }
            if let Some(n) = row.skipped_items.filter(|n| *n > 0) {
                out.skipped_items.push(SkippedItems { address: row.address.clone(), items: n });
            }
        }
    }
    let rules = crate::plan::TaskId::Post(crate::plan::post::Task::TransportRules);
    out.transport_rules = match state.stage(rules.stage()).and_then(|r| r.task(rules)) {
        Some(t) => format!("{} ({}): {}", rules.def().title, task_word(t.status), t.detail),
        None => format!("{}: not run, so no rule of the source is in Exchange Online by this tool.", rules.def().title),
    };
    out.advice = advice(state.source_access.exchange_server.as_deref())
        .into_iter()
        .map(|a| AdviceLine { title: a.title.to_owned(), text: a.text, command: a.command })
        .collect();
    out
}

fn task_word(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::NotStarted => "not started",
        TaskStatus::Running => "stopped before the end",
        TaskStatus::Done => "done",
        TaskStatus::Failed => "failed",
    }
}

fn overrides(state: &ProjectState) -> Vec<OverrideLine> {
    let mut lines = Vec::new();
    for (id, record) in &state.stages {
        for (check, o) in &record.overrides {
            let active = id.def().check(check).is_some_and(|c| record.active_override(c.id).is_some());
            lines.push(OverrideLine {
                stage: id.number(),
                check: check.clone(),
                by: o.by.clone(),
                reason: o.reason.clone(),
                at: o.at,
                active,
            });
        }
    }
    lines.sort_by_key(|l| (l.at, l.stage));
    lines
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plan::check::{CheckResult, Outcome, Override};
    use crate::plan::kickoff::Field;
    use crate::plan::{CheckId, TaskRecord, verify};
    use crate::project::audit::Phase;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minute * 60, 0).expect("valid")
    }

    #[test]
    fn the_budget_is_the_kickoff_rule_on_the_mailboxes_migrated() {
        let b = Budget::new(Some(20), Some(17));
        assert_eq!((b.estimate_usd, b.final_usd, b.difference_usd), (Some(800), Some(725), Some(-75)));
        let more = Budget::new(Some(10), Some(12));
        assert_eq!((more.estimate_usd, more.final_usd, more.difference_usd), (Some(550), Some(600), Some(50)));
        let unknown = Budget::new(Some(10), None);
        assert_eq!((unknown.final_usd, unknown.difference_usd), (None, None), "never guessed");
        assert_eq!(Budget::new(None, Some(0)).final_usd, Some(300));
    }

    /// A project with the migration report's sample (one migrated, one failed, one hidden), a hostile display
    /// name and customer, an overridden stage 6 check, a failed task and a short audit log.
    pub fn sample() -> CloseoutReport {
        let migration = crate::report::migration::tests::sample();
        let mut state = ProjectState::new("contoso", at(0), false);
        Field::Customer.apply(&mut state.kickoff, "Contoso <script>alert(1)</script> & Sons").expect("valid");
        Field::Mailboxes.apply(&mut state.kickoff, "4").expect("valid");
        Field::PartnerName.apply(&mut state.kickoff, "Pat <b>Partner</b>").expect("valid");
        let items = CheckId::Verify(verify::Check::ItemCounts);
        let record = state.stage_mut(items.stage());
        record.record_check(items, CheckResult::new(Outcome::Fail, "1 of 2 mailboxes short: <i>b</i>", at(50)));
        record.overrides.insert(
            items.as_str().to_owned(),
            Override { reason: "Bob's mailbox is retired <today>".into(), by: "eng@contoso.com".into(), at: at(51) },
        );
        record.record_task(
            crate::plan::TaskId::Verify(verify::Task::RetryFailed),
            TaskRecord { status: TaskStatus::Failed, detail: "403 from Exchange".into(), at: at(52) },
        );
        let audit = vec![
            AuditRecord {
                time: at(1),
                actor: "eng".into(),
                stage: StageId::new(1),
                action: "set-kickoff-field".into(),
                phase: Phase::AboutTo,
                detail: serde_json::json!({"field": "<script>"}),
                touches: None,
            },
            AuditRecord {
                time: at(1),
                actor: "eng".into(),
                stage: StageId::new(1),
                action: "set-kickoff-field".into(),
                phase: Phase::Done,
                detail: serde_json::json!({"field": "<script>"}),
                touches: None,
            },
        ];
        let history = vec![
            Sample { at: at(10), bytes: 0, items: 0 },
            Sample { at: at(20), bytes: 2_000, items: 40 },
            Sample { at: at(30), bytes: 5_000, items: 100 },
        ];
        CloseoutReport::build(Inputs {
            state: &state,
            migration: Some((migration, MigrationSource::BatchView)),
            history,
            audit: &audit,
            torn_audit_lines: &[3],
            now: at(60),
        })
    }

    #[test]
    fn the_report_holds_status_budget_outstanding_issues_and_overrides() {
        let r = sample();
        assert_eq!(r.status.stages.len(), 9);
        assert!(!r.status.complete);
        assert_eq!((r.status.stages[0].status.as_str(), r.status.stages[5].status.as_str()), ("not started", "locked"));
        assert_eq!(r.criteria.len(), 5);
        assert_eq!(r.criteria[1].verdict, criteria::Verdict::NotMet, "item-counts failed (overridden)");
        assert_eq!(
            (r.budget.estimate_usd, r.budget.migrated_mailboxes, r.budget.final_usd),
            (Some(400), Some(1), Some(325))
        );
        let o = &r.outstanding;
        assert!(o.failed_checks.is_empty());
        assert_eq!(o.overridden_checks.len(), 1);
        assert_eq!(o.overridden_checks[0].by.as_deref(), Some("eng@contoso.com"));
        assert_eq!(o.failed_tasks[0].task, "retry-failed");
        let addresses: Vec<&str> = o.mailboxes.iter().map(|m| m.address.as_str()).collect();
        assert_eq!(addresses, ["b@contoso.com", "hidden@contoso.com"]);
        assert!(o.transport_rules.contains("not run"), "{}", o.transport_rules);
        assert_eq!(o.advice.len(), 2);
        assert_eq!(r.overrides.len(), 1);
        assert!(r.overrides[0].active);
        let m = r.migration.as_ref().expect("migration facts");
        assert_eq!(m.by_outcome[0], ("migrated".to_owned(), 1));
        assert_eq!(r.timeline.writes.len(), 1);
        assert_eq!(r.timeline.torn_lines, [3]);
    }

    #[test]
    fn without_migration_facts_the_final_budget_is_unknown_not_zero() {
        let state = ProjectState::new("p", at(0), false);
        let r = CloseoutReport::build(Inputs {
            state: &state,
            migration: None,
            history: vec![],
            audit: &[],
            torn_audit_lines: &[],
            now: at(1),
        });
        assert_eq!((r.budget.migrated_mailboxes, r.budget.final_usd), (None, None));
        assert!(r.criteria.iter().all(|c| c.verdict == criteria::Verdict::NotShown));
        assert!(r.overrides.is_empty() && r.outstanding.is_empty());
    }
}
