//! Stage 1, Kickoff: the facts recorded at the kickoff meeting, their validation, the budget, and the two
//! kickoff checks.

use super::check::{CheckResult, Outcome};
use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(1);

plan_ids! {
    /// The tasks of stage 1; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        RecordCustomer = "record-customer",
        RecordTenant = "record-tenant",
        RecordSchedule = "record-schedule",
        RecordEstimate = "record-estimate",
    }
}

plan_ids! {
    /// The checks of stage 1; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        KickoffFields = "kickoff-fields",
        CutoverLimits = "cutover-limits",
    }
}

/// Stage 1 as data: its tasks and checks, in the order the wizard shows them.
pub static DEF: StageDef = StageDef {
    id: STAGE,
    title: "Kickoff",
    help: "Agree who is who, which tenant and domains move, when the cutover happens and what it costs.",
    tasks: &[
        TaskDef {
            id: TaskId::Kickoff(Task::RecordCustomer),
            title: "Record customer and contacts",
            help: "Customer name, partner contact and the client's point of contact.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Kickoff(Task::RecordTenant),
            title: "Record tenant and email domains",
            help: "The Microsoft 365 tenant id or initial domain, and every email domain that moves.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Kickoff(Task::RecordSchedule),
            title: "Record the cutover date",
            help: "The night the MX record changes, in the customer's time zone.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Kickoff(Task::RecordEstimate),
            title: "Record mailbox estimate and budget",
            help: "How many mailboxes; the budget follows: $300 + $25 per mailbox.",
            demo_only: false,
        },
    ],
    checks: &[
        CheckDef {
            id: CheckId::Kickoff(Check::KickoffFields),
            title: "Kickoff details complete",
            help: "Every required field is present and valid.",
        },
        CheckDef {
            id: CheckId::Kickoff(Check::CutoverLimits),
            title: "Mailbox count within cutover limits",
            help: "A cutover moves at most 2,000 mailboxes; above 150 a staged or hybrid migration is advised.",
        },
    ],
    settings: &[],
};

pub use crate::text::{ValidationError, group_thousands, validate_email};

/// The most mailboxes a cutover migration can move.
pub const CUTOVER_MAX_MAILBOXES: u32 = 2_000;
/// Above this, Microsoft advises a staged or hybrid migration instead.
pub const CUTOVER_ADVISED_MAILBOXES: u32 = 150;
/// The fixed part of the service's price, in US dollars.
pub const BASE_PRICE_USD: u64 = 300;
/// The price per mailbox, in US dollars.
pub const PER_MAILBOX_USD: u64 = 25;

fn invalid(msg: impl Into<String>) -> ValidationError {
    ValidationError::new(msg)
}

/// A person the project talks to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// The Microsoft 365 tenant: its directory id, or its initial `*.onmicrosoft.com` domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Tenant {
    Id(String),
    InitialDomain(String),
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tenant::Id(s) | Tenant::InitialDomain(s) => f.write_str(s),
        }
    }
}

impl TryFrom<String> for Tenant {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        validate_tenant(&s)
    }
}

impl From<Tenant> for String {
    fn from(t: Tenant) -> String {
        t.to_string()
    }
}

/// When the MX record changes: a wall-clock time in a named time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CutoverTime {
    pub local: NaiveDateTime,
    /// An IANA time zone name such as `Europe/Berlin`, or `UTC`.
    pub zone: String,
}

impl CutoverTime {
    pub fn utc(&self) -> Option<DateTime<Utc>> {
        let tz: Tz = self.zone.parse().ok()?;
        tz.from_local_datetime(&self.local).earliest().map(|t| t.with_timezone(&Utc))
    }
}

impl fmt::Display for CutoverTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.local.format("%Y-%m-%d %H:%M"), self.zone)
    }
}

/// Everything recorded at the kickoff meeting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kickoff {
    pub customer: String,
    pub partner: Contact,
    pub client: Contact,
    pub tenant: Option<Tenant>,
    pub domains: Vec<String>,
    pub cutover: Option<CutoverTime>,
    pub mailboxes: Option<u32>,
}

