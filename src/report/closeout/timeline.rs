//! The project's timeline from its audit log: each stage's first and last record, and each write (a record
//! "about to" and its outcome) with its time and outcome. Runs of the same write in a row (the watch's
//! record-checks every poll) are one line with their count. Pure: the caller reads the log (torn lines skipped).

use crate::project::audit::{AuditRecord, Phase};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// What became of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteOutcome {
    Done,
    Failed,
    /// "About to" with no outcome after it: the tool stopped while the write was under way.
    Interrupted,
}

impl WriteOutcome {
    pub fn label(self) -> &'static str {
        match self {
            WriteOutcome::Done => "done",
            WriteOutcome::Failed => "failed",
            WriteOutcome::Interrupted => "no outcome recorded",
        }
    }
}

/// A stage's span in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageSpan {
    pub stage: u8,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub records: usize,
}

/// One write, or a run of the same write in a row with the same outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Write {
    pub at: DateTime<Utc>,
    /// The last of the run, when it is more than one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    pub count: usize,
    pub stage: Option<u8>,
    pub action: String,
    pub actor: String,
    pub outcome: WriteOutcome,
    /// The record's detail in one line (never a secret: the audit log holds none), shortened.
    pub detail: String,
    /// The error of a failed write, as recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    pub stages: Vec<StageSpan>,
    pub writes: Vec<Write>,
    /// Lines of the audit log that could not be read (torn by a crash or a full disk), 1-based.
    pub torn_lines: Vec<usize>,
}

/// The longest detail kept per write, in characters.
const DETAIL_CHARS: usize = 160;

fn one_line(v: &serde_json::Value) -> String {
    let text = match v {
        serde_json::Value::Null => String::new(),
        v => v.to_string(),
    };
    if text.chars().count() > DETAIL_CHARS { text.chars().take(DETAIL_CHARS).collect::<String>() + "…" } else { text }
}

/// The timeline of `records` (oldest first, as the log holds them).
pub fn timeline(records: &[AuditRecord], torn_lines: &[usize]) -> Timeline {
    let mut spans: BTreeMap<u8, StageSpan> = BTreeMap::new();
    for r in records {
        let Some(stage) = r.stage else { continue };
        let span = spans.entry(stage.number()).or_insert(StageSpan {
            stage: stage.number(),
            first: r.time,
            last: r.time,
            records: 0,
        });
        span.first = span.first.min(r.time);
        span.last = span.last.max(r.time);
        span.records += 1;
    }
    // Writes of concurrent jobs interleave: an outcome belongs to the oldest open "about to" of the same stage,
    // action and detail (a failure wraps the detail beside its error).
    type Key = (Option<u8>, String, String);
    let mut open: HashMap<Key, VecDeque<usize>> = HashMap::new();
    let mut writes: Vec<Write> = Vec::new();
    for r in records {
        let stage = r.stage.map(|s| s.number());
        let (detail, error) = match r.phase {
            Phase::Failed | Phase::Checked => match r.detail.get("detail") {
                Some(d) => {
                    (d.clone(), r.detail.get("error").map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned)))
                }
                None => (r.detail.clone(), None),
            },
            _ => (r.detail.clone(), None),
        };
        let key: Key = (stage, r.action.clone(), detail.to_string());
        match r.phase {
            Phase::AboutTo => {
                open.entry(key).or_default().push_back(writes.len());
                writes.push(Write {
                    at: r.time,
                    until: None,
                    count: 1,
                    stage,
                    action: r.action.clone(),
                    actor: r.actor.clone(),
                    outcome: WriteOutcome::Interrupted,
                    detail: one_line(&detail),
                    error: None,
                });
            }
            Phase::Done | Phase::Failed | Phase::Checked => {
                let outcome = match r.phase {
                    Phase::Done => WriteOutcome::Done,
                    // Read back after a crash: done, or it never happened (the write stays interrupted).
                    Phase::Checked if r.detail["found"] == "done" => WriteOutcome::Done,
                    Phase::Checked => WriteOutcome::Interrupted,
                    _ => WriteOutcome::Failed,
                };
                match open.get_mut(&key).and_then(VecDeque::pop_front) {
                    Some(i) => {
                        writes[i].outcome = outcome;
                        writes[i].error = error;
                    }
                    // An outcome without its "about to" (an older log): the write still happened.
                    None => writes.push(Write {
                        at: r.time,
                        until: None,
                        count: 1,
                        stage,
                        action: r.action.clone(),
                        actor: r.actor.clone(),
                        outcome,
                        detail: one_line(&detail),
                        error,
                    }),
                }
            }
        }
    }
    Timeline { stages: spans.into_values().collect(), writes: collapse(writes), torn_lines: torn_lines.to_vec() }
}

