//! Stage 9's Exchange Online Protection rules: the Default anti-spam (`Get-HostedContentFilterPolicy`) and
//! anti-malware (`Get-MalwareFilterPolicy`) policies against the baseline of `docs/eop-baseline.md` (Microsoft's
//! recommended Standard values), DKIM signing per domain (its config, the two selector CNAMEs Exchange Online
//! names and whether DNS has them), and SPF and DMARC as DNS has them; the eop-policies rule over all of it.
//! Pure.

use super::rules::{Difference, diff};
use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The two policies compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    AntiSpam,
    AntiMalware,
}

impl Policy {
    pub fn label(self) -> &'static str {
        match self {
            Policy::AntiSpam => "anti-spam (Default)",
            Policy::AntiMalware => "anti-malware (Default)",
        }
    }

    /// The `Set-` cmdlet that applies a difference.
    pub fn set_cmdlet(self) -> &'static str {
        match self {
            Policy::AntiSpam => "Set-HostedContentFilterPolicy",
            Policy::AntiMalware => "Set-MalwareFilterPolicy",
        }
    }

    /// The baseline's values, as the cmdlets name them (`docs/eop-baseline.md`).
    pub fn baseline(self) -> Map<String, Value> {
        let v = match self {
            Policy::AntiSpam => json!({
                "BulkThreshold": 6,
                "MarkAsSpamBulkMail": "On",
                "SpamAction": "MoveToJmf",
                "HighConfidenceSpamAction": "Quarantine",
                "PhishSpamAction": "Quarantine",
                "HighConfidencePhishAction": "Quarantine",
                "BulkSpamAction": "MoveToJmf",
                "QuarantineRetentionPeriod": 30,
                "InlineSafetyTipsEnabled": true,
                "PhishZapEnabled": true,
                "SpamZapEnabled": true,
            }),
            Policy::AntiMalware => json!({
                "EnableFileFilter": true,
                "FileTypeAction": "Reject",
                "ZapEnabled": true,
            }),
        };
        v.as_object().cloned().unwrap_or_default()
    }
}

/// How one policy differs from the baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDiff {
    pub policy: Policy,
    pub identity: String,
    pub differences: Vec<Difference>,
}

/// The Default policy among those listed (`IsDefault`, else the one named Default), compared with the baseline.
pub fn policy_diff(policy: Policy, listed: &[Map<String, Value>]) -> Option<PolicyDiff> {
    let is_default = |p: &&Map<String, Value>| {
        p.get("IsDefault").and_then(Value::as_bool) == Some(true)
            || p.get("Name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case("Default"))
    };
    let found = listed.iter().find(is_default)?;
    let identity =
        ["Identity", "Name"].iter().find_map(|k| found.get(*k).and_then(Value::as_str)).unwrap_or("Default").to_owned();
    Some(PolicyDiff { policy, identity, differences: diff(&policy.baseline(), found) })
}

/// The `Set-` parameters that bring a policy to the baseline: only the values that differ.
pub fn fix(d: &PolicyDiff) -> Map<String, Value> {
    let baseline = d.policy.baseline();
    d.differences.iter().filter_map(|x| baseline.get(&x.parameter).map(|v| (x.parameter.clone(), v.clone()))).collect()
}

/// A domain's DKIM signing as Exchange Online and DNS have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dkim {
    pub domain: String,
    /// `Get-DkimSigningConfig` has one for the domain.
    pub configured: bool,
    pub enabled: bool,
    /// `Selector1CNAME` and `Selector2CNAME`, as Exchange Online names them.
    pub selectors: Vec<String>,
    /// Whether DNS answers `selectorN._domainkey.<domain>` with the target Exchange Online names, in order.
    pub published: Vec<bool>,
}

impl Dkim {
    /// The CNAME records to publish: host and target.
    pub fn records(&self) -> Vec<(String, String)> {
        self.selectors
            .iter()
            .enumerate()
            .map(|(i, target)| (format!("selector{}._domainkey.{}", i + 1, self.domain), target.clone()))
            .collect()
    }

    /// Both CNAMEs resolve as Exchange Online names them: signing can be enabled.
    pub fn ready(&self) -> bool {
        self.selectors.len() == 2 && self.published.len() == 2 && self.published.iter().all(|p| *p)
    }
}

/// A domain's SPF record as DNS has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spf {
    Missing,
    /// One `v=spf1` record that includes Exchange Online's `spf.protection.outlook.com`.
    Includes(String),
    /// One record without Exchange Online: mail from Exchange Online would fail SPF.
    Without(String),
    /// More than one `v=spf1` record: SPF answers PermError.
    Several(usize),
}

pub fn spf(txt: &[String]) -> Spf {
    let records: Vec<&String> = txt.iter().filter(|t| t.trim().to_ascii_lowercase().starts_with("v=spf1")).collect();
    match records.as_slice() {
        [] => Spf::Missing,
        [one] if one.to_ascii_lowercase().contains("include:spf.protection.outlook.com") => {
            Spf::Includes((*one).clone())
        }
        [one] => Spf::Without((*one).clone()),
        more => Spf::Several(more.len()),
    }
}

