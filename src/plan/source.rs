//! Stage 2, Source health check: the engineer's settings for the estimate, and the checks that read the
//! imported inventory (mailbox count, high-risk users, totals and time). The verdicts of the checks that reach the
//! server (Autodiscover, certificate, Outlook Anywhere, EWS) are in the submodules; the source client only
//! returns what the server said.

pub mod autodiscover;
pub mod certificate;
pub mod ews;
pub mod outlook_anywhere;
pub mod rehearsal;
pub mod server;

use super::check::{CheckResult, Outcome};
use super::kickoff::{
    CUTOVER_ADVISED_MAILBOXES, CUTOVER_MAX_MAILBOXES, ValidationError, budget_usd, format_usd, group_thousands,
};
use super::settings::Setting;
use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};
use crate::inventory::estimate::{self, DEFAULT_CONCURRENCY};
use crate::inventory::risk::{self, RiskFlag, Thresholds};
use crate::inventory::size::format_size;
use crate::inventory::{Inventory, Mailbox};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(2);

plan_ids! {
    /// The tasks of stage 2; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        ImportInventory = "import-inventory",
        MarkVips = "mark-vips",
    }
}

plan_ids! {
    /// The checks of stage 2; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        Autodiscover = "autodiscover",
        Certificate = "certificate",
        OutlookAnywhere = "outlook-anywhere",
        Ews = "ews",
        MailboxCount = "mailbox-count",
        HighRisk = "high-risk",
        Totals = "totals",
    }
}

/// Stage 2 as data: its tasks and checks, in the order the wizard shows them.
pub static DEF: StageDef = StageDef {
    id: STAGE,
    title: "Source health check",
    help: "Make sure the on-premises Exchange server can be reached and read by the migration service, and know the mailboxes.",
    tasks: &[
        TaskDef {
            id: TaskId::Source(Task::ImportInventory),
            title: "Import the mailbox inventory",
            help: "The CSV written by assets/Get-CutoverInventory.ps1 in the Exchange Management Shell.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Source(Task::MarkVips),
            title: "Mark VIP mailboxes",
            help: "Executives and other users whose mailboxes get extra care.",
            demo_only: false,
        },
    ],
    checks: &[
        CheckDef {
            id: CheckId::Source(Check::Autodiscover),
            title: "Autodiscover answers",
            help: "The migration service finds the server through Autodiscover.",
        },
        CheckDef {
            id: CheckId::Source(Check::Certificate),
            title: "TLS certificate valid",
            help: "Trusted CA, not near expiry, SANs cover the Autodiscover and Outlook Anywhere names.",
        },
        CheckDef {
            id: CheckId::Source(Check::OutlookAnywhere),
            title: "Outlook Anywhere reachable",
            help: "RPC over HTTP answers with Basic or NTLM, which the migration service accepts.",
        },
        CheckDef {
            id: CheckId::Source(Check::Ews),
            title: "EWS reachable",
            help: "Exchange Web Services answers and reports the server version.",
        },
        CheckDef {
            id: CheckId::Source(Check::MailboxCount),
            title: "Mailbox count within limits",
            help: "The mailboxes that will migrate against the cutover limits (2,000 at most, 150 advised) and the kickoff estimate.",
        },
        CheckDef {
            id: CheckId::Source(Check::HighRisk),
            title: "High-risk users flagged",
            help: "Mailboxes of 50 GB or more, Recoverable Items of 30 GB or more, VIPs and hidden mailboxes.",
        },
        CheckDef {
            id: CheckId::Source(Check::Totals),
            title: "Totals and time estimate",
            help: "Total data, largest mailbox and an initial sync estimate from bandwidth and concurrency.",
        },
    ],
    settings: &[
        Setting::UploadBandwidth,
        Setting::Concurrency,
        Setting::LargeMailbox,
        Setting::LargeRecoverableItems,
        Setting::MailboxLimit,
        Setting::ManyItems,
        Setting::MigrationAccount,
        Setting::AutodiscoverAddress,
        Setting::ExchangeServer,
        Setting::RpcProxyServer,
        Setting::Authentication,
        Setting::Permission,
    ],
};

/// What the engineer sets for stage 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSettings {
    /// The customer's internet upload bandwidth, in Mbit/s.
    pub upload_mbit_s: Option<u32>,
    /// `MaxConcurrentMigrations` planned for the endpoint.
    pub concurrency: u32,
    pub thresholds: Thresholds,
}

