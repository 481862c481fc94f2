//! Stage 4, Prepare: the rules over the domains' state in the tenant and the MX record's TTL. Pure: the Graph
//! and DNS clients turn their answers into the plain types here.

use super::check::{CheckResult, Outcome};
use super::kickoff::group_thousands;
use chrono::{DateTime, Duration, Utc};

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

/// `mx-ttl`: each domain's MX TTL as its authoritative servers give it (`None`: no MX record found).
pub fn mx_ttl_check(ttls: &[(String, Option<u32>)], cutover: Option<DateTime<Utc>>, now: DateTime<Utc>) -> CheckResult {
    if ttls.is_empty() {
        return CheckResult::new(
            Outcome::Fail,
            "No email domain is recorded: fill Email domains in the kickoff form.",
            now,
        );
    }
    let mut high = Vec::new();
    let mut ok = Vec::new();
    let mut none = Vec::new();
    for (domain, ttl) in ttls {
        match ttl {
            None => none.push(domain.as_str()),
            Some(t) if *t > MX_TTL_TARGET => high.push((domain.as_str(), *t)),
            Some(t) => ok.push(format!("{domain} {t} s")),
        }
    }
    let mut text = Vec::new();
    if !ok.is_empty() {
        text.push(format!("MX TTL at or below {} s: {}.", group_thousands(MX_TTL_TARGET.into()), ok.join(", ")));
    }
    if !none.is_empty() {
        text.push(format!("No MX record found for {}: check the domain's DNS zone.", none.join(", ")));
    }
    if high.is_empty() {
        let outcome = if none.is_empty() { Outcome::Pass } else { Outcome::Warn };
        return CheckResult::new(outcome, text.join(" "), now);
    }
    for (domain, ttl) in &high {
        let mut advice = format!(
            "{domain}: MX TTL is {} s; lower it to {} s or less at least {} before the cutover, so resolvers forget the old record in time.",
            group_thousands((*ttl).into()),
            group_thousands(MX_TTL_TARGET.into()),
            humanise(Duration::seconds(i64::from(*ttl)))
        );
        if let Some(at) = cutover
            && at - now < Duration::seconds(i64::from(*ttl))
        {
            advice.push_str(" The cutover is sooner than that: some senders will use the old MX for a while after it; keep the old server receiving until the TTL has passed.");
        }
        text.push(advice);
    }
    CheckResult::new(Outcome::Warn, text.join(" "), now)
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

    #[test]
    fn a_high_mx_ttl_warns_with_how_long_ahead_to_lower_it() {
        let r = mx_ttl_check(&[("contoso.com".into(), Some(86_400))], None, now());
        assert_eq!(r.outcome, Outcome::Warn);
        assert!(
            r.evidence.contains("MX TTL is 86,400 s; lower it to 3,600 s or less at least 24 h before"),
            "{}",
            r.evidence
        );
        let soon = mx_ttl_check(&[("contoso.com".into(), Some(86_400))], Some(now() + Duration::hours(3)), now());
        assert!(soon.evidence.contains("The cutover is sooner than that"), "{}", soon.evidence);
        let ok = mx_ttl_check(&[("contoso.com".into(), Some(3_600))], None, now());
        assert_eq!(ok.outcome, Outcome::Pass);
        let missing = mx_ttl_check(&[("contoso.com".into(), None)], None, now());
        assert_eq!(missing.outcome, Outcome::Warn);
    }

    #[test]
    fn the_txt_instruction_names_the_record_exactly() {
        assert_eq!(
            txt_instruction("contoso.com", "MS=ms12345678", 3600),
            "contoso.com  TXT  \"MS=ms12345678\"  (TTL 3600; at the zone apex, host @)"
        );
    }
}