/// A DMARC policy (`p=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DmarcPolicy {
    None,
    Quarantine,
    Reject,
    Unknown(String),
}

/// A domain's `_dmarc` record as DNS has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dmarc {
    Missing,
    Present { record: String, policy: DmarcPolicy },
}

pub fn dmarc(txt: &[String]) -> Dmarc {
    let Some(record) = txt.iter().find(|t| t.trim().to_ascii_lowercase().starts_with("v=dmarc1")) else {
        return Dmarc::Missing;
    };
    let policy = record
        .split(';')
        .filter_map(|tag| tag.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("p"))
        .map_or(DmarcPolicy::Unknown(String::new()), |(_, v)| match v.trim().to_ascii_lowercase().as_str() {
            "none" => DmarcPolicy::None,
            "quarantine" => DmarcPolicy::Quarantine,
            "reject" => DmarcPolicy::Reject,
            other => DmarcPolicy::Unknown(other.to_owned()),
        });
    Dmarc::Present { record: record.clone(), policy }
}

/// A starting DMARC record for a domain that has none: monitor only, reports to the given address.
pub fn dmarc_suggestion(domain: &str, reports_to: &str) -> (String, String) {
    (format!("_dmarc.{domain}"), format!("v=DMARC1; p=none; rua=mailto:{reports_to}"))
}

/// What one domain's mail authentication looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainAuth {
    pub dkim: Dkim,
    pub spf: Spf,
    pub dmarc: Dmarc,
}