impl Default for SourceSettings {
    fn default() -> Self {
        SourceSettings { upload_mbit_s: None, concurrency: DEFAULT_CONCURRENCY, thresholds: Thresholds::default() }
    }
}

/// How Outlook Anywhere authenticates the migration service (`-Authentication` of the endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SourceAuth {
    #[default]
    Basic,
    Ntlm,
}

impl SourceAuth {
    /// The value Exchange's cmdlets take.
    pub fn cmdlet_value(self) -> &'static str {
        match self {
            SourceAuth::Basic => "Basic",
            SourceAuth::Ntlm => "Ntlm",
        }
    }
}

/// The right the migration account holds on the source mailboxes (`-MailboxPermission`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SourcePermission {
    /// Receive As on every mailbox database (an Exchange or domain administrator).
    #[default]
    Admin,
    /// Full Access on every mailbox.
    FullAccess,
}

impl SourcePermission {
    pub fn cmdlet_value(self) -> &'static str {
        match self {
            SourcePermission::Admin => "Admin",
            SourcePermission::FullAccess => "FullAccess",
        }
    }
}

/// How cutover and the migration service reach the source Exchange server. No secret here: the migration
/// account's password lives in the keyring (`<project>/source-password`).
///
/// The test-double fields (`dns_servers`, `https_port`, `http_port`, `ca_cert`) stay empty for a real server:
/// they point the checks at a server on loopback, such as the simulator's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceAccess {
    /// The migration account, `DOMAIN\user` or a UPN.
    pub admin_user: Option<String>,
    /// The mailbox Autodiscover is asked for; see [`SourceAccess::autodiscover_address`] for the default.
    pub autodiscover_email: Option<String>,
    /// Manual settings for when Autodiscover fails: the mailbox server's FQDN.
    pub exchange_server: Option<String>,
    /// Manual settings: the Outlook Anywhere external host name (RPC proxy server).
    pub rpc_proxy_server: Option<String>,
    pub auth: SourceAuth,
    pub permission: SourcePermission,
    /// DNS servers to resolve the source's names with; empty: the system's resolver.
    pub dns_servers: Vec<std::net::SocketAddr>,
    /// The port standing for 443 on the source.
    pub https_port: Option<u16>,
    /// The port standing for 80 (Autodiscover's redirect step).
    pub http_port: Option<u16>,
    /// An extra CA certificate (PEM) to trust for the source.
    pub ca_cert: Option<std::path::PathBuf>,
}

impl SourceAccess {
    /// The mailbox Autodiscover and Test-MigrationServerAvailability are run for, as an Exchange engineer would
    /// pick it: the address given; else the migration account when it is a UPN (its own mailbox); else the
    /// first mailbox of the inventory that the batch will migrate; else none (the checks ask for one).
    pub fn autodiscover_address(&self, inventory: Option<&Inventory>) -> Option<String> {
        if let Some(email) = self.autodiscover_email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            return Some(email.to_owned());
        }
        if let Some(upn) = self.admin_user.as_deref().map(str::trim).filter(|u| u.contains('@')) {
            return Some(upn.to_owned());
        }
        inventory.and_then(|i| migrating(i).next()).map(|m| m.primary_smtp.clone())
    }
}

/// The migration account: `DOMAIN\user` (a NetBIOS domain name and a logon name) or a UPN.
pub fn validate_account(input: &str) -> Result<String, ValidationError> {
    crate::text::refuse_url_credentials("migration account", input.trim())?;
    const FORBIDDEN: &[char] = &['"', '/', '\\', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', '@'];
    let bad = |why: &str| {
        ValidationError::new(format!(
            "migration account '{input}' {why}; type it as CONTOSO\\migadmin or migadmin@contoso.com"
        ))
    };
    match input.split_once('\\') {
        Some((domain, user)) => {
            let domain_ok = (1..=15).contains(&domain.len())
                && !domain.contains(FORBIDDEN)
                && !domain.contains(char::is_whitespace)
                && !domain.starts_with('.');
            let user_ok = (1..=104).contains(&user.len()) && !user.contains(FORBIDDEN) && user.trim() == user;
            if !domain_ok {
                return Err(bad("has a domain part that is not a NetBIOS name (1 to 15 characters, no spaces)"));
            }
            if !user_ok {
                return Err(bad("has a user name with characters Windows does not allow"));
            }
            Ok(format!("{}\\{user}", domain.to_ascii_uppercase()))
        }
        None if input.contains('@') => super::kickoff::validate_email(input).map_err(|_| bad("is not a valid UPN")),
        None => Err(bad("names no domain")),
    }
}

/// A server's fully qualified host name, internal names (`.local`) included.
pub fn validate_host(what: &str, input: &str) -> Result<String, ValidationError> {
    crate::text::refuse_url_credentials(what, input.trim())?;
    let h = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = h.split('.').collect();
    let ok = h.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(h)
    } else {
        Err(ValidationError::new(format!(
            "{what} '{input}' is not a fully qualified host name; type it as mail.contoso.com (no https://, no path)"
        )))
    }
}

