//! The nine stages of the cutover service, each with its tasks (writes) and checks (read-only), as static data.
//! Ids are stable: they are the keys of `state.json` and of the audit log.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stage number, 1 to 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct StageId(u8);

impl StageId {
    pub const KICKOFF: StageId = StageId(1);
    pub const SOURCE: StageId = StageId(2);
    pub const USERS: StageId = StageId(3);
    pub const PREPARE: StageId = StageId(4);
    pub const MIGRATE: StageId = StageId(5);
    pub const VERIFY: StageId = StageId(6);
    pub const MX: StageId = StageId(7);
    pub const FINAL_SYNC: StageId = StageId(8);
    pub const POST: StageId = StageId(9);

    pub fn new(n: u8) -> Option<StageId> {
        (1..=PLAN.len() as u8).contains(&n).then_some(StageId(n))
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// Position in [`PLAN`].
    pub fn index(self) -> usize {
        usize::from(self.0 - 1)
    }

    pub fn def(self) -> &'static StageDef {
        &PLAN[self.index()]
    }

    pub fn previous(self) -> Option<StageId> {
        StageId::new(self.0 - 1)
    }

    pub fn all() -> impl Iterator<Item = StageId> {
        (1..=PLAN.len() as u8).map(StageId)
    }
}

impl TryFrom<u8> for StageId {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        StageId::new(n).ok_or_else(|| format!("stage {n} does not exist (stages are 1 to {})", PLAN.len()))
    }
}

impl From<StageId> for u8 {
    fn from(id: StageId) -> u8 {
        id.0
    }
}

impl fmt::Display for StageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A task: something that changes the tenant, the source or the project record. Every task is idempotent.
#[derive(Debug)]
pub struct TaskDef {
    pub id: &'static str,
    pub title: &'static str,
    pub help: &'static str,
}

/// A read-only check that gives Pass, Warn or Fail with evidence.
#[derive(Debug)]
pub struct CheckDef {
    pub id: &'static str,
    pub title: &'static str,
    pub help: &'static str,
}

#[derive(Debug)]
pub struct StageDef {
    pub id: StageId,
    pub title: &'static str,
    pub help: &'static str,
    pub tasks: &'static [TaskDef],
    pub checks: &'static [CheckDef],
}

impl StageDef {
    pub fn check(&self, id: &str) -> Option<&'static CheckDef> {
        self.checks.iter().find(|c| c.id == id)
    }
}

const fn task(id: &'static str, title: &'static str, help: &'static str) -> TaskDef {
    TaskDef { id, title, help }
}

const fn check(id: &'static str, title: &'static str, help: &'static str) -> CheckDef {
    CheckDef { id, title, help }
}