/// eop-policies: the policies at the baseline, DKIM signing on and SPF including Exchange Online for every
/// domain pass; a policy off the baseline, DKIM off or SPF missing or wrong fails; a missing DMARC record warns
/// with a starting record.
pub fn check(policies: &[PolicyDiff], domains: &[DomainAuth], reports_to: &str, now: DateTime<Utc>) -> CheckResult {
    let mut fail = false;
    let mut warn = false;
    let mut parts = Vec::new();
    for p in policies {
        if p.differences.is_empty() {
            parts.push(format!("The {} policy matches the baseline.", p.policy.label()));
        } else {
            fail = true;
            let d: Vec<String> = p
                .differences
                .iter()
                .map(|x| format!("{} is {}, baseline {}", x.parameter, x.found, x.wanted))
                .collect();
            parts.push(format!("The {} policy differs: {}.", p.policy.label(), d.join("; ")));
        }
    }
    for d in domains {
        let name = &d.dkim.domain;
        let dkim = match (&d.dkim.configured, &d.dkim.enabled) {
            (_, true) => "DKIM signing on".to_owned(),
            (false, _) => {
                fail = true;
                "no DKIM signing config (run Apply Exchange Online Protection settings)".to_owned()
            }
            (true, false) => {
                fail = true;
                let records: Vec<String> = d.dkim.records().iter().map(|(h, t)| format!("{h} CNAME {t}")).collect();
                format!("DKIM signing off until these resolve: {}", records.join(", "))
            }
        };
        let spf = match &d.spf {
            Spf::Includes(r) => format!("SPF \"{r}\""),
            Spf::Without(r) => {
                fail = true;
                format!("SPF \"{r}\" lacks include:spf.protection.outlook.com")
            }
            Spf::Missing => {
                fail = true;
                "no SPF record (publish v=spf1 include:spf.protection.outlook.com -all)".to_owned()
            }
            Spf::Several(n) => {
                fail = true;
                format!("{n} SPF records (receivers treat that as an error: keep one)")
            }
        };
        let dmarc = match &d.dmarc {
            Dmarc::Present { record, policy } => {
                let p = match policy {
                    DmarcPolicy::None => "none (monitoring only)".to_owned(),
                    DmarcPolicy::Quarantine => "quarantine".to_owned(),
                    DmarcPolicy::Reject => "reject".to_owned(),
                    DmarcPolicy::Unknown(s) => format!("{s:?} (not a DMARC policy)"),
                };
                format!("DMARC policy {p} (\"{record}\")")
            }
            Dmarc::Missing => {
                warn = true;
                let (host, text) = dmarc_suggestion(name, reports_to);
                format!("no DMARC record; to start: {host} TXT \"{text}\"")
            }
        };
        parts.push(format!("{name}: {dkim}; {spf}; {dmarc}."));
    }
    let outcome = if fail {
        Outcome::Fail
    } else if warn {
        Outcome::Warn
    } else {
        Outcome::Pass
    };
    CheckResult::new(outcome, parts.join(" "), now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn the_default_policy_is_diffed_against_the_baseline_and_only_the_differences_are_set() {
        let default = obj(
            json!({"Identity": "Default", "IsDefault": true, "BulkThreshold": 7, "SpamAction": "MoveToJmf",
            "HighConfidenceSpamAction": "MoveToJmf", "PhishSpamAction": "MoveToJmf", "HighConfidencePhishAction": "Quarantine",
            "BulkSpamAction": "MoveToJmf", "MarkAsSpamBulkMail": "On", "QuarantineRetentionPeriod": 15,
            "InlineSafetyTipsEnabled": true, "PhishZapEnabled": true, "SpamZapEnabled": true}),
        );
        let custom = obj(json!({"Identity": "Strict", "IsDefault": false, "BulkThreshold": 4}));
        let d = policy_diff(Policy::AntiSpam, &[custom, default]).expect("the Default policy");
        let params: Vec<&str> = d.differences.iter().map(|x| x.parameter.as_str()).collect();
        assert_eq!(
            params,
            ["BulkThreshold", "HighConfidenceSpamAction", "PhishSpamAction", "QuarantineRetentionPeriod"]
        );
        let set = fix(&d);
        assert_eq!(set["BulkThreshold"], json!(6));
        assert_eq!(set["QuarantineRetentionPeriod"], json!(30));
        assert_eq!(set.len(), 4);
        let malware =
            obj(json!({"Name": "Default", "EnableFileFilter": true, "FileTypeAction": "reject", "ZapEnabled": true}));
        assert!(policy_diff(Policy::AntiMalware, &[malware]).expect("default").differences.is_empty());
        assert!(policy_diff(Policy::AntiMalware, &[]).is_none());
    }

    #[test]
    fn spf_and_dmarc_are_read_from_their_txt_records() {
        let t = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            spf(&t(&["MS=ms123", "v=spf1 include:spf.protection.outlook.com -all"])),
            Spf::Includes("v=spf1 include:spf.protection.outlook.com -all".into())
        );
        assert!(matches!(spf(&t(&["v=spf1 mx -all"])), Spf::Without(_)));
        assert_eq!(spf(&t(&["v=spf1 a -all", "v=spf1 mx -all"])), Spf::Several(2));
        assert_eq!(spf(&[]), Spf::Missing);
        assert_eq!(
            dmarc(&t(&["v=DMARC1; p=reject; rua=mailto:d@contoso.com"])),
            Dmarc::Present {
                record: "v=DMARC1; p=reject; rua=mailto:d@contoso.com".into(),
                policy: DmarcPolicy::Reject
            }
        );
        assert!(matches!(dmarc(&t(&["v=DMARC1; p=monitor"])), Dmarc::Present { policy: DmarcPolicy::Unknown(_), .. }));
        assert_eq!(dmarc(&t(&["v=spf1 -all"])), Dmarc::Missing);
        assert_eq!(dmarc_suggestion("contoso.com", "it@contoso.com").1, "v=DMARC1; p=none; rua=mailto:it@contoso.com");
    }

    #[test]
    fn the_check_fails_on_a_policy_off_the_baseline_dkim_off_or_spf_wrong_and_warns_without_dmarc() {
        let now = Utc::now();
        let ok_policy = PolicyDiff { policy: Policy::AntiMalware, identity: "Default".into(), differences: vec![] };
        let dkim = |enabled| Dkim {
            domain: "contoso.com".into(),
            configured: true,
            enabled,
            selectors: vec![
                "selector1-contoso-com._domainkey.contoso.onmicrosoft.com".into(),
                "selector2-contoso-com._domainkey.contoso.onmicrosoft.com".into(),
            ],
            published: vec![false, false],
        };
        let good = DomainAuth {
            dkim: dkim(true),
            spf: Spf::Includes("v=spf1 include:spf.protection.outlook.com -all".into()),
            dmarc: Dmarc::Present { record: "v=DMARC1; p=quarantine".into(), policy: DmarcPolicy::Quarantine },
        };
        let r = check(std::slice::from_ref(&ok_policy), std::slice::from_ref(&good), "it@contoso.com", now);
        assert_eq!(r.outcome, Outcome::Pass, "{}", r.evidence);
        let no_dmarc = DomainAuth { dmarc: Dmarc::Missing, ..good.clone() };
        let r = check(&[], &[no_dmarc], "it@contoso.com", now);
        assert_eq!(r.outcome, Outcome::Warn);
        assert!(
            r.evidence.contains("_dmarc.contoso.com TXT \"v=DMARC1; p=none; rua=mailto:it@contoso.com\""),
            "{}",
            r.evidence
        );
        let off = DomainAuth { dkim: dkim(false), ..good.clone() };
        let r = check(&[], &[off], "it@contoso.com", now);
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.evidence.contains(
                "selector1._domainkey.contoso.com CNAME selector1-contoso-com._domainkey.contoso.onmicrosoft.com"
            ),
            "{}",
            r.evidence
        );
        let spam = PolicyDiff {
            policy: Policy::AntiSpam,
            identity: "Default".into(),
            differences: vec![Difference { parameter: "BulkThreshold".into(), wanted: "6".into(), found: "7".into() }],
        };
        let r = check(&[spam], std::slice::from_ref(&good), "it@contoso.com", now);
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("BulkThreshold is 7, baseline 6"), "{}", r.evidence);
        let no_spf = DomainAuth { spf: Spf::Without("v=spf1 mx -all".into()), ..good };
        assert_eq!(check(&[], &[no_spf], "it@contoso.com", now).outcome, Outcome::Fail);
    }
}
