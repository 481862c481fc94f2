//! Stage 9, Post-migration: transport rules, Exchange Online Protection, licences, health and the closeout
//! report. Its rules live in the submodules: the transport-rule mapping (`rules`), the licences and their
//! grace (`licences`) and Exchange Online's service health (`health`). Pure.

pub mod eop;
pub mod health;
pub mod licences;
pub mod mailflow;
pub mod rules;

use super::settings::Setting;
use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};
use serde::{Deserialize, Serialize};

/// Stage 9's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostSettings {
    /// The transport-rule export of `assets/Get-CutoverInventory.ps1` (`cutover-transport-rules-<date>.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_file: Option<String>,
    /// The address outside the customer's domains the outbound test mail goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_address: Option<String>,
    /// The test mails of the last Send a test mail, for the mail-flow check to find in the message trace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_mails: Vec<mailflow::TestMail>,
}

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(9);

plan_ids! {
    /// The tasks of stage 9; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        TransportRules = "transport-rules",
        EopSettings = "eop-settings",
        LicencesFinal = "licences-final",
        CloseoutReport = "closeout-report",
        SendTestMail = "send-test-mail",
        PublishDkimDmarc = "publish-dkim-dmarc",
    }
}

plan_ids! {
    /// The checks of stage 9; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        TransportRulesEnabled = "transport-rules-enabled",
        EopPolicies = "eop-policies",
        ServiceHealth = "service-health",
        MailFlow = "mail-flow",
        LicencesAssigned = "licences-assigned",
    }
}

/// Stage 9 as data: its tasks and checks, in the order the wizard shows them.
pub static DEF: StageDef = StageDef {
    id: STAGE,
    title: "Post-migration",
    help: "Transport rules, Exchange Online Protection, licences, health, and the closeout report.",
    tasks: &[
        TaskDef {
            id: TaskId::Post(Task::TransportRules),
            title: "Create transport rules",
            help: "Recreate the source's transport rules in Exchange Online.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Post(Task::EopSettings),
            title: "Apply Exchange Online Protection settings",
            help: "Anti-spam, anti-malware and DKIM signing.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Post(Task::LicencesFinal),
            title: "Assign remaining licences",
            help: "Every migrated mailbox holds an Exchange Online licence.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Post(Task::PublishDkimDmarc),
            title: "Publish DKIM and DMARC (demo)",
            help: "Demo only: the two DKIM CNAMEs Exchange Online names and a starting DMARC record, at the simulated registrar.",
            demo_only: true,
        },
        TaskDef {
            id: TaskId::Post(Task::SendTestMail),
            title: "Send a test mail",
            help: "Graph sendMail from a migrated mailbox to the test address and to another migrated mailbox (Mail.Send.Shared and Send As for a signed-in account, Mail.Send for an app).",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Post(Task::CloseoutReport),
            title: "Write the closeout report",
            help: "Status, acceptance-criteria evidence, outstanding issues, final budget.",
            demo_only: false,
        },
    ],
    checks: &[
        CheckDef {
            id: CheckId::Post(Check::TransportRulesEnabled),
            title: "Transport rules enabled",
            help: "Every rule that moved is enabled.",
        },
        CheckDef {
            id: CheckId::Post(Check::EopPolicies),
            title: "EOP policies in place",
            help: "Anti-spam, anti-malware, DKIM, SPF and DMARC.",
        },
        CheckDef {
            id: CheckId::Post(Check::ServiceHealth),
            title: "Exchange Online healthy",
            help: "The service health of Exchange Online shows no incident.",
        },
        CheckDef {
            id: CheckId::Post(Check::MailFlow),
            title: "Mail flows",
            help: "A test message is sent and received through Exchange Online.",
        },
        CheckDef {
            id: CheckId::Post(Check::LicencesAssigned),
            title: "Migrated mailboxes licensed",
            help: "Every migrated user mailbox holds an Exchange Online licence, before the 30 days' grace run out.",
        },
    ],
    settings: &[Setting::TransportRulesFile, Setting::TestMailAddress],
};
