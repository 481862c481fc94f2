//! Stage 7, MX change: its tasks and checks, and the verdict on the DNS propagation watch (which resolvers
//! return the new records, and since when). The watch's facts come from `dns`; the stage's work is not built
//! yet, and the wizard says so.

pub mod spf;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};
use crate::dns::{DnsRecord, ResolverStatus, WatchSummary};
use crate::plan::{CheckResult, Outcome};

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(7);

plan_ids! {
    /// The tasks of stage 7; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        ShowRecords = "show-records",
        RecordMxChange = "record-mx-change",
    }
}

plan_ids! {
    /// The checks of stage 7; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        DnsPropagation = "dns-propagation",
    }
}

/// Stage 7 as data: its tasks and checks, in the order the wizard shows them.
pub static DEF: StageDef = StageDef {
    id: STAGE,
    title: "MX change",
    help: "Point mail at Exchange Online and watch the change reach the world's resolvers.",
    tasks: &[
        TaskDef {
            id: TaskId::Mx(Task::ShowRecords),
            title: "Show the DNS records to set",
            help: "MX, Autodiscover CNAME and SPF, from the tenant's service configuration records.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Mx(Task::RecordMxChange),
            title: "Record the MX change",
            help: "When the customer changed the records.",
            demo_only: false,
        },
    ],
    checks: &[CheckDef {
        id: CheckId::Mx(Check::DnsPropagation),
        title: "DNS propagated",
        help: "Every watched resolver returns the new records.",
    }],
    settings: &[],
};

/// What stage 7 records of the MX change, in `state.json`: stage 8's last-sync rule starts from it. Its times
/// are on Exchange Online's clock (`ServiceClock`), as the `LastSuccessfulSyncTime`s they are compared with are:
/// a time of ours is put on it when recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxRecord {
    /// When the customer changed the records at the DNS host (task record-mx-change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<DateTime<Utc>>,
    /// When each watched resolver was first seen answering the new MX, by the resolver's label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub switched: BTreeMap<String, DateTime<Utc>>,
}

impl MxRecord {
    /// When the slowest watched resolver switched: after it, no sender is sent to the old server any more.
    pub fn slowest_switch(&self) -> Option<DateTime<Utc>> {
        self.switched.values().max().copied()
    }
}

/// Stage 7's DNS propagation check: Pass when every resolver returns the new records, with each resolver's
/// status as evidence.
pub fn propagation_check(summary: &WatchSummary, now: DateTime<Utc>) -> CheckResult {
    let expected = summary.expected.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let mut lines = vec![format!(
        "{} {} expected: {} (watched for {})",
        summary.name,
        summary.kind,
        expected,
        human_duration(summary.elapsed)
    )];
    for (label, status) in &summary.resolvers {
        lines.push(format!("  {label}: {}", describe_status(status)));
    }
    let done = summary.resolvers.iter().filter(|(_, s)| matches!(s, ResolverStatus::Propagated { .. })).count();
    let outcome = if summary.all_propagated() {
        lines.push(format!("All {done} resolvers return the new records."));
        Outcome::Pass
    } else {
        lines.push(format!(
            "{done} of {} resolvers return the new records. Check the records at the DNS host; resolvers \
             still showing the old answer will follow once its TTL runs out. Run the watch again later.",
            summary.resolvers.len()
        ));
        Outcome::Fail
    };
    CheckResult::new(outcome, lines.join("\n"), now)
}

fn describe_status(status: &ResolverStatus) -> String {
    let list = |records: &[DnsRecord]| {
        if records.is_empty() {
            "no records".to_owned()
        } else {
            records.iter().map(|r| format!("{} (TTL {})", r.value, r.ttl)).collect::<Vec<_>>().join(", ")
        }
    };
    match status {
        ResolverStatus::Pending { seen } => format!("not yet; answers {}", list(seen)),
        ResolverStatus::Error(e) => format!("error: {e}"),
        ResolverStatus::Propagated { after, records } => {
            format!("propagated after {}: {}", human_duration(*after), list(records))
        }
        ResolverStatus::TimedOut => "timed out before returning the expected records".to_owned(),
        ResolverStatus::Cancelled => "cancelled".to_owned(),
    }
}

/// "2 h 5 min", "45 s": durations the way the evidence shows them.
fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 86_400 {
        format!("{} d {} h", secs / 86_400, (secs % 86_400) / 3_600)
    } else if secs >= 3_600 {
        format!("{} h {} min", secs / 3_600, (secs % 3_600) / 60)
    } else if secs >= 60 {
        format!("{} min {} s", secs / 60, secs % 60)
    } else if secs >= 1 {
        format!("{secs} s")
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{RecordKind, RecordValue};

    fn rec(value: RecordValue) -> DnsRecord {
        DnsRecord { name: "contoso.com".into(), ttl: 300, value }
    }

    #[test]
    fn summary_check_names_each_resolver() {
        let summary = WatchSummary {
            name: "contoso.com".into(),
            kind: RecordKind::Mx,
            expected: vec![RecordValue::mx(0, "contoso-com.mail.protection.outlook.com")],
            resolvers: vec![
                (
                    "fast".into(),
                    ResolverStatus::Propagated {
                        after: Duration::from_secs(2),
                        records: vec![rec(RecordValue::mx(0, "contoso-com.mail.protection.outlook.com"))],
                    },
                ),
                ("slow".into(), ResolverStatus::TimedOut),
            ],
            elapsed: Duration::from_secs(30),
        };
        let check = propagation_check(&summary, Utc::now());
        assert_eq!(check.outcome, Outcome::Fail);
        assert!(check.evidence.contains("fast: propagated after 2 s"), "{}", check.evidence);
        assert!(check.evidence.contains("slow: timed out"), "{}", check.evidence);
        assert!(check.evidence.contains("1 of 2 resolvers"), "{}", check.evidence);
    }

    #[test]
    fn durations_read_the_way_an_engineer_says_them() {
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(human_duration(Duration::from_secs(45)), "45 s");
        assert_eq!(human_duration(Duration::from_secs(125)), "2 min 5 s");
        assert_eq!(human_duration(Duration::from_secs(7_500)), "2 h 5 min");
        assert_eq!(human_duration(Duration::from_secs(90_000)), "1 d 1 h");
    }
}
