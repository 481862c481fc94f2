//! Check results: what a read-only check found, when, and the engineer's override of a failure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
    NotRun,
}

impl Outcome {
    /// Whether a stage may go on with this outcome without an override.
    pub fn is_acceptable(self) -> bool {
        matches!(self, Outcome::Pass | Outcome::Warn)
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
            Outcome::NotRun => "not run",
        }
    }
}

/// One run of a check: the verdict, the evidence behind it, and when it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub outcome: Outcome,
    pub evidence: String,
    pub at: DateTime<Utc>,
}

impl CheckResult {
    pub fn new(outcome: Outcome, evidence: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self { outcome, evidence: evidence.into(), at }
    }
}

/// The engineer's written decision to go on despite a failed check. It is kept in the audit log and the
/// closeout report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}
