//! Scenarios: the simulated tenant, source server, mailboxes, DNS and faults, read from JSON
//! (`assets/scenarios/*.json` for the built-in ones) and validated with errors that name the field and the fix.

use serde::Deserialize;
use std::path::Path;

use super::SimError;

const BUILT_IN: &[(&str, &str)] = &[
    ("small", include_str!("../../assets/scenarios/small.json")),
    ("typical", include_str!("../../assets/scenarios/typical.json")),
    ("large", include_str!("../../assets/scenarios/large.json")),
    ("trouble", include_str!("../../assets/scenarios/trouble.json")),
];

/// Names of the scenarios compiled into the binary.
pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(n, _)| *n).collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub tenant: TenantSpec,
    pub source: SourceSpec,
    #[serde(default)]
    pub migration: MigrationSpec,
    #[serde(default)]
    pub dns: DnsSpec,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    #[serde(default)]
    pub mailboxes: Vec<MailboxSpec>,
    /// Extra mailboxes generated deterministically (used by `large` rather than a 2,000-entry list).
    #[serde(default)]
    pub generate: Option<GenerateSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    /// The `<name>.onmicrosoft.com` prefix.
    pub name: String,
    pub id: String,
    pub display_name: String,
    /// The customer's email domains (the first is the primary one).
    pub domains: Vec<String>,
    #[serde(default)]
    pub directory_sync: bool,
    #[serde(default)]
    pub licences: Vec<LicenceSpec>,
    /// Country for `/organization` (ISO 3166 alpha-2).
    #[serde(default = "default_country")]
    pub country: String,
    /// Exchange Online service health reported by `healthOverviews`.
    #[serde(default = "default_health")]
    pub exchange_health: String,
    /// Exchange Online's open service issues (`GET /admin/serviceAnnouncement/issues`).
    #[serde(default)]
    pub exchange_issues: Vec<IssueSpec>,
    /// Transport rules already in Exchange Online (`Get-TransportRule`), as the cmdlet gives them.
    #[serde(default)]
    pub transport_rules: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Groups already in the tenant (`GET /groups`).
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    /// Organizational contacts already in the tenant (`GET /contacts`).
    #[serde(default)]
    pub contacts: Vec<ContactSpec>,
}

/// A service issue of Exchange Online, as `serviceHealthIssue` carries it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueSpec {
    pub id: String,
    pub title: String,
    /// `incident` or `advisory`.
    pub classification: String,
    /// A `serviceHealthStatus` value, e.g. `serviceDegradation`.
    pub status: String,
    pub impact_description: String,
    #[serde(default)]
    pub feature_group: String,
}

/// A group of the tenant: its flavour, primary address and further SMTP addresses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub display_name: String,
    #[serde(default)]
    pub kind: GroupKindSpec,
    /// Primary SMTP address; none for a security group.
    #[serde(default)]
    pub mail: Option<String>,
    /// Secondary SMTP addresses.
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKindSpec {
    #[default]
    Distribution,
    Microsoft365,
    MailSecurity,
    Security,
}

/// An organizational contact: `mail` is its external address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactSpec {
    pub display_name: String,
    pub mail: String,
    /// Further SMTP addresses.
    #[serde(default)]
    pub aliases: Vec<String>,
}