/// Joins writes in a row of the same stage, action, detail and outcome (a watch recording the same verdicts every
/// poll); a failure keeps its own line.
fn collapse(writes: Vec<Write>) -> Vec<Write> {
    let mut out: Vec<Write> = Vec::with_capacity(writes.len());
    for w in writes {
        if let Some(last) = out.last_mut().filter(|l| same_run(l, &w)) {
            last.count += 1;
            last.until = Some(w.at);
            continue;
        }
        out.push(w);
    }
    out
}

fn same_run(a: &Write, b: &Write) -> bool {
    a.stage == b.stage
        && a.action == b.action
        && a.detail == b.detail
        && a.outcome == b.outcome
        && b.outcome != WriteOutcome::Failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::StageId;
    use serde_json::json;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minute * 60, 0).expect("valid")
    }

    fn rec(minute: i64, stage: u8, action: &str, phase: Phase, detail: serde_json::Value) -> AuditRecord {
        AuditRecord {
            time: at(minute),
            actor: "eng".into(),
            stage: StageId::new(stage),
            action: action.into(),
            phase,
            detail,
            touches: None,
        }
    }

    /// A sample log: a kickoff edit, two interleaved writes of stage 4 (one fails), a watch recording the same
    /// verdicts three times, and a write the tool never finished.
    fn sample() -> Vec<AuditRecord> {
        let a = json!({"domain": "a.com"});
        let b = json!({"domain": "b.com"});
        let checks = json!({"checks": {"batch-state": "Pass"}});
        vec![
            rec(0, 1, "set-kickoff-field", Phase::AboutTo, json!({"field": "Customer"})),
            rec(0, 1, "set-kickoff-field", Phase::Done, json!({"field": "Customer"})),
            rec(10, 4, "add-domain", Phase::AboutTo, a.clone()),
            rec(11, 4, "add-domain", Phase::AboutTo, b.clone()),
            rec(12, 4, "add-domain", Phase::Failed, json!({"detail": b, "error": "403 Forbidden"})),
            rec(13, 4, "add-domain", Phase::Done, a),
            rec(20, 5, "record-checks", Phase::AboutTo, checks.clone()),
            rec(20, 5, "record-checks", Phase::Done, checks.clone()),
            rec(21, 5, "record-checks", Phase::AboutTo, checks.clone()),
            rec(21, 5, "record-checks", Phase::Done, checks.clone()),
            rec(22, 5, "record-checks", Phase::AboutTo, checks.clone()),
            rec(22, 5, "record-checks", Phase::Done, checks),
            rec(30, 5, "start-batch", Phase::AboutTo, json!({"batch": "cutover-p"})),
        ]
    }

    #[test]
    fn stages_span_their_first_and_last_record() {
        let t = timeline(&sample(), &[7]);
        let spans: Vec<(u8, DateTime<Utc>, DateTime<Utc>, usize)> =
            t.stages.iter().map(|s| (s.stage, s.first, s.last, s.records)).collect();
        assert_eq!(spans, [(1, at(0), at(0), 2), (4, at(10), at(13), 4), (5, at(20), at(30), 7)]);
        assert_eq!(t.torn_lines, [7]);
    }

    #[test]
    fn each_write_gets_its_own_outcome_even_interleaved_and_repeats_are_one_line() {
        let t = timeline(&sample(), &[]);
        let rows: Vec<(DateTime<Utc>, &str, WriteOutcome, usize)> =
            t.writes.iter().map(|w| (w.at, w.action.as_str(), w.outcome, w.count)).collect();
        assert_eq!(
            rows,
            [
                (at(0), "set-kickoff-field", WriteOutcome::Done, 1),
                (at(10), "add-domain", WriteOutcome::Done, 1),
                (at(11), "add-domain", WriteOutcome::Failed, 1),
                (at(20), "record-checks", WriteOutcome::Done, 3),
                (at(30), "start-batch", WriteOutcome::Interrupted, 1),
            ]
        );
        assert_eq!(t.writes[1].detail, r#"{"domain":"a.com"}"#);
        assert_eq!(
            (t.writes[2].detail.as_str(), t.writes[2].error.as_deref()),
            (r#"{"domain":"b.com"}"#, Some("403 Forbidden"))
        );
        assert_eq!(t.writes[3].until, Some(at(22)));
    }

    #[test]
    fn an_outcome_without_its_about_to_is_still_a_write_and_long_details_are_shortened() {
        let long = json!({"text": "x".repeat(500)});
        let t = timeline(&[rec(0, 2, "import-inventory", Phase::Done, long)], &[]);
        assert_eq!((t.writes.len(), t.writes[0].outcome), (1, WriteOutcome::Done));
        assert_eq!(t.writes[0].detail.chars().count(), DETAIL_CHARS + 1);
    }
}