impl Kickoff {
    /// The service's price for the estimated mailbox count.
    pub fn budget_usd(&self) -> Option<u64> {
        self.mailboxes.map(budget_usd)
    }

    /// The required fields that are still empty, by label.
    pub fn missing(&self) -> Vec<&'static str> {
        Field::ALL.iter().filter(|f| f.required() && f.current(self).is_empty()).map(|f| f.label()).collect()
    }

    /// Whether a stage-1 task is complete: kickoff tasks are done once their facts are recorded.
    pub fn task_done(&self, task: Task) -> bool {
        let filled = |fields: &[Field]| fields.iter().all(|f| !f.current(self).is_empty());
        match task {
            Task::RecordCustomer => filled(&[
                Field::Customer,
                Field::PartnerName,
                Field::PartnerEmail,
                Field::ClientName,
                Field::ClientEmail,
            ]),
            Task::RecordTenant => filled(&[Field::Tenant, Field::Domains]),
            Task::RecordSchedule => filled(&[Field::Cutover]),
            Task::RecordEstimate => filled(&[Field::Mailboxes]),
        }
    }
}

/// $300 + $25 per mailbox.
pub fn budget_usd(mailboxes: u32) -> u64 {
    BASE_PRICE_USD + PER_MAILBOX_USD * u64::from(mailboxes)
}

/// `12345` as `$12,345`.
pub fn format_usd(amount: u64) -> String {
    format!("${}", group_thousands(amount))
}

/// One field of the kickoff form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    Customer,
    PartnerName,
    PartnerEmail,
    PartnerPhone,
    ClientName,
    ClientEmail,
    ClientPhone,
    Tenant,
    Domains,
    Cutover,
    Mailboxes,
}

impl Field {
    pub const ALL: [Field; 11] = [
        Field::Customer,
        Field::PartnerName,
        Field::PartnerEmail,
        Field::PartnerPhone,
        Field::ClientName,
        Field::ClientEmail,
        Field::ClientPhone,
        Field::Tenant,
        Field::Domains,
        Field::Cutover,
        Field::Mailboxes,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Customer => "Customer",
            Field::PartnerName => "Partner contact",
            Field::PartnerEmail => "Partner email",
            Field::PartnerPhone => "Partner phone",
            Field::ClientName => "Client contact",
            Field::ClientEmail => "Client email",
            Field::ClientPhone => "Client phone",
            Field::Tenant => "Tenant",
            Field::Domains => "Email domains",
            Field::Cutover => "Cutover",
            Field::Mailboxes => "Mailboxes",
        }
    }

    /// What the engineer is expected to type.
    pub fn hint(self) -> &'static str {
        match self {
            Field::Customer => "the customer's company name",
            Field::PartnerName | Field::ClientName => "full name",
            Field::PartnerEmail | Field::ClientEmail => "name@example.com",
            Field::PartnerPhone | Field::ClientPhone => "optional, e.g. +1 425 555 0100",
            Field::Tenant => "tenant id (GUID) or contoso.onmicrosoft.com",
            Field::Domains => "contoso.com, contoso.co.uk",
            Field::Cutover => "YYYY-MM-DD HH:MM Area/City, e.g. 2026-12-05 18:00 Europe/Berlin",
            Field::Mailboxes => "estimated number of mailboxes",
        }
    }

    pub fn required(self) -> bool {
        !matches!(self, Field::PartnerPhone | Field::ClientPhone)
    }

    /// The field's value as the form shows it and as an edit starts from.
    pub fn current(self, k: &Kickoff) -> String {
        match self {
            Field::Customer => k.customer.clone(),
            Field::PartnerName => k.partner.name.clone(),
            Field::PartnerEmail => k.partner.email.clone(),
            Field::PartnerPhone => k.partner.phone.clone(),
            Field::ClientName => k.client.name.clone(),
            Field::ClientEmail => k.client.email.clone(),
            Field::ClientPhone => k.client.phone.clone(),
            Field::Tenant => k.tenant.as_ref().map(Tenant::to_string).unwrap_or_default(),
            Field::Domains => k.domains.join(", "),
            Field::Cutover => k.cutover.as_ref().map(CutoverTime::to_string).unwrap_or_default(),
            Field::Mailboxes => k.mailboxes.map(|n| n.to_string()).unwrap_or_default(),
        }
    }

    /// Validates `input` and stores it in `k`. Empty input clears the field; the checks report it missing.
    pub fn apply(self, k: &mut Kickoff, input: &str) -> Result<(), ValidationError> {
        let input = input.trim();
        match self {
            Field::Customer => k.customer = validate_name(input, "customer name")?,
            Field::PartnerName => k.partner.name = validate_name(input, "partner contact name")?,
            Field::ClientName => k.client.name = validate_name(input, "client contact name")?,
            Field::PartnerEmail => k.partner.email = optional(input, validate_email)?.unwrap_or_default(),
            Field::ClientEmail => k.client.email = optional(input, validate_email)?.unwrap_or_default(),
            Field::PartnerPhone => k.partner.phone = optional(input, validate_phone)?.unwrap_or_default(),
            Field::ClientPhone => k.client.phone = optional(input, validate_phone)?.unwrap_or_default(),
            Field::Tenant => k.tenant = optional(input, validate_tenant)?,
            Field::Domains => k.domains = optional(input, validate_domains)?.unwrap_or_default(),
            Field::Cutover => k.cutover = optional(input, parse_cutover)?,
            Field::Mailboxes => k.mailboxes = optional(input, parse_mailboxes)?,
        }
        Ok(())
    }
}

