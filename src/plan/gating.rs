//! What a stage has recorded, the status that follows from it, and when a stage opens.
//!
//! A stage is done when every one of its checks has a result that is Pass or Warn, or a Fail that the engineer
//! overrode with a written reason. The next stage opens only then.

use super::check::{CheckResult, Outcome, Override};
use super::stages::{StageDef, StageId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskStatus {
    NotStarted,
    Running,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub status: TaskStatus,
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// Everything a stage has recorded: the latest result of each check, overrides, and task outcomes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRecord {
    #[serde(default)]
    pub checks: BTreeMap<String, CheckResult>,
    #[serde(default)]
    pub overrides: BTreeMap<String, Override>,
    #[serde(default)]
    pub tasks: BTreeMap<String, TaskRecord>,
}

impl StageRecord {
    pub fn outcome(&self, check: &str) -> Outcome {
        self.checks.get(check).map_or(Outcome::NotRun, |r| r.outcome)
    }

    /// The override that applies to a check: only a failed check's override counts.
    pub fn active_override(&self, check: &str) -> Option<&Override> {
        (self.outcome(check) == Outcome::Fail).then(|| self.overrides.get(check)).flatten()
    }
}

/// Where a stage stands, as the sidebar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageStatus {
    NotStarted,
    InProgress,
    Done,
    /// Done, but only because the engineer overrode at least one failed check.
    Overridden,
    Failed,
}

impl StageStatus {
    pub fn is_done(self) -> bool {
        matches!(self, StageStatus::Done | StageStatus::Overridden)
    }
}

/// The status of one stage from its record.
pub fn stage_status(def: &StageDef, record: Option<&StageRecord>) -> StageStatus {
    let Some(record) = record else {
        return StageStatus::NotStarted;
    };
    if record.checks.is_empty() && record.tasks.is_empty() {
        return StageStatus::NotStarted;
    }
    let mut all_accepted = true;
    let mut overridden = false;
    let mut failed = false;
    for check in def.checks {
        match record.outcome(check.id) {
            Outcome::Pass | Outcome::Warn => {}
            Outcome::Fail if record.overrides.contains_key(check.id) => overridden = true,
            Outcome::Fail => {
                failed = true;
                all_accepted = false;
            }
            Outcome::NotRun => all_accepted = false,
        }
    }
    match (failed, all_accepted, overridden) {
        (true, _, _) => StageStatus::Failed,
        (false, true, true) => StageStatus::Overridden,
        (false, true, false) => StageStatus::Done,
        (false, false, _) => StageStatus::InProgress,
    }
}

/// Whether a stage is open for work: the first always is, every other once the stage before it is done.
pub fn is_open(stage: StageId, status_of: impl Fn(StageId) -> StageStatus) -> bool {
    stage.previous().is_none_or(|prev| status_of(prev).is_done())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::stages::PLAN;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid timestamp")
    }

    fn record(results: &[(&str, Outcome)]) -> StageRecord {
        let mut r = StageRecord::default();
        for (id, outcome) in results {
            r.checks.insert((*id).to_owned(), CheckResult::new(*outcome, "evidence", at()));
        }
        r
    }

    #[test]
    fn an_untouched_stage_has_not_started() {
        assert_eq!(stage_status(&PLAN[0], None), StageStatus::NotStarted);
        assert_eq!(stage_status(&PLAN[0], Some(&StageRecord::default())), StageStatus::NotStarted);
    }

    #[test]
    fn a_stage_is_done_when_every_check_passes_or_warns() {
        let r = record(&[("kickoff-fields", Outcome::Pass), ("cutover-limits", Outcome::Warn)]);
        assert_eq!(stage_status(&PLAN[0], Some(&r)), StageStatus::Done);
    }

    #[test]
    fn a_missing_check_keeps_the_stage_in_progress() {
        let r = record(&[("kickoff-fields", Outcome::Pass)]);
        assert_eq!(stage_status(&PLAN[0], Some(&r)), StageStatus::InProgress);
    }

    #[test]
    fn a_failure_fails_the_stage_until_overridden() {
        let mut r = record(&[("kickoff-fields", Outcome::Pass), ("cutover-limits", Outcome::Fail)]);
        assert_eq!(stage_status(&PLAN[0], Some(&r)), StageStatus::Failed);
        r.overrides.insert(
            "cutover-limits".into(),
            Override { reason: "customer accepts two batches".into(), by: "eng".into(), at: at() },
        );
        assert_eq!(stage_status(&PLAN[0], Some(&r)), StageStatus::Overridden);
        assert!(r.active_override("cutover-limits").is_some());
    }

    #[test]
    fn an_override_stops_counting_once_the_check_passes() {
        let mut r = record(&[("kickoff-fields", Outcome::Pass), ("cutover-limits", Outcome::Pass)]);
        r.overrides.insert("cutover-limits".into(), Override { reason: "x".into(), by: "eng".into(), at: at() });
        assert_eq!(stage_status(&PLAN[0], Some(&r)), StageStatus::Done);
        assert!(r.active_override("cutover-limits").is_none());
    }

    #[test]
    fn a_stage_opens_only_after_the_one_before_is_done() {
        let statuses = |done_through: u8| {
            move |s: StageId| {
                if s.number() <= done_through { StageStatus::Done } else { StageStatus::NotStarted }
            }
        };
        assert!(is_open(StageId::KICKOFF, statuses(0)));
        assert!(!is_open(StageId::SOURCE, statuses(0)));
        assert!(is_open(StageId::SOURCE, statuses(1)));
        assert!(!is_open(StageId::PREPARE, statuses(2)));
        assert!(is_open(StageId::PREPARE, statuses(3)));
        assert!(is_open(StageId::SOURCE, |_| StageStatus::Overridden));
        assert!(!is_open(StageId::SOURCE, |_| StageStatus::Failed));
    }
}
