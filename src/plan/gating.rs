//! What a stage has recorded, the status that follows from it, and when a stage opens.
//!
//! A stage is done when every one of its checks has a result that is Pass or Warn, or a Fail that the engineer
//! overrode with a written reason. The next stage opens only then.

use super::check::{CheckResult, Outcome, Override};
use super::stages::{CheckId, StageDef, StageId, TaskId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Shortest override reason accepted: a few words, not a keystroke.
pub const MIN_OVERRIDE_REASON: usize = 10;

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
    pub fn outcome(&self, check: impl Into<CheckId>) -> Outcome {
        self.result(check).map_or(Outcome::NotRun, |r| r.outcome)
    }

    /// The latest result of a check, if it ran.
    pub fn result(&self, check: impl Into<CheckId>) -> Option<&CheckResult> {
        self.checks.get(check.into().as_str())
    }

    /// The override that applies to a check: only a failed check's override counts.
    pub fn active_override(&self, check: impl Into<CheckId>) -> Option<&Override> {
        let check = check.into();
        (self.outcome(check) == Outcome::Fail).then(|| self.overrides.get(check.as_str())).flatten()
    }

    /// Records a check's result under its id.
    pub fn record_check(&mut self, check: impl Into<CheckId>, result: CheckResult) {
        self.checks.insert(check.into().as_str().to_owned(), result);
    }

    /// Records the result of a run of a check, unless the check could not run (`NotRun`: a missing CA file, no
    /// sign-in, no connection) and a verdict is recorded already: that verdict stands, since nothing new was
    /// learnt. Returns the verdict kept, if one was.
    pub fn record_run(&mut self, check: impl Into<CheckId>, result: CheckResult) -> Option<&CheckResult> {
        let check = check.into();
        let has_verdict = self.outcome(check) != Outcome::NotRun;
        if result.outcome == Outcome::NotRun && has_verdict {
            return self.result(check);
        }
        self.record_check(check, result);
        None
    }

    /// Records a task's outcome under its id.
    pub fn record_task(&mut self, task: impl Into<TaskId>, record: TaskRecord) {
        self.tasks.insert(task.into().as_str().to_owned(), record);
    }

    pub fn task(&self, task: impl Into<TaskId>) -> Option<&TaskRecord> {
        self.tasks.get(task.into().as_str())
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
    /// Shown for a stage whose predecessor is not done, whatever it recorded: it cannot be worked on, and a
    /// "done" there would contradict the gating. Only [`shown_status`] gives it.
    Locked,
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
            Outcome::Fail if record.overrides.contains_key(check.id.as_str()) => overridden = true,
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

/// The status a stage is shown with: locked while the stage before is not done, else its own.
pub fn shown_status(stage: StageId, status_of: impl Fn(StageId) -> StageStatus) -> StageStatus {
    if is_open(stage, &status_of) { status_of(stage) } else { StageStatus::Locked }
}

/// What a run of a stage's checks found, in one line: "Stage 2 checks: 7 run: 5 pass, 1 warn, 1 fail."
pub fn check_summary(def: &StageDef, record: Option<&StageRecord>) -> String {
    let mut counts = [0usize; 4];
    for check in def.checks {
        let outcome = record.map_or(Outcome::NotRun, |r| r.outcome(check.id));
        let slot = match outcome {
            Outcome::Pass => 0,
            Outcome::Warn => 1,
            Outcome::Fail => 2,
            Outcome::NotRun => 3,
        };
        counts[slot] += 1;
    }
    let run = counts[0] + counts[1] + counts[2];
    let mut parts: Vec<String> =
        [("pass", counts[0]), ("warn", counts[1]), ("fail", counts[2]), ("not run", counts[3])]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
    if parts.is_empty() {
        parts.push("none".to_owned());
    }
    format!("Stage {} checks: {run} run: {}.", def.id, parts.join(", "))
}

/// Why `stage` is locked, as the wizard, the runner and `cutover task` all say it: "Locked: opens when stage 3
/// (Users / directory sync) is done." The first stage is never locked, so it has none.
pub fn locked_reason(stage: StageId) -> Option<String> {
    stage.previous().map(|prev| format!("Locked: opens when stage {prev} ({}) is done.", prev.def().title))
}

/// Whether a stage is open for work: the first always is, every other once the stage before it is done.
pub fn is_open(stage: StageId, status_of: &impl Fn(StageId) -> StageStatus) -> bool {
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
        assert_eq!(stage_status(PLAN[0], None), StageStatus::NotStarted);
        assert_eq!(stage_status(PLAN[0], Some(&StageRecord::default())), StageStatus::NotStarted);
    }

    #[test]
    fn a_stage_is_done_when_every_check_passes_or_warns() {
        let r = record(&[("kickoff-fields", Outcome::Pass), ("cutover-limits", Outcome::Warn)]);
        assert_eq!(stage_status(PLAN[0], Some(&r)), StageStatus::Done);
    }

    #[test]
    fn a_missing_check_keeps_the_stage_in_progress() {
        let r = record(&[("kickoff-fields", Outcome::Pass)]);
        assert_eq!(stage_status(PLAN[0], Some(&r)), StageStatus::InProgress);
    }

    #[test]
    fn a_failure_fails_the_stage_until_overridden() {
        let mut r = record(&[("kickoff-fields", Outcome::Pass), ("cutover-limits", Outcome::Fail)]);
        assert_eq!(stage_status(PLAN[0], Some(&r)), StageStatus::Failed);
        r.overrides.insert(
            "cutover-limits".into(),
            Override { reason: "customer accepts two batches".into(), by: "eng".into(), at: at() },
        );
        assert_eq!(stage_status(PLAN[0], Some(&r)), StageStatus::Overridden);
        assert!(r.active_override(crate::plan::kickoff::Check::CutoverLimits).is_some());
    }

    #[test]
    fn an_override_stops_counting_once_the_check_passes() {
        let mut r = record(&[("kickoff-fields", Outcome::Pass), ("cutover-limits", Outcome::Pass)]);
        r.overrides.insert("cutover-limits".into(), Override { reason: "x".into(), by: "eng".into(), at: at() });
        assert_eq!(stage_status(PLAN[0], Some(&r)), StageStatus::Done);
        assert!(r.active_override(crate::plan::kickoff::Check::CutoverLimits).is_none());
    }

    #[test]
    fn a_run_that_could_not_run_keeps_the_verdict_recorded_before() {
        let mut r = record(&[("kickoff-fields", Outcome::Fail)]);
        let check = crate::plan::kickoff::Check::KickoffFields;
        let not_run = CheckResult::new(Outcome::NotRun, "Not run: the CA file is gone.", at());
        assert_eq!(r.record_run(check, not_run.clone()).map(|k| k.outcome), Some(Outcome::Fail));
        assert_eq!(r.outcome(check), Outcome::Fail, "the verdict stands");
        assert_eq!(r.record_run(check, CheckResult::new(Outcome::Pass, "ok", at())), None);
        assert_eq!(r.outcome(check), Outcome::Pass, "a verdict replaces a verdict");
        let mut fresh = StageRecord::default();
        assert_eq!(fresh.record_run(check, not_run), None);
        assert_eq!(fresh.outcome(check), Outcome::NotRun, "with nothing before, the not-run is recorded");
    }

    #[test]
    fn a_stage_after_one_not_done_is_shown_locked_whatever_it_recorded() {
        let status = |s: StageId| match s.number() {
            1 => StageStatus::Done,
            2 => StageStatus::Failed,
            _ => StageStatus::Done,
        };
        assert_eq!(shown_status(crate::plan::kickoff::STAGE, status), StageStatus::Done);
        assert_eq!(shown_status(crate::plan::source::STAGE, status), StageStatus::Failed);
        assert_eq!(shown_status(crate::plan::users::STAGE, status), StageStatus::Locked, "never done (locked)");
    }

    #[test]
    fn a_stage_opens_only_after_the_one_before_is_done() {
        let statuses = |done_through: u8| {
            move |s: StageId| {
                if s.number() <= done_through { StageStatus::Done } else { StageStatus::NotStarted }
            }
        };
        assert!(is_open(crate::plan::kickoff::STAGE, &statuses(0)));
        assert!(!is_open(crate::plan::source::STAGE, &statuses(0)));
        assert!(is_open(crate::plan::source::STAGE, &statuses(1)));
        assert!(!is_open(crate::plan::prepare::STAGE, &statuses(2)));
        assert!(is_open(crate::plan::prepare::STAGE, &statuses(3)));
        assert!(is_open(crate::plan::source::STAGE, &|_| StageStatus::Overridden));
        assert!(!is_open(crate::plan::source::STAGE, &|_| StageStatus::Failed));
    }

    #[test]
    fn a_locked_stage_names_the_stage_that_opens_it() {
        assert_eq!(locked_reason(crate::plan::kickoff::STAGE), None);
        let reason = locked_reason(crate::plan::source::STAGE).expect("stage 2 can be locked");
        assert_eq!(reason, "Locked: opens when stage 1 (Kickoff) is done.");
    }
}
