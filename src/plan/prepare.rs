//! Stage 4, Prepare: the rules over the domains' state in the tenant and the MX record's TTL. Pure: the Graph
//! and DNS clients turn their answers into the plain types here.

use super::check::{CheckResult, Outcome};
use super::kickoff::group_thousands;
use super::stages::{CheckDef, CheckId, StageDef, StageId, TaskDef, TaskId, plan_ids};
use chrono::{DateTime, Duration, Utc};

/// This stage's place in the plan.
pub const STAGE: StageId = StageId::at(4);

plan_ids! {
    /// The tasks of stage 4; their ids are the keys of `state.json` and the audit log.
    pub enum Task {
        AddDomains = "add-domains",
        VerifyDomains = "verify-domains",
        CreateEndpoint = "create-endpoint",
        PublishVerification = "publish-verification",
    }
}

plan_ids! {
    /// The checks of stage 4; their ids are the keys of `state.json` and the audit log.
    pub enum Check {
        DomainsVerified = "domains-verified",
        EndpointTest = "endpoint-test",
        MxTtl = "mx-ttl",
    }
}

/// Stage 4 as data: its tasks and checks, in the order the wizard shows them.
pub static DEF: StageDef = StageDef {
    id: STAGE,
    title: "Prepare",
    help: "Add and verify the email domains in the tenant and create the Outlook Anywhere migration endpoint.",
    tasks: &[
        TaskDef {
            id: TaskId::Prepare(Task::AddDomains),
            title: "Add email domains to the tenant",
            help: "Each domain is added, then its MS=… TXT record is published by the customer.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Prepare(Task::VerifyDomains),
            title: "Verify the domains",
            help: "Microsoft 365 checks the TXT record; retried until it verifies.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Prepare(Task::CreateEndpoint),
            title: "Create the migration endpoint",
            help: "Outlook Anywhere, found by Autodiscover or given by hand, with MaxConcurrentMigrations.",
            demo_only: false,
        },
        TaskDef {
            id: TaskId::Prepare(Task::PublishVerification),
            title: "Publish the TXT records at the simulated registrar",
            help: "cutover demo only: what the customer's DNS host does for a real tenant.",
            demo_only: true,
        },
    ],
    checks: &[
        CheckDef {
            id: CheckId::Prepare(Check::DomainsVerified),
            title: "Domains verified",
            help: "Every email domain shows as verified in the tenant.",
        },
        CheckDef {
            id: CheckId::Prepare(Check::EndpointTest),
            title: "Migration server available",
            help: "Test-MigrationServerAvailability succeeds against the source.",
        },
        CheckDef {
            id: CheckId::Prepare(Check::MxTtl),
            title: "MX TTL lowered",
            help: "The MX record's TTL is 3,600 s or less well before the cutover.",
        },
    ],
    settings: &[],
};

/// The most an MX TTL should be before the cutover, in seconds.
pub const MX_TTL_TARGET: u32 = 3_600;

/// One email domain as the tenant knows it (`/domains/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainState {
    pub name: String,
    /// Added to the tenant at all.
    pub in_tenant: bool,
    /// `isVerified`.
    pub verified: bool,
    /// The `MS=…` text of its TXT verification record, when known.
    pub txt: Option<String>,
}

/// What the customer must publish for a domain to verify.
pub fn txt_instruction(domain: &str, text: &str, ttl: u32) -> String {
    format!("{domain}  TXT  \"{text}\"  (TTL {ttl}; at the zone apex, host @)")
}

/// `domains-verified`.
pub fn domains_check(domains: &[DomainState], now: DateTime<Utc>) -> CheckResult {
    if domains.is_empty() {
        return CheckResult::new(
            Outcome::Fail,
            "No email domain is recorded: fill Email domains in the kickoff form.",
            now,
        );
    }
    let missing: Vec<&str> = domains.iter().filter(|d| !d.in_tenant).map(|d| d.name.as_str()).collect();
    let unverified: Vec<String> = domains
        .iter()
        .filter(|d| d.in_tenant && !d.verified)
        .map(|d| match &d.txt {
            Some(txt) => format!("{} (publish TXT \"{txt}\", then verify)", d.name),
            None => d.name.clone(),
        })
        .collect();
    if missing.is_empty() && unverified.is_empty() {
        let names: Vec<&str> = domains.iter().map(|d| d.name.as_str()).collect();
        return CheckResult::new(Outcome::Pass, format!("Verified in the tenant: {}.", names.join(", ")), now);
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("not added to the tenant: {} (run the task Add email domains)", missing.join(", ")));
    }
    if !unverified.is_empty() {
        parts.push(format!("not verified: {}", unverified.join("; ")));
    }
    CheckResult::new(Outcome::Fail, format!("{}.", capitalise(&parts.join("; "))), now)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// What one domain's MX lookup gave, from whom (`asked`: the resolver or authoritative server's label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxTtlAnswer {
    pub domain: String,
    pub asked: String,
    pub found: MxTtlFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxTtlFound {
    /// The longest TTL of the domain's MX records, in seconds.
    Ttl(u32),
    /// The name answered, without an MX record.
    NoMx,
    /// The lookup itself failed; the text says why.
    Error(String),
}

