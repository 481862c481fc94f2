//! Stage 7, MX change: its tasks and checks, and what it records for stage 8. The records to set and remove
//! (`mx/records.rs`, the SPF merge in `mx/spf.rs`), the pre-flight before the change (`mx/preflight.rs`) and the
//! DNS propagation watch's view and verdict (`mx/propagation.rs`). The facts come from Graph and `dns`.

#[cfg(test)]
mod fuzz;
pub mod preflight;
pub mod propagation;
pub mod records;
pub mod spf;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};
pub use propagation::propagation_check;

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(7);

plan_ids! {
    /// The tasks of stage 7; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        ShowRecords = "show-records",
        RecordMxChange = "record-mx-change",
        ApplyRecords = "apply-records-demo",
    }
}

plan_ids! {
    /// The checks of stage 7; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        Preflight = "mx-preflight",
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
            help: "When the customer changed the records (now, or `cutover task record-mx-change --at TIME`); \
                   it starts the propagation watch.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Mx(Task::ApplyRecords),
            title: "Demo: apply the records at the simulated registrar",
            help: "Demo only: sets the MX, Autodiscover CNAME and SPF shown, as the customer would at the DNS host.",
            demo_only: true,
        },
    ],
    checks: &[
        CheckDef {
            id: CheckId::Mx(Check::Preflight),
            title: "Ready for the MX change",
            help: "Initial sync finished, every mailbox synced or explained, MX TTL lowered one old TTL ago.",
        },
        CheckDef {
            id: CheckId::Mx(Check::DnsPropagation),
            title: "DNS propagated",
            help: "Every watched resolver returns the new MX, Autodiscover and SPF records.",
        },
    ],
    settings: &[super::settings::Setting::PublicResolvers],
};

/// The public resolvers the propagation watch asks by name, besides any IP address the engineer gives.
pub const PUBLIC_RESOLVER_NAMES: [&str; 4] = ["google", "cloudflare", "quad9", "opendns"];

/// Stage 7's setting: which public resolvers the propagation watch asks, besides the domains' authoritative
/// servers and the system's resolver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsSettings {
    /// Names of [`PUBLIC_RESOLVER_NAMES`] or IP addresses, as typed; none set: the four by name; empty: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_resolvers: Option<Vec<String>>,
}

impl DnsSettings {
    /// The public resolvers to ask.
    pub fn public(&self) -> Vec<String> {
        self.public_resolvers.clone().unwrap_or_else(|| PUBLIC_RESOLVER_NAMES.map(str::to_owned).to_vec())
    }
}

/// Reads the setting's value: names or addresses separated by commas or spaces, `none` for none; refused with
/// the reason when one is neither a known name nor an IP address.
pub fn parse_public_resolvers(input: &str) -> Result<Vec<String>, String> {
    if input.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut out: Vec<String> = Vec::new();
    for word in input.split([',', ' ']).map(str::trim).filter(|w| !w.is_empty()) {
        let lower = word.to_ascii_lowercase();
        let known = PUBLIC_RESOLVER_NAMES.contains(&lower.as_str()) || lower.parse::<std::net::IpAddr>().is_ok();
        if !known {
            return Err(format!(
                "public resolver '{word}' is neither {} nor an IP address",
                PUBLIC_RESOLVER_NAMES.join(", ")
            ));
        }
        if !out.contains(&lower) {
            out.push(lower);
        }
    }
    Ok(out)
}

/// What stage 7 records of the MX change, in `state.json`: stage 8's last-sync rule starts from it. Its times
/// are ours; beside them, how far Microsoft 365's clock was ahead when each was recorded, so the rule compares
/// them with Exchange's `LastSuccessfulSyncTime`s on Exchange's clock (a laptop minutes off, or the simulator's
/// faster clock, would otherwise misjudge them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxRecord {
    /// When the customer changed the records at the DNS host (task record-mx-change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<DateTime<Utc>>,
    /// When each watched resolver was first seen answering the new MX, by the resolver's label.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub switched: BTreeMap<String, DateTime<Utc>>,
    /// The records to set and remove, per email domain, as show-records last read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<records::DomainRecords>,
    /// When show-records last read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records_read_at: Option<DateTime<Utc>>,
    /// The MX TTL at each look that found it changed, oldest first: when it was lowered, and from what.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ttl_seen: Vec<preflight::TtlSeen>,
    /// Milliseconds Microsoft 365's clock was ahead of ours when `changed_at` was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_ahead_ms: Option<i64>,
    /// The same when the last of `switched` was recorded (the slowest resolver's switch, once all have).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch_ahead_ms: Option<i64>,
}

impl MxRecord {
    /// When the slowest watched resolver switched: after it, no sender is sent to the old server any more.
    pub fn slowest_switch(&self) -> Option<DateTime<Utc>> {
        self.switched.values().max().copied()
    }

    /// The change on Microsoft 365's clock.
    pub fn changed_on_service_clock(&self) -> Option<DateTime<Utc>> {
        self.changed_at.map(|t| t + chrono::Duration::milliseconds(self.change_ahead_ms.unwrap_or(0)))
    }

    /// The slowest switch on Microsoft 365's clock.
    pub fn slowest_switch_on_service_clock(&self) -> Option<DateTime<Utc>> {
        self.slowest_switch().map(|t| t + chrono::Duration::milliseconds(self.switch_ahead_ms.unwrap_or(0)))
    }
}