fn optional<T>(input: &str, parse: fn(&str) -> Result<T, ValidationError>) -> Result<Option<T>, ValidationError> {
    if input.is_empty() { Ok(None) } else { parse(input).map(Some) }
}

fn validate_name(input: &str, what: &str) -> Result<String, ValidationError> {
    if input.chars().any(char::is_control) {
        return Err(invalid(format!("the {what} contains a control character; type plain text")));
    }
    if input.chars().count() > 200 {
        return Err(invalid(format!("the {what} is longer than 200 characters; shorten it")));
    }
    Ok(input.to_owned())
}

/// A tenant id (a GUID) or an initial domain (`contoso.onmicrosoft.com`, or the US government and China
/// clouds' `.onmicrosoft.us` and `.partner.onmschina.cn`).
pub fn validate_tenant(input: &str) -> Result<Tenant, ValidationError> {
    crate::text::refuse_url_credentials("tenant", input.trim())?;
    let s = input.trim().to_ascii_lowercase();
    if is_guid(&s) {
        if s == "00000000-0000-0000-0000-000000000000" {
            return Err(invalid(
                "tenant id 00000000-0000-0000-0000-000000000000 is the empty GUID; copy the tenant id from the Microsoft Entra admin center, Overview",
            ));
        }
        return Ok(Tenant::Id(s));
    }
    const SUFFIXES: [&str; 3] = [".onmicrosoft.com", ".onmicrosoft.us", ".partner.onmschina.cn"];
    if let Some(prefix) = SUFFIXES.iter().find_map(|suffix| s.strip_suffix(suffix)) {
        if !prefix.is_empty() && prefix.len() <= 63 && prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(Tenant::InitialDomain(s));
        }
        return Err(invalid(format!(
            "tenant '{input}': the part before .onmicrosoft.com must be letters and digits only; copy the initial domain from the Microsoft 365 admin center, Settings > Domains"
        )));
    }
    Err(invalid(format!(
        "tenant '{input}' is neither a tenant id (a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47) nor an initial domain like contoso.onmicrosoft.com; find either in the Microsoft Entra admin center, Overview"
    )))
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// An internet domain name the customer owns and receives mail for.
pub fn validate_domain(input: &str) -> Result<String, ValidationError> {
    crate::text::refuse_url_credentials("email domain", input.trim())?;
    let d = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |why: &str| invalid(format!("email domain '{input}' {why}"));
    if d.is_empty() {
        return Err(bad("is empty; type a domain such as contoso.com"));
    }
    if d.len() > 253 {
        return Err(bad("is longer than 253 characters"));
    }
    let labels: Vec<&str> = d.split('.').collect();
    if labels.len() < 2 {
        return Err(bad("has no top-level domain; type the full name such as contoso.com"));
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err(bad("has an empty label or one longer than 63 characters"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(bad("may hold only letters, digits, hyphens and dots (write an IDN in its xn-- form)"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("has a label that starts or ends with a hyphen"));
        }
    }
    let tld = labels[labels.len() - 1];
    if !(tld.starts_with("xn--") || tld.chars().all(|c| c.is_ascii_alphabetic())) {
        return Err(bad("ends in a top-level domain that is not a name"));
    }
    if d.ends_with(".onmicrosoft.com") || d.ends_with(".onmicrosoft.us") {
        return Err(bad(
            "is the tenant's initial domain, which Microsoft 365 already holds; list the customer's own domains",
        ));
    }
    Ok(d)
}

/// A list of domains separated by commas, semicolons or spaces; duplicates are dropped, order is kept.
pub fn validate_domains(input: &str) -> Result<Vec<String>, ValidationError> {
    let mut out: Vec<String> = Vec::new();
    for part in input.split([',', ';', ' ', '\t']).filter(|p| !p.trim().is_empty()) {
        let d = validate_domain(part)?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// A phone number as people write it: digits with spaces, dots, dashes, parentheses and a leading +.
pub fn validate_phone(input: &str) -> Result<String, ValidationError> {
    let s = input.trim();
    let allowed = s
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')') || (c == '+' && i == 0));
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if !allowed || !(6..=15).contains(&digits) {
        return Err(invalid(format!(
            "phone '{input}' should be 6 to 15 digits, optionally with a leading + and spaces, e.g. +1 425 555 0100"
        )));
    }
    Ok(s.to_owned())
}

/// `YYYY-MM-DD HH:MM Zone`, the zone an IANA name (`Europe/Berlin`) or `UTC`.
pub fn parse_cutover(input: &str) -> Result<CutoverTime, ValidationError> {
    let example = "type it as YYYY-MM-DD HH:MM Area/City, e.g. 2026-12-05 18:00 Europe/Berlin";
    let parts: Vec<&str> = input.split_whitespace().collect();
    let [date, time, zone] = parts[..] else {
        return Err(invalid(format!("cutover '{input}' needs a date, a time and a time zone; {example}")));
    };
    let local = NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M")
        .map_err(|_| invalid(format!("cutover '{date} {time}' is not a valid date and time; {example}")))?;
    let tz: Tz = zone.parse().map_err(|_| {
        invalid(format!(
            "time zone '{zone}' is unknown; use an IANA name such as Europe/Berlin, America/New_York or UTC"
        ))
    })?;
    let zone = tz.name().to_owned();
    let cutover = CutoverTime { local, zone };
    if cutover.utc().is_none() {
        return Err(invalid(format!(
            "{date} {time} does not exist in {} (the clocks skip it for daylight saving); pick another time",
            cutover.zone
        )));
    }
    Ok(cutover)
}

pub fn parse_mailboxes(input: &str) -> Result<u32, ValidationError> {
    let cleaned: String = input.chars().filter(|c| !matches!(c, ',' | '_' | ' ')).collect();
    match cleaned.parse::<u32>() {
        Ok(0) => Err(invalid("mailboxes: 0 is not a migration; type the estimated number of mailboxes")),
        Ok(n) => Ok(n),
        Err(_) => Err(invalid(format!("mailboxes '{input}' is not a whole number; type e.g. 120"))),
    }
}

/// Runs the kickoff checks: `kickoff-fields` and `cutover-limits`.
pub fn run_checks(k: &Kickoff, now: DateTime<Utc>) -> Vec<(CheckId, CheckResult)> {
    vec![
        (Check::KickoffFields.into(), fields_check(k, now)),
        (Check::CutoverLimits.into(), limits_check(k.mailboxes, now)),
    ]
}

fn fields_check(k: &Kickoff, now: DateTime<Utc>) -> CheckResult {
    let missing = k.missing();
    if !missing.is_empty() {
        return CheckResult::new(
            Outcome::Fail,
            format!("Missing: {}. Fill them in the form.", missing.join(", ")),
            now,
        );
    }
    let tenant = k.tenant.as_ref().map(Tenant::to_string).unwrap_or_default();
    let when = k.cutover.as_ref().and_then(|c| c.utc().map(|utc| (c, utc)));
    let Some((cutover, utc)) = when else {
        return CheckResult::new(
            Outcome::Fail,
            "The cutover time cannot be placed in its time zone; enter it again.",
            now,
        );
    };
    let summary = format!(
        "Customer {}; tenant {tenant}; {} domain(s): {}; cutover {cutover} ({} UTC).",
        k.customer,
        k.domains.len(),
        k.domains.join(", "),
        utc.format("%Y-%m-%d %H:%M")
    );
    if utc < now {
        CheckResult::new(
            Outcome::Warn,
            format!("{summary} The cutover date is in the past: update it if the plan moved."),
            now,
        )
    } else {
        CheckResult::new(Outcome::Pass, summary, now)
    }
}

fn limits_check(mailboxes: Option<u32>, now: DateTime<Utc>) -> CheckResult {
    let Some(n) = mailboxes else {
        return CheckResult::new(Outcome::Fail, "No mailbox estimate recorded; fill in Mailboxes.", now);
    };
    let count = group_thousands(u64::from(n));
    let max = group_thousands(u64::from(CUTOVER_MAX_MAILBOXES));
    if n > CUTOVER_MAX_MAILBOXES {
        CheckResult::new(
            Outcome::Fail,
            format!(
                "{count} mailboxes: a cutover migration moves at most {max}. Cutover is not possible; plan a staged or hybrid migration."
            ),
            now,
        )
    } else if n > CUTOVER_ADVISED_MAILBOXES {
        CheckResult::new(
            Outcome::Warn,
            format!(
                "{count} mailboxes: above the {CUTOVER_ADVISED_MAILBOXES} Microsoft advises for a cutover; a staged or hybrid migration is advised (cutover still works up to {max})."
            ),
            now,
        )
    } else {
        CheckResult::new(
            Outcome::Pass,
            format!(
                "{count} mailboxes: within the cutover limits ({CUTOVER_ADVISED_MAILBOXES} advised, {max} at most)."
            ),
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).expect("valid timestamp")
    }

    fn complete() -> Kickoff {
        let mut k = Kickoff::default();
        for (field, value) in [
            (Field::Customer, "Contoso Ltd"),
            (Field::PartnerName, "Pat Partner"),
            (Field::PartnerEmail, "pat@partner.example"),
            (Field::ClientName, "Chris Client"),
            (Field::ClientEmail, "chris@contoso.com"),
            (Field::Tenant, "contoso.onmicrosoft.com"),
            (Field::Domains, "contoso.com, contoso.co.uk"),
            (Field::Cutover, "2027-01-15 18:00 Europe/Berlin"),
            (Field::Mailboxes, "120"),
        ] {
            field.apply(&mut k, value).expect("valid value");
        }
        k
    }

    #[test]
    fn budget_is_300_plus_25_per_mailbox() {
        assert_eq!(budget_usd(0), 300);
        assert_eq!(budget_usd(1), 325);
        assert_eq!(budget_usd(120), 3_300);
        assert_eq!(budget_usd(2_000), 50_300);
        assert_eq!(format_usd(50_300), "$50,300");
        assert_eq!(format_usd(300), "$300");
    }

    #[test]
    fn tenants_are_guids_or_initial_domains() {
        assert_eq!(
            validate_tenant("72F988BF-86F1-41AF-91AB-2D7CD011DB47"),
            Ok(Tenant::Id("72f988bf-86f1-41af-91ab-2d7cd011db47".into()))
        );
        assert_eq!(
            validate_tenant("Contoso.onmicrosoft.com"),
            Ok(Tenant::InitialDomain("contoso.onmicrosoft.com".into()))
        );
        assert!(validate_tenant("contoso.onmicrosoft.us").is_ok());
        for bad in [
            "contoso.com",
            "72f988bf-86f1-41af-91ab",
            "con-toso.onmicrosoft.com",
            ".onmicrosoft.com",
            "00000000-0000-0000-0000-000000000000",
        ] {
            let err = validate_tenant(bad).expect_err(bad).to_string();
            assert!(err.contains(bad) || err.contains("empty GUID"), "{err}");
        }
    }

    #[test]
    fn domains_are_hostnames_the_customer_owns() {
        assert_eq!(validate_domain("Contoso.COM."), Ok("contoso.com".into()));
        assert_eq!(validate_domain("xn--bcher-kva.example"), Ok("xn--bcher-kva.example".into()));
        for bad in [
            "contoso",
            "-contoso.com",
            "contoso-.com",
            "con toso.com",
            "contoso.c0m",
            "a..com",
            "contoso.onmicrosoft.com",
            "bücher.de",
        ] {
            assert!(validate_domain(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(validate_domains("a.com; b.com a.com"), Ok(vec!["a.com".into(), "b.com".into()]));
    }

    #[test]
    fn phones_are_digits_with_separators() {
        assert!(validate_phone("+1 (425) 555-0100").is_ok());
        assert!(validate_phone("12345").is_err());
        assert!(validate_phone("555-CALL-NOW").is_err());
        assert!(validate_phone("1+2345678").is_err());
    }

    #[test]
    fn cutover_needs_a_real_local_time_in_a_known_zone() {
        let c = parse_cutover("2027-01-15 18:00 Europe/Berlin").expect("valid");
        assert_eq!(c.utc().map(|t| t.to_rfc3339()), Some("2027-01-15T17:00:00+00:00".into()));
        assert!(parse_cutover("2027-01-15 18:00").is_err());
        assert!(parse_cutover("2027-02-30 18:00 UTC").is_err());
        assert!(parse_cutover("2027-01-15 18:00 Mars/Olympus").is_err());
        let gap = parse_cutover("2027-03-28 02:30 Europe/Berlin").expect_err("the clocks skip 02:30");
        assert!(gap.to_string().contains("daylight saving"));
    }

    #[test]
    fn mailbox_counts_are_positive_whole_numbers() {
        assert_eq!(parse_mailboxes("1,200"), Ok(1_200));
        assert!(parse_mailboxes("0").is_err());
        assert!(parse_mailboxes("-3").is_err());
        assert!(parse_mailboxes("lots").is_err());
    }

    #[test]
    fn a_complete_kickoff_passes_and_an_empty_one_names_what_is_missing() {
        let checks = run_checks(&complete(), now());
        assert_eq!(checks[0].1.outcome, Outcome::Pass, "{}", checks[0].1.evidence);
        assert!(checks[0].1.evidence.contains("contoso.onmicrosoft.com"));
        let empty = run_checks(&Kickoff::default(), now());
        assert_eq!(empty[0].1.outcome, Outcome::Fail);
        assert!(empty[0].1.evidence.contains("Customer"));
        assert!(empty[0].1.evidence.contains("Tenant"));
        assert!(!empty[0].1.evidence.contains("phone"));
    }

    #[test]
    fn a_past_cutover_date_warns() {
        let mut k = complete();
        Field::Cutover.apply(&mut k, "2020-01-01 10:00 UTC").expect("valid");
        assert_eq!(run_checks(&k, now())[0].1.outcome, Outcome::Warn);
    }

    #[test]
    fn mailbox_limits_warn_above_150_and_fail_above_2000() {
        let outcome = |n| limits_check(Some(n), now()).outcome;
        assert_eq!(outcome(150), Outcome::Pass);
        assert_eq!(outcome(151), Outcome::Warn);
        assert_eq!(outcome(2_000), Outcome::Warn);
        assert_eq!(outcome(2_001), Outcome::Fail);
        assert!(limits_check(Some(2_500), now()).evidence.contains("2,500 mailboxes"));
        assert_eq!(limits_check(None, now()).outcome, Outcome::Fail);
    }

    #[test]
    fn tasks_are_done_when_their_facts_are_recorded() {
        let k = complete();
        for &task in Task::ALL {
            assert!(k.task_done(task), "{task}");
            assert!(!Kickoff::default().task_done(task), "{task}");
        }
    }

    #[test]
    fn clearing_a_field_empties_it() {
        let mut k = complete();
        Field::Tenant.apply(&mut k, "  ").expect("empty clears");
        assert_eq!(k.tenant, None);
        assert_eq!(k.missing(), vec!["Tenant"]);
    }
}