/// `mx-ttl`: each domain's MX TTL as its authoritative servers give it. At or below [`MX_TTL_TARGET`] passes;
/// above warns with how long ahead to lower it; a domain without MX warns; a lookup that failed fails.
pub fn mx_ttl_check(answers: &[MxTtlAnswer], cutover: Option<DateTime<Utc>>, now: DateTime<Utc>) -> CheckResult {
    if answers.is_empty() {
        return CheckResult::new(
            Outcome::Fail,
            "No email domain is recorded: fill Email domains in the kickoff form.",
            now,
        );
    }
    let mut text = Vec::new();
    let mut outcome = Outcome::Pass;
    let worse = |o: Outcome, current: &mut Outcome| {
        if matches!((o, *current), (Outcome::Fail, _) | (Outcome::Warn, Outcome::Pass)) {
            *current = o;
        }
    };
    for a in answers {
        let domain = &a.domain;
        let asked = &a.asked;
        match &a.found {
            MxTtlFound::Ttl(t) if *t <= MX_TTL_TARGET => text.push(format!(
                "{domain}: MX TTL {} s (at most {} s), per {asked}.",
                group_thousands((*t).into()),
                group_thousands(MX_TTL_TARGET.into())
            )),
            MxTtlFound::Ttl(t) => {
                worse(Outcome::Warn, &mut outcome);
                let mut advice = format!(
                    "{domain}: MX TTL is {} s, per {asked}; lower it to {} s or less at least {} before the cutover, so resolvers forget the old record in time.",
                    group_thousands((*t).into()),
                    group_thousands(MX_TTL_TARGET.into()),
                    humanise(Duration::seconds(i64::from(*t)))
                );
                if let Some(at) = cutover
                    && at - now < Duration::seconds(i64::from(*t))
                {
                    advice.push_str(" The cutover is sooner than that: some senders will use the old MX for a while after it; keep the old server receiving until the TTL has passed.");
                }
                text.push(advice);
            }
            MxTtlFound::NoMx => {
                worse(Outcome::Warn, &mut outcome);
                text.push(format!(
                    "{domain}: no MX record, per {asked}: mail to it is not delivered; check the domain's DNS zone."
                ));
            }
            MxTtlFound::Error(e) => {
                worse(Outcome::Fail, &mut outcome);
                text.push(format!("{domain}: the MX lookup failed: {e}"));
            }
        }
    }
    CheckResult::new(outcome, text.join(" "), now)
}

fn humanise(d: Duration) -> String {
    let hours = d.num_hours();
    if hours >= 48 {
        format!("{} days", hours / 24)
    } else if hours >= 1 {
        format!("{hours} h")
    } else {
        format!("{} min", d.num_minutes().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).expect("valid")
    }

    fn domain(name: &str, in_tenant: bool, verified: bool) -> DomainState {
        DomainState { name: name.into(), in_tenant, verified, txt: Some("MS=ms12345678".into()) }
    }

    #[test]
    fn every_domain_must_be_added_and_verified() {
        let ok = domains_check(&[domain("contoso.com", true, true)], now());
        assert_eq!(ok.outcome, Outcome::Pass);
        let mixed = domains_check(&[domain("contoso.com", true, false), domain("contoso.net", false, false)], now());
        assert_eq!(mixed.outcome, Outcome::Fail);
        assert!(mixed.evidence.contains("Not added to the tenant: contoso.net"), "{}", mixed.evidence);
        assert!(
            mixed.evidence.contains("contoso.com (publish TXT \"MS=ms12345678\", then verify)"),
            "{}",
            mixed.evidence
        );
        assert_eq!(domains_check(&[], now()).outcome, Outcome::Fail);
    }

    fn answer(ttl: MxTtlFound) -> MxTtlAnswer {
        MxTtlAnswer { domain: "contoso.com".into(), asked: "ns1.contoso.com (authoritative)".into(), found: ttl }
    }

    #[test]
    fn a_high_mx_ttl_warns_with_how_long_ahead_to_lower_it() {
        let r = mx_ttl_check(&[answer(MxTtlFound::Ttl(86_400))], None, now());
        assert_eq!(r.outcome, Outcome::Warn);
        assert!(
            r.evidence.contains(
                "MX TTL is 86,400 s, per ns1.contoso.com (authoritative); lower it to 3,600 s or less at least 24 h before"
            ),
            "{}",
            r.evidence
        );
        let soon = mx_ttl_check(&[answer(MxTtlFound::Ttl(86_400))], Some(now() + Duration::hours(3)), now());
        assert!(soon.evidence.contains("The cutover is sooner than that"), "{}", soon.evidence);
        let ok = mx_ttl_check(&[answer(MxTtlFound::Ttl(3_600))], None, now());
        assert_eq!(ok.outcome, Outcome::Pass);
        assert!(ok.evidence.contains("contoso.com: MX TTL 3,600 s (at most 3,600 s)"), "{}", ok.evidence);
        let missing = mx_ttl_check(&[answer(MxTtlFound::NoMx)], None, now());
        assert_eq!(missing.outcome, Outcome::Warn);
        assert!(missing.evidence.contains("no MX record"), "{}", missing.evidence);
        let failed = mx_ttl_check(
            &[answer(MxTtlFound::Ttl(86_400)), answer(MxTtlFound::Error("timed out".into()))],
            None,
            now(),
        );
        assert_eq!(failed.outcome, Outcome::Fail);
        assert!(failed.evidence.contains("the MX lookup failed: timed out"), "{}", failed.evidence);
        assert_eq!(mx_ttl_check(&[], None, now()).outcome, Outcome::Fail);
    }

    #[test]
    fn the_txt_instruction_names_the_record_exactly() {
        assert_eq!(
            txt_instruction("contoso.com", "MS=ms12345678", 3600),
            "contoso.com  TXT  \"MS=ms12345678\"  (TTL 3600; at the zone apex, host @)"
        );
    }
}