/// The mailboxes a cutover batch will see: not hidden from address lists.
pub fn migrating(inventory: &Inventory) -> impl Iterator<Item = &Mailbox> {
    inventory.mailboxes.iter().filter(|m| !m.hidden)
}

/// Runs the stage-2 checks that need only the inventory: `mailbox-count`, `high-risk`, `totals`.
pub fn run_inventory_checks(
    inventory: Option<&Inventory>,
    vips: &BTreeSet<String>,
    settings: &SourceSettings,
    kickoff_estimate: Option<u32>,
    now: DateTime<Utc>,
) -> Vec<(CheckId, CheckResult)> {
    let Some(inventory) = inventory else {
        let missing = CheckResult::new(
            Outcome::Fail,
            "No inventory imported yet: run assets/Get-CutoverInventory.ps1 on the Exchange server, then press i to import the CSV.",
            now,
        );
        return vec![
            (Check::MailboxCount.into(), missing.clone()),
            (Check::HighRisk.into(), missing.clone()),
            (Check::Totals.into(), missing),
        ];
    };
    vec![
        (Check::MailboxCount.into(), count_check(inventory, kickoff_estimate, now)),
        (Check::HighRisk.into(), high_risk_check(inventory, vips, &settings.thresholds, now)),
        (Check::Totals.into(), totals_check(inventory, settings, now)),
    ]
}

fn count_check(inventory: &Inventory, estimate: Option<u32>, now: DateTime<Utc>) -> CheckResult {
    let count = migrating(inventory).count();
    let n = u32::try_from(count).unwrap_or(u32::MAX);
    let hidden = inventory.mailboxes.len() - count;
    let mut text = format!("{} mailboxes will migrate", group_thousands(count as u64));
    if hidden > 0 {
        text.push_str(&format!(" ({hidden} hidden from address lists are not seen by the batch)"));
    }
    let (outcome, limit) = if n > CUTOVER_MAX_MAILBOXES {
        (
            Outcome::Fail,
            format!(
                "; a cutover moves at most {}: plan a staged or hybrid migration.",
                group_thousands(CUTOVER_MAX_MAILBOXES.into())
            ),
        )
    } else if n > CUTOVER_ADVISED_MAILBOXES {
        (Outcome::Warn, format!("; above the {CUTOVER_ADVISED_MAILBOXES} Microsoft advises for a cutover."))
    } else {
        (Outcome::Pass, ".".to_owned())
    };
    text.push_str(&limit);
    let mut outcome = outcome;
    if let Some(estimate) = estimate.filter(|e| *e != n) {
        text.push_str(&format!(
            " The kickoff estimated {}: the budget becomes {} instead of {}; update the kickoff form.",
            group_thousands(estimate.into()),
            format_usd(budget_usd(n)),
            format_usd(budget_usd(estimate))
        ));
        if outcome == Outcome::Pass {
            outcome = Outcome::Warn;
        }
    }
    CheckResult::new(outcome, text, now)
}