/// The plan of the service, in order.
pub static PLAN: [StageDef; 9] = [
    StageDef {
        id: StageId(1),
        title: "Kickoff",
        help: "Agree who is who, which tenant and domains move, when the cutover happens and what it costs.",
        tasks: &[
            task(
                "record-customer",
                "Record customer and contacts",
                "Customer name, partner contact and the client's point of contact.",
            ),
            task(
                "record-tenant",
                "Record tenant and email domains",
                "The Microsoft 365 tenant id or initial domain, and every email domain that moves.",
            ),
            task(
                "record-schedule",
                "Record the cutover date",
                "The night the MX record changes, in the customer's time zone.",
            ),
            task(
                "record-estimate",
                "Record mailbox estimate and budget",
                "How many mailboxes; the budget follows: $300 + $25 per mailbox.",
            ),
        ],
        checks: &[
            check("kickoff-fields", "Kickoff details complete", "Every required field is present and valid."),
            check(
                "cutover-limits",
                "Mailbox count within cutover limits",
                "A cutover moves at most 2,000 mailboxes; above 150 a staged or hybrid migration is advised.",
            ),
        ],
    },
    StageDef {
        id: StageId(2),
        title: "Source health check",
        help: "Make sure the on-premises Exchange server can be reached and read by the migration service, and know the mailboxes.",
        tasks: &[
            task(
                "import-inventory",
                "Import the mailbox inventory",
                "The CSV written by assets/Get-CutoverInventory.ps1 in the Exchange Management Shell.",
            ),
            task("mark-vips", "Mark VIP mailboxes", "Executives and other users whose mailboxes get extra care."),
        ],
        checks: &[
            check(
                "autodiscover",
                "Autodiscover answers",
                "The migration service finds the server through Autodiscover.",
            ),
            check(
                "certificate",
                "TLS certificate valid",
                "Trusted CA, not near expiry, SANs cover the Autodiscover and Outlook Anywhere names.",
            ),
            check(
                "outlook-anywhere",
                "Outlook Anywhere reachable",
                "RPC over HTTP answers with Basic or NTLM, which the migration service accepts.",
            ),
            check("ews", "EWS reachable", "Exchange Web Services answers and reports the server version."),
            check(
                "mailbox-count",
                "Mailbox count within limits",
                "The mailboxes that will migrate against the cutover limits (2,000 at most, 150 advised) and the kickoff estimate.",
            ),
            check(
                "high-risk",
                "High-risk users flagged",
                "Mailboxes of 50 GB or more, Recoverable Items of 30 GB or more, VIPs and hidden mailboxes.",
            ),
            check(
                "totals",
                "Totals and time estimate",
                "Total data, largest mailbox and an initial sync estimate from bandwidth and concurrency.",
            ),
        ],
    },
    StageDef {
        id: StageId(3),
        title: "Users / directory sync",
        help: "Decide how the cloud accounts come to be, and make sure nothing in the tenant stands in the way.",
        tasks: &[
            task(
                "choose-provisioning",
                "Choose how accounts are made",
                "Let the cutover batch provision them (the default, as Exchange does), or pre-create them with a usage location and a licence.",
            ),
            task(
                "create-users",
                "Create cloud user accounts",
                "Only when pre-creating: one account per source mailbox.",
            ),
            task("set-usage-location", "Set usage location", "Required before a licence can be assigned."),
            task(
                "assign-licences",
                "Assign Exchange Online licences",
                "Within 30 days of migration, or the mailboxes are disabled.",
            ),
        ],
        checks: &[
            check(
                "dirsync-off",
                "Directory sync is off",
                "A cutover migration requires directory synchronisation to be off in the tenant.",
            ),
            check("licences-available", "Enough licences", "Exchange Online licences available for every mailbox."),
            check(
                "no-collisions",
                "No UPN or SMTP collisions",
                "No address that moves is already used by another object in the tenant.",
            ),
        ],
    },
    StageDef {
        id: StageId(4),
        title: "Prepare",
        help: "Add and verify the email domains in the tenant and create the Outlook Anywhere migration endpoint.",
        tasks: &[
            task(
                "add-domains",
                "Add email domains to the tenant",
                "Each domain is added, then its MS=… TXT record is published by the customer.",
            ),
            task(
                "verify-domains",
                "Verify the domains",
                "Microsoft 365 checks the TXT record; retried until it verifies.",
            ),
            task(
                "create-endpoint",
                "Create the migration endpoint",
                "Outlook Anywhere, found by Autodiscover or given by hand, with MaxConcurrentMigrations.",
            ),
        ],
        checks: &[
            check("domains-verified", "Domains verified", "Every email domain shows as verified in the tenant."),
            check(
                "endpoint-test",
                "Migration server available",
                "Test-MigrationServerAvailability succeeds against the source.",
            ),
            check("mx-ttl", "MX TTL lowered", "The MX record's TTL is 3,600 s or less well before the cutover."),
        ],
    },
    StageDef {
        id: StageId(5),
        title: "Start migration",
        help: "Create and start the cutover batch, then watch every mailbox sync.",
        tasks: &[
            task(
                "create-batch",
                "Create the cutover batch",
                "One batch for the whole organisation: a cutover batch takes no CSV.",
            ),
            task(
                "start-batch",
                "Start the batch",
                "The initial sync begins; accounts are provisioned from the source.",
            ),
        ],
        checks: &[
            check("batch-state", "Batch syncing", "The batch is syncing or synced, not failed or stopped."),
            check(
                "mailbox-progress",
                "Mailboxes progressing",
                "Every mailbox moves; none is stalled or failed without a reason.",
            ),
        ],
    },
    StageDef {
        id: StageId(6),
        title: "Verify",
        help: "Compare what arrived with the source inventory, retry what failed and report.",
        tasks: &[
            task(
                "retry-failed",
                "Retry failed mailboxes",
                "Restart the sync of each failed mailbox after its cause is fixed.",
            ),
            task("export-report", "Export the migration report", "Migrated and failed mailboxes, with reasons."),
        ],
        checks: &[
            check("item-counts", "Item counts match", "Per mailbox, items synced against the source inventory."),
            check("failures-explained", "Failures explained", "Every failed mailbox has a named cause and fix."),
        ],
    },
    StageDef {
        id: StageId(7),
        title: "MX change",
        help: "Point mail at Exchange Online and watch the change reach the world's resolvers.",
        tasks: &[
            task(
                "show-records",
                "Show the DNS records to set",
                "MX, Autodiscover CNAME and SPF, from the tenant's service configuration records.",
            ),
            task("record-mx-change", "Record the MX change", "When the customer changed the records."),
        ],
        checks: &[check("dns-propagation", "DNS propagated", "Every watched resolver returns the new records.")],
    },
    StageDef {
        id: StageId(8),
        title: "Final sync",
        help: "Let the incremental sync pick up the last mail sent to the old server, then complete and remove the batch.",
        tasks: &[
            task("complete-batch", "Complete the batch", "Runs the final incremental sync and finishes the migration."),
            task(
                "remove-batch",
                "Remove the batch",
                "Deletes the batch once completed and incremental sync has stopped.",
            ),
        ],
        checks: &[
            check(
                "last-sync-after-mx",
                "Last sync after the MX change",
                "Every mailbox's last sync is later than the MX change.",
            ),
            check("batch-completed", "Batch completed", "The batch reached Completed."),
            check("batch-removed", "Batch removed", "No migration batch is left in the tenant."),
        ],
    },
    StageDef {
        id: StageId(9),
        title: "Post-migration",
        help: "Transport rules, Exchange Online Protection, licences, health, and the closeout report.",
        tasks: &[
            task(
                "transport-rules",
                "Create transport rules",
                "Recreate the source's transport rules in Exchange Online.",
            ),
            task(
                "eop-settings",
                "Apply Exchange Online Protection settings",
                "Anti-spam, anti-malware and DKIM signing.",
            ),
            task(
                "licences-final",
                "Assign remaining licences",
                "Every migrated mailbox holds an Exchange Online licence.",
            ),
            task(
                "closeout-report",
                "Write the closeout report",
                "Status, acceptance-criteria evidence, outstanding issues, final budget.",
            ),
        ],
        checks: &[
            check("transport-rules-enabled", "Transport rules enabled", "Every rule that moved is enabled."),
            check("eop-policies", "EOP policies in place", "Anti-spam, anti-malware, DKIM, SPF and DMARC."),
            check(
                "service-health",
                "Exchange Online healthy",
                "The service health of Exchange Online shows no incident.",
            ),
            check("mail-flow", "Mail flows", "A test message is sent and received through Exchange Online."),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn stages_are_numbered_in_order() {
        for (i, stage) in PLAN.iter().enumerate() {
            assert_eq!(stage.id.index(), i);
        }
    }

    #[test]
    fn ids_are_unique_within_a_stage() {
        for stage in &PLAN {
            let mut seen = HashSet::new();
            for id in stage.tasks.iter().map(|t| t.id).chain(stage.checks.iter().map(|c| c.id)) {
                assert!(seen.insert(id), "stage {} repeats id {id}", stage.id);
            }
            assert!(!stage.checks.is_empty(), "stage {} has no check", stage.id);
        }
    }

    #[test]
    fn stage_ids_outside_the_plan_are_refused() {
        assert!(StageId::new(0).is_none());
        assert!(StageId::new(10).is_none());
        assert_eq!(StageId::new(9), Some(StageId::POST));
        assert!(serde_json::from_str::<StageId>("12").is_err());
    }
}