fn default_country() -> String {
    "US".into()
}
fn default_health() -> String {
    "serviceOperational".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceSpec {
    pub sku_part_number: String,
    pub sku_id: String,
    pub prepaid: u32,
    #[serde(default)]
    pub consumed: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Host label of Outlook Anywhere and EWS: `<host>.<primary domain>`.
    #[serde(default = "default_mail_host")]
    pub host: String,
    pub admin_user: String,
    pub admin_password: String,
    /// `ServerVersionInfo` of EWS, e.g. 15.1.2507.6 for Exchange 2016 CU23.
    #[serde(default = "default_version")]
    pub version: String,
    /// Auth methods advertised on `/rpc/rpcproxy.dll`: "Basic", "Ntlm", "Negotiate".
    #[serde(default = "default_auth")]
    pub rpc_auth: Vec<String>,
    #[serde(default)]
    pub certificate: CertProblem,
    /// When false, Autodiscover answers 404 (the most common source fault).
    #[serde(default = "yes")]
    pub autodiscover: bool,
    /// The server's transport rules, each as `Get-TransportRule` gives it (the properties
    /// `assets/Get-CutoverInventory.ps1` exports).
    #[serde(default)]
    pub transport_rules: Vec<serde_json::Map<String, serde_json::Value>>,
}

fn default_mail_host() -> String {
    "mail".into()
}
fn default_version() -> String {
    "15.1.2507.6".into()
}
fn default_auth() -> Vec<String> {
    vec!["Basic".into(), "Ntlm".into()]
}
fn yes() -> bool {
    true
}

/// What is wrong with the source server's certificate, if anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertProblem {
    #[default]
    None,
    Expired,
    NearExpiry,
    SelfSigned,
    MissingSan,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MigrationSpec {
    /// Transfer rate of one mailbox move, in GB per hour (Outlook Anywhere moves run at 0.3 to 1 GB/h).
    pub gb_per_hour_per_mailbox: f64,
    /// Total bandwidth of the source's Internet link in megabits per second, shared by the running moves.
    pub bandwidth_mbps: f64,
    /// New messages arriving per mailbox per simulated day while the MX still points at the source.
    pub new_items_per_day: u32,
    /// Average size of an arriving message in bytes.
    pub new_item_bytes: u64,
    /// Hours between incremental syncs after the initial sync (Exchange: 24).
    pub incremental_interval_hours: f64,
}

impl Default for MigrationSpec {
    fn default() -> Self {
        MigrationSpec {
            gb_per_hour_per_mailbox: 1.0,
            bandwidth_mbps: 200.0,
            new_items_per_day: 40,
            new_item_bytes: 75_000,
            incremental_interval_hours: 24.0,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsSpec {
    pub ttl: u32,
    /// One resolver per entry; each applies a registrar change after this many simulated seconds.
    pub resolver_delays_seconds: Vec<f64>,
    /// MX host before the cutover (defaults to `mail.<domain>`).
    pub mx_host: Option<String>,
    /// SPF before the cutover.
    pub spf: Option<String>,
    /// Serve `autodiscover.<domain>` as a CNAME to this host (e.g. autodiscover.outlook.com) instead of an A record.
    pub autodiscover_cname: Option<String>,
}

impl Default for DnsSpec {
    fn default() -> Self {
        DnsSpec {
            ttl: 3600,
            resolver_delays_seconds: vec![0.0, 120.0, 600.0],
            mx_host: None,
            spf: None,
            autodiscover_cname: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Which service: "login", "graph", "exo", "source", "control" is never faulted.
    pub service: String,
    /// Only requests whose path contains this text (or whose X-CmdletName equals it, for exo).
    #[serde(default)]
    pub path_contains: Option<String>,
    pub kind: FaultKind,
    /// Every Nth matching request gets the fault (1 = every one).
    #[serde(default = "one")]
    pub every: u32,
    /// How many times in all (absent = without end).
    #[serde(default)]
    pub times: Option<u32>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum FaultKind {
    /// 429 Too Many Requests with `Retry-After` (seconds, as delta-seconds or as an HTTP-date).
    Throttle {
        retry_after: u32,
        #[serde(default)]
        retry_after_form: RetryAfterForm,
    },
    /// 503 Service Unavailable, with `Retry-After` when given.
    Unavailable {
        #[serde(default)]
        retry_after: Option<u32>,
        #[serde(default)]
        retry_after_form: RetryAfterForm,
    },
    /// The answer is held back this many milliseconds.
    Slow { millis: u64 },
    /// The connection is dropped before a whole answer is sent.
    Drop,
    /// The bearer token is treated as expired.
    ExpiredToken,
}

/// How a fault writes its `Retry-After`: the two forms HTTP allows (RFC 9110 §10.2.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryAfterForm {
    /// `Retry-After: 10`.
    #[default]
    Seconds,
    /// `Retry-After: Tue, 01 Dec 2026 15:00:10 GMT`, on the clock of the answer's own `Date`.
    HttpDate,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSpec {
    pub alias: String,
    pub display_name: String,
    pub size_gb: f64,
    pub items: u64,
    #[serde(default)]
    pub recoverable_items_gb: f64,
    #[serde(default)]
    pub vip: bool,
    #[serde(default)]
    pub hidden: bool,
    /// What Exchange calls it (`RecipientTypeDetails`); a user mailbox unless said.
    #[serde(default)]
    pub kind: MailboxKind,
    /// No one ever opened it (a scanner's mailbox, a new hire's); the others last logged on within the fortnight.
    #[serde(default)]
    pub never_logged_on: bool,
    /// Hours this mailbox's incremental syncs come after the batch's interval (a busy source database, a slow
    /// mailbox): its sync after the MX change arrives late.
    #[serde(default)]
    pub incremental_late_hours: f64,
    #[serde(default)]
    pub failure: Option<Failure>,
}

/// The kinds of mailbox a cutover moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailboxKind {
    #[default]
    User,
    Shared,
    Room,
    Equipment,
}

impl MailboxKind {
    /// As `RecipientTypeDetails` says it.
    pub fn recipient_type_details(self) -> &'static str {
        match self {
            MailboxKind::User => "UserMailbox",
            MailboxKind::Shared => "SharedMailbox",
            MailboxKind::Room => "RoomMailbox",
            MailboxKind::Equipment => "EquipmentMailbox",
        }
    }
}

/// How a mailbox fails, the way real moves fail.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Failure {
    /// Large items skipped: the mailbox syncs but completion waits for their approval.
    LargeItems { count: u32 },
    /// The move stops making progress at this fraction and fails with SyncTimeoutException.
    Stall { at: f64 },
    /// A poison job: MigrationPermanentException during the initial sync.
    Poison,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateSpec {
    pub count: u32,
    pub seed: u64,
    pub mean_size_gb: f64,
    #[serde(default)]
    pub vip_every: u32,
    #[serde(default)]
    pub failure_every: u32,
}

/// A cutover migration moves at most 2,000 mailboxes.
const MAX_MAILBOXES: usize = 2_000;
/// The largest scenario file read: the large scenario's is a few kilobytes.
const MAX_SCENARIO_BYTES: u64 = 64 * 1024 * 1024;

fn too_many(count: usize) -> String {
    format!("{count} mailboxes: a cutover migration takes at most 2,000; lower the count")
}

impl Scenario {
    /// A built-in name, or a path to a JSON file.
    pub fn load(name_or_path: &str) -> Result<Scenario, SimError> {
        let (label, text) = match BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
            Some((n, t)) => (n.to_string(), t.to_string()),
            None => {
                let path = Path::new(name_or_path);
                if !path.exists() {
                    return Err(SimError::Scenario {
                        scenario: name_or_path.into(),
                        reason: format!(
                            "no built-in scenario has this name and no file is there; use one of {} or a path to a JSON file",
                            built_in_names().join(", ")
                        ),
                    });
                }
                let fail = |reason: String| SimError::Scenario { scenario: name_or_path.into(), reason };
                // Read as any file the engineer names is: a regular file, within a bound (a FIFO would block).
                let bytes = crate::input_file::read_limited(path, MAX_SCENARIO_BYTES, "a scenario file")
                    .map_err(|e| fail(e.reason()))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| fail("it is not UTF-8 text; save the scenario as UTF-8 JSON".into()))?;
                (name_or_path.to_string(), text)
            }
        };
        let mut scenario: Scenario = serde_json::from_str(&text).map_err(|e| SimError::Scenario {
            scenario: label.clone(),
            reason: format!("not a valid scenario ({e}); see docs/simulator.md for the schema"),
        })?;
        // Checked before the mailboxes are made: a count in the billions would fill the memory first.
        let wanted = scenario.generate.as_ref().map_or(0, |g| g.count as usize) + scenario.mailboxes.len();
        if wanted > MAX_MAILBOXES {
            return Err(SimError::Scenario { scenario: label, reason: too_many(wanted) });
        }
        scenario.expand();
        scenario.validate().map_err(|reason| SimError::Scenario { scenario: label, reason })?;
        Ok(scenario)
    }

    /// The scenario once validated, as a world built otherwise than from JSON (a rehearsal) is checked.
    pub(super) fn checked(self) -> Result<Scenario, String> {
        self.validate()?;
        Ok(self)
    }

    /// Appends the generated mailboxes (a fixed pseudo-random sequence, so a scenario always plays the same).
    fn expand(&mut self) {
        let Some(g) = self.generate.clone() else { return };
        let mut state = g.seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as f64) / ((1u64 << 31) as f64)
        };
        const FIRST: &[&str] = &[
            "alex", "blair", "casey", "dana", "eli", "fran", "gale", "harper", "indy", "jules", "kim", "lee", "morgan",
            "noor", "oskar", "priya", "quinn", "rosa", "sam", "tariq",
        ];
        const LAST: &[&str] = &[
            "adams", "baker", "clark", "davis", "evans", "fisher", "garcia", "hughes", "ito", "jensen", "khan",
            "lopez", "murphy", "nowak", "okoro", "patel", "quist", "rossi", "silva", "tanaka",
        ];
        let names = FIRST.len() * LAST.len();
        for i in 0..g.count {
            let n = i as usize;
            let first = FIRST[n % FIRST.len()];
            let last = LAST[(n / FIRST.len() + n) % LAST.len()];
            // Past every pair of names, a middle initial tells namesakes apart, as in a real directory.
            let round = n / names;
            let (alias, display_name) = if round == 0 {
                (format!("{first}.{last}"), format!("{} {}", capitalise(first), capitalise(last)))
            } else {
                let initial = char::from(b'a' + u8::try_from(round % 26).unwrap_or(0));
                (
                    format!("{first}.{initial}.{last}{round}"),
                    format!("{} {}. {}", capitalise(first), initial.to_ascii_uppercase(), capitalise(last)),
                )
            };
            // Sizes spread from a tenth of the mean to about three times it.
            let size_gb = (g.mean_size_gb * (0.1 + 2.9 * next() * next())).max(0.05);
            let items = (size_gb * 9_000.0) as u64 + 50;
            let failure = (g.failure_every > 0 && i % g.failure_every == g.failure_every - 1).then(|| {
                if (i / g.failure_every) % 2 == 0 { Failure::LargeItems { count: 2 } } else { Failure::Poison }
            });
            self.mailboxes.push(MailboxSpec {
                alias,
                display_name,
                size_gb: (size_gb * 100.0).round() / 100.0,
                items,
                recoverable_items_gb: (size_gb * 0.05 * 100.0).round() / 100.0,
                vip: g.vip_every > 0 && i % g.vip_every == 0,
                hidden: false,
                kind: MailboxKind::User,
                // About one in forty was never opened (a new hire not started yet); from the index, so the sizes'
                // sequence stays as it was.
                never_logged_on: (i.wrapping_mul(2_654_435_761) >> 7) % 40 == 0,
                incremental_late_hours: 0.0,
                failure,
            });
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.tenant.domains.is_empty() {
            return Err("tenant.domains is empty: give at least the customer's primary email domain".into());
        }
        if uuid::Uuid::parse_str(&self.tenant.id).is_err() {
            return Err(format!("tenant.id {:?} is not a GUID: give one like 2f1c7d1e-…", self.tenant.id));
        }
        if self.mailboxes.len() > MAX_MAILBOXES {
            return Err(too_many(self.mailboxes.len()));
        }
        let mut seen = std::collections::HashSet::new();
        for m in &self.mailboxes {
            if !seen.insert(m.alias.to_ascii_lowercase()) {
                return Err(format!("mailbox alias {:?} appears twice: aliases must be unique", m.alias));
            }
            if !(m.size_gb >= 0.0 && m.size_gb.is_finite()) {
                return Err(format!("mailbox {:?}: size_gb must be a number ≥ 0", m.alias));
            }
            if !(m.incremental_late_hours >= 0.0 && m.incremental_late_hours.is_finite()) {
                return Err(format!("mailbox {:?}: incremental_late_hours must be a number ≥ 0", m.alias));
            }
            if let Some(Failure::Stall { at }) = &m.failure
                && !(0.0..1.0).contains(at)
            {
                return Err(format!("mailbox {:?}: failure.at must be between 0 and 1", m.alias));
            }
        }
        if self.migration.gb_per_hour_per_mailbox <= 0.0 || self.migration.bandwidth_mbps <= 0.0 {
            return Err("migration.gb_per_hour_per_mailbox and migration.bandwidth_mbps must be above 0".into());
        }
        if self.dns.resolver_delays_seconds.is_empty() {
            return Err("dns.resolver_delays_seconds is empty: give at least one resolver (e.g. [0])".into());
        }
        for g in &self.tenant.groups {
            match (&g.mail, g.kind) {
                (Some(_), GroupKindSpec::Security) => {
                    return Err(format!(
                        "group {:?}: a security group has no mail; drop mail or use kind mail_security",
                        g.display_name
                    ));
                }
                (None, k) if k != GroupKindSpec::Security => {
                    return Err(format!(
                        "group {:?}: give its mail (primary SMTP address), or make it kind security",
                        g.display_name
                    ));
                }
                _ => {}
            }
            if let Some(bad) = g.mail.iter().chain(&g.aliases).find(|a| !is_address(a)) {
                return Err(format!("group {:?}: {bad:?} is not an address like name@domain", g.display_name));
            }
        }
        for c in &self.tenant.contacts {
            if let Some(bad) = std::iter::once(&c.mail).chain(&c.aliases).find(|a| !is_address(a)) {
                return Err(format!("contact {:?}: {bad:?} is not an address like name@domain", c.display_name));
            }
        }
        for f in &self.faults {
            if !["login", "graph", "exo", "source"].contains(&f.service.as_str()) {
                return Err(format!("fault service {:?}: use login, graph, exo or source", f.service));
            }
            if f.every == 0 {
                return Err("fault every must be 1 or more".into());
            }
        }
        Ok(())
    }

    pub fn primary_domain(&self) -> &str {
        &self.tenant.domains[0]
    }
}

fn is_address(a: &str) -> bool {
    a.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !a.contains(' '))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_scenario_loads() {
        for name in built_in_names() {
            let s = Scenario::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.name, name);
        }
        assert_eq!(Scenario::load("small").unwrap().mailboxes.len(), 10);
        assert_eq!(Scenario::load("typical").unwrap().mailboxes.len(), 120);
        assert_eq!(Scenario::load("large").unwrap().mailboxes.len(), 2_000);
    }

    #[test]
    fn an_unknown_name_says_what_exists() {
        let e = Scenario::load("nope").unwrap_err().to_string();
        assert!(e.contains("small, typical"), "{e}");
    }

    #[test]
    fn a_bad_file_names_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        std::fs::write(
            &p,
            r#"{"name":"x","tenant":{"name":"a","id":"nope","display_name":"A","domains":["a.com"]},
            "source":{"admin_user":"u","admin_password":"p"}}"#,
        )
        .unwrap();
        let e = Scenario::load(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("not a GUID"), "{e}");
    }

    #[test]
    fn groups_and_contacts_are_optional_and_checked() {
        assert!(Scenario::load("small").unwrap().tenant.groups.is_empty());
        let trouble = Scenario::load("trouble").unwrap();
        assert!(trouble.tenant.groups.iter().any(|g| g.kind == GroupKindSpec::Distribution));
        assert!(!trouble.tenant.contacts.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        let with = |tenant_extra: &str| {
            format!(
                r#"{{"name":"x","tenant":{{"name":"a","id":"2f1c7d1e-0000-4000-8000-000000000001","display_name":"A","domains":["a.com"],{tenant_extra}}},
                "source":{{"admin_user":"u","admin_password":"p"}}}}"#
            )
        };
        for (extra, wanted) in [
            (
                r#""groups":[{"display_name":"Sec","kind":"security","mail":"sec@a.com"}]"#,
                "a security group has no mail",
            ),
            (r#""groups":[{"display_name":"DL"}]"#, "give its mail"),
            (r#""contacts":[{"display_name":"C","mail":"nobody"}]"#, "not an address"),
        ] {
            std::fs::write(&p, with(extra)).unwrap();
            let e = Scenario::load(p.to_str().unwrap()).unwrap_err().to_string();
            assert!(e.contains(wanted), "{extra}: {e}");
        }
        std::fs::write(&p, with(r#""groups":[{"display_name":"Sec","kind":"security"}]"#)).unwrap();
        assert_eq!(Scenario::load(p.to_str().unwrap()).unwrap().tenant.groups.len(), 1);
    }

    #[test]
    fn more_than_two_thousand_mailboxes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        let scenario = |count: u32| {
            format!(
                r#"{{"name":"x","tenant":{{"name":"a","id":"2f1c7d1e-0000-4000-8000-000000000001","display_name":"A","domains":["a.com"]}},
                "source":{{"admin_user":"u","admin_password":"p"}},"generate":{{"count":{count},"seed":1,"mean_size_gb":1.0}}}}"#
            )
        };
        std::fs::write(&p, scenario(2_001)).unwrap();
        let e = Scenario::load(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("2001 mailboxes") && e.contains("at most 2,000"), "{e}");
        std::fs::write(&p, scenario(2_000)).unwrap();
        assert_eq!(Scenario::load(p.to_str().unwrap()).unwrap().mailboxes.len(), 2_000);
        // Refused before any is made: four billion would fill the memory first.
        std::fs::write(&p, scenario(u32::MAX)).unwrap();
        let e = Scenario::load(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.contains("4294967295 mailboxes"), "{e}");
    }
}