fn high_risk_check(inventory: &Inventory, vips: &BTreeSet<String>, t: &Thresholds, now: DateTime<Utc>) -> CheckResult {
    let flagged: Vec<(&Mailbox, Vec<RiskFlag>)> = inventory
        .mailboxes
        .iter()
        .map(|m| (m, risk::flags(m, vips.contains(&m.key()), t)))
        .filter(|(_, f)| !f.is_empty())
        .collect();
    if flagged.is_empty() {
        return CheckResult::new(
            Outcome::Pass,
            format!("None of the {} mailboxes is high-risk, and no VIP is marked.", inventory.mailboxes.len()),
            now,
        );
    }
    let blocking: Vec<String> = flagged
        .iter()
        .flat_map(|(m, flags)| {
            flags.iter().filter(|f| f.blocks_migration()).map(move |f| format!("{}: {}", m.primary_smtp, f.reason(t)))
        })
        .collect();
    let names: Vec<String> = flagged
        .iter()
        .map(|(m, flags)| {
            format!("{} ({})", m.primary_smtp, flags.iter().map(|f| f.label()).collect::<Vec<_>>().join(", "))
        })
        .collect();
    let listed = format!("{} high-risk: {}.", flagged.len(), names.join("; "));
    if blocking.is_empty() {
        CheckResult::new(Outcome::Warn, listed, now)
    } else {
        CheckResult::new(Outcome::Fail, format!("{} {listed}", blocking.join(" ")), now)
    }
}

fn totals_check(inventory: &Inventory, settings: &SourceSettings, now: DateTime<Utc>) -> CheckResult {
    let mailboxes: Vec<Mailbox> = migrating(inventory).cloned().collect();
    let t = estimate::totals(&mailboxes);
    let largest =
        t.largest.as_ref().map_or_else(String::new, |(who, b)| format!(", largest {} ({who})", format_size(*b)));
    let head = format!(
        "{} in {} items across {} mailboxes{largest}; Recoverable Items {}.",
        format_size(t.total_bytes),
        group_thousands(t.total_items),
        t.mailboxes,
        format_size(t.recoverable_bytes)
    );
    let Some(mbit) = settings.upload_mbit_s else {
        return CheckResult::new(Outcome::Warn, format!("{head} Enter the upload bandwidth for a time estimate."), now);
    };
    match estimate::initial_sync(&t, f64::from(mbit), settings.concurrency) {
        Ok(e) => CheckResult::new(
            Outcome::Pass,
            format!(
                "{head} Initial sync: {} to {} ({}).",
                estimate::format_duration(e.fastest),
                estimate::format_duration(e.slowest),
                e.assumption
            ),
            now,
        ),
        Err(e) => CheckResult::new(Outcome::Fail, format!("{head} No estimate: {e}."), now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::csv::parse;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).expect("valid")
    }

    fn inventory(csv: &str) -> Inventory {
        Inventory {
            imported_at: now(),
            file_name: "i.csv".into(),
            mailboxes: parse(csv.as_bytes()).expect("parse").mailboxes,
        }
    }

    const CSV: &str = "PrimarySmtpAddress,TotalItemSizeBytes,ItemCount,TotalDeletedItemSizeBytes,HiddenFromAddressListsEnabled\n\
        ceo@contoso.com,1073741824,1000,0,False\n\
        big@contoso.com,64424509440,300000,0,False\n\
        ghost@contoso.com,1024,3,0,True\n";

    #[test]
    fn without_an_inventory_every_inventory_check_fails_with_the_fix() {
        let results = run_inventory_checks(None, &BTreeSet::new(), &SourceSettings::default(), None, now());
        assert_eq!(results.len(), 3);
        assert!(
            results.iter().all(|(_, r)| r.outcome == Outcome::Fail && r.evidence.contains("Get-CutoverInventory.ps1"))
        );
    }

    #[test]
    fn hidden_mailboxes_fail_the_high_risk_check_and_are_not_counted() {
        let inv = inventory(CSV);
        let vips = BTreeSet::from(["ceo@contoso.com".to_owned()]);
        let results = run_inventory_checks(Some(&inv), &vips, &SourceSettings::default(), Some(2), now());
        let count = &results[0].1;
        assert_eq!(count.outcome, Outcome::Pass, "{}", count.evidence);
        assert!(count.evidence.starts_with("2 mailboxes will migrate (1 hidden"), "{}", count.evidence);
        let risk = &results[1].1;
        assert_eq!(risk.outcome, Outcome::Fail);
        assert!(risk.evidence.contains("ghost@contoso.com: hidden from address lists"), "{}", risk.evidence);
        assert!(risk.evidence.contains("ceo@contoso.com (VIP)"), "{}", risk.evidence);
        assert!(risk.evidence.contains("big@contoso.com (large)"), "{}", risk.evidence);
    }

    #[test]
    fn a_count_that_differs_from_the_kickoff_names_the_new_budget() {
        let inv = inventory(CSV);
        let results = run_inventory_checks(Some(&inv), &BTreeSet::new(), &SourceSettings::default(), Some(10), now());
        assert_eq!(results[0].1.outcome, Outcome::Warn);
        assert!(results[0].1.evidence.contains("the budget becomes $350 instead of $550"), "{}", results[0].1.evidence);
    }

    #[test]
    fn totals_ask_for_bandwidth_then_give_a_range() {
        let inv = inventory(CSV);
        let mut settings = SourceSettings::default();
        let totals = &run_inventory_checks(Some(&inv), &BTreeSet::new(), &settings, None, now())[2].1;
        assert_eq!(totals.outcome, Outcome::Warn);
        assert!(totals.evidence.contains("61.00 GB"), "{}", totals.evidence);
        settings.upload_mbit_s = Some(100);
        let totals = &run_inventory_checks(Some(&inv), &BTreeSet::new(), &settings, None, now())[2].1;
        assert_eq!(totals.outcome, Outcome::Pass);
        assert!(totals.evidence.contains("Initial sync: 1 day"), "{}", totals.evidence);
    }

    #[test]
    fn source_access_round_trips_and_defaults() {
        let empty: SourceAccess = serde_json::from_str("{}").expect("defaults");
        assert_eq!(empty, SourceAccess::default());
        assert_eq!(empty.auth, SourceAuth::Basic);
        assert_eq!(empty.permission, SourcePermission::Admin);
        assert!(empty.dns_servers.is_empty());
        let full = SourceAccess {
            admin_user: Some("CONTOSO\\migadmin".into()),
            autodiscover_email: Some("admin@contoso.com".into()),
            exchange_server: Some("ex01.contoso.local".into()),
            rpc_proxy_server: Some("mail.contoso.com".into()),
            auth: SourceAuth::Ntlm,
            permission: SourcePermission::FullAccess,
            dns_servers: vec!["127.0.0.1:5353".parse().expect("addr")],
            https_port: Some(8443),
            http_port: Some(8080),
            ca_cert: Some("/tmp/ca.pem".into()),
        };
        let json = serde_json::to_string(&full).expect("serialise");
        assert_eq!(serde_json::from_str::<SourceAccess>(&json).expect("parse"), full);
        assert_eq!(full.auth.cmdlet_value(), "Ntlm");
        assert_eq!(full.permission.cmdlet_value(), "FullAccess");
    }

    #[test]
    fn the_autodiscover_address_defaults_to_the_account_then_the_inventory() {
        let inv = inventory(CSV);
        let mut access = SourceAccess { admin_user: Some("CONTOSO\\migadmin".into()), ..Default::default() };
        assert_eq!(access.autodiscover_address(None), None);
        assert_eq!(access.autodiscover_address(Some(&inv)).as_deref(), Some("ceo@contoso.com"));
        access.admin_user = Some("migadmin@contoso.com".into());
        assert_eq!(access.autodiscover_address(Some(&inv)).as_deref(), Some("migadmin@contoso.com"));
        access.autodiscover_email = Some(" test@contoso.com ".into());
        assert_eq!(access.autodiscover_address(Some(&inv)).as_deref(), Some("test@contoso.com"));
    }
    #[test]
    fn accounts_and_hosts_are_validated() {
        assert_eq!(validate_account("contoso\\migadmin").expect("NetBIOS form"), "CONTOSO\\migadmin");
        assert_eq!(validate_account("migadmin@Contoso.com").expect("UPN"), "migadmin@contoso.com");
        for bad in ["migadmin", "contoso\\", "a domain too long\\x", "contoso\\mig:admin", "@contoso.com"] {
            let err = validate_account(bad).expect_err(bad);
            assert!(err.to_string().contains("CONTOSO\\migadmin or migadmin@contoso.com"), "{err}");
        }
        assert_eq!(
            validate_host("Exchange server", "EX01.contoso.local.").expect("internal FQDN"),
            "ex01.contoso.local"
        );
        assert!(validate_host("RPC proxy server", "https://mail.contoso.com/rpc").is_err());
        assert!(validate_host("RPC proxy server", "mail").is_err());
    }
}
