//! Stage 9's transport rules: the source's rules as `assets/Get-CutoverInventory.ps1` exports them
//! (`cutover-transport-rules-<date>.json`, one object per `Get-TransportRule` result with its non-empty
//! conditions, exceptions and actions), the table of what Exchange Online has the same of, the
//! `New-TransportRule` parameters of each rule that maps whole, the reasons of each that does not, the diff of a
//! rule already in the tenant, and the transport-rules-enabled rule. A rule with one part that does not map is
//! not created at all: a rule without one of its conditions would act on mail it was never meant for. Pure.

use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// How Exchange Online takes one property of a source rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// `New-TransportRule` has the parameter of this name, with the same meaning.
    Same,
    /// Exchange Online has nothing of the same meaning; the text says why.
    Refused(&'static str),
}

const ON_PREM_LOG: &str =
    "writes to the Application event log of the on-premises server; Exchange Online has no such log";
const AD_RMS: &str = "names an AD RMS template of the on-premises server; Exchange Online protects with Microsoft Purview Message Encryption templates, which must be chosen anew";
const CONNECTOR: &str = "names an on-premises send connector; Exchange Online routes through its own outbound connectors, which must be created first";
const EDGE: &str =
    "an Edge Transport action (rejects in the SMTP session); Exchange Online has no Edge Transport server";
const CLASSIFICATION: &str =
    "names a message classification of the on-premises organisation; it must be created in Exchange Online first";
const AD_ATTRIBUTE: &str = "matches on-premises Active Directory attributes; the cloud directory's attributes may differ, so the rule is recreated by hand";

/// The conditions, actions and rule settings of `New-TransportRule`, as Exchange Server's `Get-TransportRule`
/// names them; the exceptions are the conditions with `ExceptIf` before them. Anything not here is refused as
/// unknown rather than guessed.
const TABLE: &[(&str, Support)] = &[
    // Conditions.
    ("From", Support::Same),
    ("FromMemberOf", Support::Same),
    ("FromScope", Support::Same),
    ("FromAddressContainsWords", Support::Same),
    ("FromAddressMatchesPatterns", Support::Same),
    ("SenderDomainIs", Support::Same),
    ("SentTo", Support::Same),
    ("SentToMemberOf", Support::Same),
    ("SentToScope", Support::Same),
    ("RecipientDomainIs", Support::Same),
    ("RecipientAddressContainsWords", Support::Same),
    ("RecipientAddressMatchesPatterns", Support::Same),
    ("AnyOfToHeader", Support::Same),
    ("AnyOfCcHeader", Support::Same),
    ("AnyOfToCcHeader", Support::Same),
    ("SubjectContainsWords", Support::Same),
    ("SubjectMatchesPatterns", Support::Same),
    ("SubjectOrBodyContainsWords", Support::Same),
    ("SubjectOrBodyMatchesPatterns", Support::Same),
    ("HeaderContainsMessageHeader", Support::Same),
    ("HeaderContainsWords", Support::Same),
    ("HeaderMatchesMessageHeader", Support::Same),
    ("HeaderMatchesPatterns", Support::Same),
    ("AttachmentExtensionMatchesWords", Support::Same),
    ("AttachmentNameMatchesPatterns", Support::Same),
    ("AttachmentContainsWords", Support::Same),
    ("AttachmentSizeOver", Support::Same),
    ("AttachmentHasExecutableContent", Support::Same),
    ("AttachmentIsPasswordProtected", Support::Same),
    ("AttachmentIsUnsupported", Support::Same),
    ("AttachmentProcessingLimitExceeded", Support::Same),
    ("MessageSizeOver", Support::Same),
    ("MessageTypeMatches", Support::Same),
    ("WithImportance", Support::Same),
    ("SCLOver", Support::Same),
    ("HasNoClassification", Support::Same),
    ("HasClassification", Support::Refused(CLASSIFICATION)),
    ("HasSenderOverride", Support::Same),
    ("SenderADAttributeContainsWords", Support::Refused(AD_ATTRIBUTE)),
    ("SenderADAttributeMatchesPatterns", Support::Refused(AD_ATTRIBUTE)),
    ("RecipientADAttributeContainsWords", Support::Refused(AD_ATTRIBUTE)),
    ("RecipientADAttributeMatchesPatterns", Support::Refused(AD_ATTRIBUTE)),
    ("ADComparisonAttribute", Support::Refused(AD_ATTRIBUTE)),
    ("ADComparisonOperator", Support::Refused(AD_ATTRIBUTE)),
    ("SenderIpRanges", Support::Same),
    // Actions.
    ("PrependSubject", Support::Same),
    ("ApplyHtmlDisclaimerText", Support::Same),
    ("ApplyHtmlDisclaimerLocation", Support::Same),
    ("ApplyHtmlDisclaimerFallbackAction", Support::Same),
    ("RedirectMessageTo", Support::Same),
    ("BlindCopyTo", Support::Same),
    ("CopyTo", Support::Same),
    ("AddToRecipients", Support::Same),
    ("AddManagerAsRecipientType", Support::Same),
    ("ModerateMessageByUser", Support::Same),
    ("ModerateMessageByManager", Support::Same),
    ("RejectMessageReasonText", Support::Same),
    ("RejectMessageEnhancedStatusCode", Support::Same),
    ("DeleteMessage", Support::Same),
    ("Quarantine", Support::Same),
    ("SetSCL", Support::Same),
    ("SetHeaderName", Support::Same),
    ("SetHeaderValue", Support::Same),
    ("RemoveHeader", Support::Same),
    ("StopRuleProcessing", Support::Same),
    ("SetAuditSeverity", Support::Same),
    ("GenerateIncidentReport", Support::Same),
    ("IncidentReportContent", Support::Same),
    ("GenerateNotification", Support::Same),
    ("RouteMessageOutboundRequireTls", Support::Same),
    ("ApplyRightsProtectionTemplate", Support::Refused(AD_RMS)),
    ("LogEventText", Support::Refused(ON_PREM_LOG)),
    ("RouteMessageOutboundConnector", Support::Refused(CONNECTOR)),
    ("SmtpRejectMessageRejectText", Support::Refused(EDGE)),
    ("SmtpRejectMessageRejectStatusCode", Support::Refused(EDGE)),
    ("ApplyClassification", Support::Refused(CLASSIFICATION)),
    // Rule settings.
    ("Comments", Support::Same),
    ("RuleErrorAction", Support::Same),
    ("SenderAddressLocation", Support::Same),
    ("ActivationDate", Support::Same),
    ("ExpiryDate", Support::Same),
];

/// What `Get-TransportRule` says of a rule that is no condition, action or setting to recreate.
const NOT_PARAMETERS: &[&str] = &[
    "Name",
    "Identity",
    "Guid",
    "ImmutableId",
    "DistinguishedName",
    "State",
    "Priority",
    "Mode",
    "Description",
    "WhenChanged",
    "RuleVersion",
    "Conditions",
    "Exceptions",
    "Actions",
    "IsValid",
    "ObjectState",
    "ManuallyModified",
    "OrganizationId",
    "RuleSubType",
    "UseLegacyRegex",
];

/// How one property of a source rule is taken: the table's answer for its name, an exception by its condition.
pub fn support(property: &str) -> Support {
    let base = property.strip_prefix("ExceptIf").unwrap_or(property);
    TABLE
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(base))
        .map_or(Support::Refused("unknown to cutover, so not recreated rather than guessed"), |(_, s)| *s)
}

/// A rule's `Mode` (`-Mode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleMode {
    Enforce,
    Audit,
    AuditAndNotify,
    Unknown(String),
}

impl RuleMode {
    pub fn parse(s: &str) -> RuleMode {
        match s.trim().to_ascii_lowercase().as_str() {
            "enforce" => RuleMode::Enforce,
            "audit" => RuleMode::Audit,
            "auditandnotify" => RuleMode::AuditAndNotify,
            _ => RuleMode::Unknown(s.trim().to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            RuleMode::Enforce => "Enforce",
            RuleMode::Audit => "Audit",
            RuleMode::AuditAndNotify => "AuditAndNotify",
            RuleMode::Unknown(s) => s,
        }
    }
}

/// One rule of the source, as the script exported it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRule {
    pub name: String,
    pub enabled: bool,
    pub priority: Option<u32>,
    pub mode: RuleMode,
    /// Every other non-empty property, by its `Get-TransportRule` name.
    pub properties: Map<String, Value>,
}

/// Why the export could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    #[error("the transport-rule export is not JSON ({0}); export it again with assets/Get-CutoverInventory.ps1")]
    NotJson(String),
    #[error("rule {0} of the transport-rule export has no Name")]
    NoName(usize),
    #[error("the transport-rule export holds neither a rule nor a list of rules")]
    NotRules,
}

/// Reads the script's export: a list of rules, or one rule alone (PowerShell's `ConvertTo-Json` writes a
/// one-item list as the item), with or without the byte-order mark Windows PowerShell writes.
pub fn parse_export(text: &str) -> Result<Vec<SourceRule>, ExportError> {
    let value: Value =
        serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| ExportError::NotJson(e.to_string()))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(_) => vec![value],
        _ => return Err(ExportError::NotRules),
    };
    let mut rules = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(o) = item else { return Err(ExportError::NotRules) };
        let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let name = text("Name").ok_or(ExportError::NoName(i + 1))?.to_owned();
        let enabled = text("State").is_none_or(|s| s.eq_ignore_ascii_case("Enabled"));
        let priority = o
            .get("Priority")
            .and_then(|p| p.as_u64().or_else(|| p.as_str().and_then(|s| s.trim().parse().ok())))
            .and_then(|p| u32::try_from(p).ok());
        let mode = text("Mode").map_or(RuleMode::Enforce, RuleMode::parse);
        let properties = o
            .iter()
            .filter(|(k, v)| !NOT_PARAMETERS.iter().any(|n| n.eq_ignore_ascii_case(k)) && !empty(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        rules.push(SourceRule { name, enabled, priority, mode, properties });
    }
    rules.sort_by_key(|r| r.priority.unwrap_or(u32::MAX));
    Ok(rules)
}

/// A value that sets nothing: null, empty text or list, or `false` (a switch not set).
fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.iter().all(empty),
        _ => false,
    }
}

/// A source rule's fate.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// Every part maps: the parameters of `New-TransportRule` besides `-Name`.
    Create { name: String, parameters: Map<String, Value> },
    /// Some part does not: each such property with its reason.
    Refused { name: String, reasons: Vec<(String, &'static str)> },
}

impl Mapped {
    pub fn name(&self) -> &str {
        match self {
            Mapped::Create { name, .. } | Mapped::Refused { name, .. } => name,
        }
    }
}

/// Maps one source rule: enabled or not and in the mode the source had it.
pub fn map_rule(rule: &SourceRule) -> Mapped {
    let mut parameters = Map::new();
    let mut reasons = Vec::new();
    for (k, v) in &rule.properties {
        match support(k) {
            Support::Same => {
                parameters.insert(k.clone(), v.clone());
            }
            Support::Refused(why) => reasons.push((k.clone(), why)),
        }
    }
    if let RuleMode::Unknown(m) = &rule.mode {
        reasons.push((format!("Mode {m}"), "a mode Exchange Online does not document"));
    }
    if !reasons.is_empty() {
        return Mapped::Refused { name: rule.name.clone(), reasons };
    }
    parameters.insert("Enabled".into(), Value::Bool(rule.enabled));
    parameters.insert("Mode".into(), Value::String(rule.mode.as_str().to_owned()));
    Mapped::Create { name: rule.name.clone(), parameters }
}

/// The source's rules mapped, in the source's priority order (the order they are created in, so Exchange
/// Online gives them the same relative priority).
pub fn map_all(rules: &[SourceRule]) -> Vec<Mapped> {
    rules.iter().map(map_rule).collect()
}

/// One parameter whose value in the tenant is not the source's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub parameter: String,
    pub wanted: String,
    pub found: String,
}

/// How a rule of the tenant (its `Get-TransportRule` object) differs from the parameters wanted; `Enabled` is
/// read from its `State`.
pub fn diff(wanted: &Map<String, Value>, found: &Map<String, Value>) -> Vec<Difference> {
    let lookup = |k: &str| found.iter().find(|(f, _)| f.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
    let mut out = Vec::new();
    for (k, want) in wanted {
        let have = if k == "Enabled" {
            lookup("State").and_then(|s| s.as_str().map(|s| Value::Bool(s.eq_ignore_ascii_case("Enabled"))))
        } else {
            lookup(k)
        };
        let have = have.unwrap_or(Value::Null);
        if normal(want) != normal(&have) {
            out.push(Difference { parameter: k.clone(), wanted: shown(want), found: shown(&have) });
        }
    }
    out
}

/// A value as Exchange compares it: text without regard to case, a list of one the same as its item, a list
/// in any order.
fn normal(v: &Value) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => s.trim().to_ascii_lowercase(),
        other => other.to_string().to_ascii_lowercase(),
    };
    let mut items: Vec<String> = match v {
        Value::Null => Vec::new(),
        Value::Array(a) => a.iter().filter(|v| !empty(v)).map(one).collect(),
        other if empty(other) => Vec::new(),
        other => vec![one(other)],
    };
    items.sort();
    items
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "(not set)".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(shown).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A rule of the tenant: its name and whether it is enabled (`State`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRule {
    pub name: String,
    pub enabled: bool,
}

/// transport-rules-enabled: every rule that maps is in the tenant, enabled when the source had it enabled. The
/// rules that cannot map are named with their reasons (they are recreated by hand), and warn.
pub fn enabled_check(
    mapped: &[Mapped],
    source: &[SourceRule],
    tenant: &[TenantRule],
    now: DateTime<Utc>,
) -> CheckResult {
    if source.is_empty() {
        return CheckResult::new(Outcome::Pass, "The source has no transport rules: nothing to move.", now);
    }
    let mut missing = Vec::new();
    let mut disabled = Vec::new();
    let mut in_place = 0;
    let mut refused = Vec::new();
    for (m, s) in mapped.iter().zip(source) {
        match m {
            Mapped::Refused { name, reasons } => {
                let what: Vec<&str> = reasons.iter().map(|(k, _)| k.as_str()).collect();
                refused.push(format!("{name} ({})", what.join(", ")));
            }
            Mapped::Create { name, .. } => match tenant.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
                None => missing.push(name.clone()),
                Some(t) if s.enabled && !t.enabled => disabled.push(name.clone()),
                Some(_) => in_place += 1,
            },
        }
    }
    let mut parts = Vec::new();
    let outcome = if !missing.is_empty() || !disabled.is_empty() {
        if !missing.is_empty() {
            parts.push(format!("Not in Exchange Online: {} (run Create transport rules).", missing.join(", ")));
        }
        if !disabled.is_empty() {
            parts.push(format!("Disabled in Exchange Online but enabled at the source: {}.", disabled.join(", ")));
        }
        Outcome::Fail
    } else if !refused.is_empty() {
        Outcome::Warn
    } else {
        Outcome::Pass
    };
    parts.insert(
        0,
        format!("{in_place} of {} source rules in Exchange Online, enabled as at the source.", source.len()),
    );
    if !refused.is_empty() {
        parts.push(format!("Not migrated, to recreate by hand: {}.", refused.join("; ")));
    }
    CheckResult::new(outcome, parts.join(" "), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(v: Value) -> SourceRule {
        parse_export(&v.to_string()).expect("export").remove(0)
    }

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn every_supported_condition_and_action_maps_to_its_parameter() {
        let supported = [
            ("SentTo", json!(["ceo@contoso.com"])),
            ("From", json!(["hr@contoso.com"])),
            ("SubjectContainsWords", json!(["confidential"])),
            ("FromScope", json!("NotInOrganization")),
            ("SentToScope", json!("InOrganization")),
            ("AttachmentExtensionMatchesWords", json!(["exe", "js"])),
            ("PrependSubject", json!("[External] ")),
            ("ApplyHtmlDisclaimerText", json!("<p>Confidential</p>")),
            ("ApplyHtmlDisclaimerLocation", json!("Append")),
            ("ApplyHtmlDisclaimerFallbackAction", json!("Wrap")),
            ("RedirectMessageTo", json!(["archive@contoso.com"])),
            ("BlindCopyTo", json!(["audit@contoso.com"])),
            ("RejectMessageReasonText", json!("Not allowed")),
            ("SetSCL", json!("-1")),
            ("DeleteMessage", json!(true)),
            ("ModerateMessageByUser", json!(["boss@contoso.com"])),
            ("ExceptIfFrom", json!(["ceo@contoso.com"])),
        ];
        for (k, v) in supported {
            assert_eq!(support(k), Support::Same, "{k}");
            let r = rule(json!({"Name": "R", "State": "Enabled", "Priority": 0, "Mode": "Enforce", k: v.clone()}));
            let Mapped::Create { parameters, .. } = map_rule(&r) else { panic!("{k} should map") };
            assert_eq!(parameters.get(k), Some(&v), "{k}");
            assert_eq!(parameters["Enabled"], json!(true));
            assert_eq!(parameters["Mode"], json!("Enforce"));
        }
    }

    #[test]
    fn on_premises_only_parts_and_unknown_ones_refuse_the_whole_rule_with_the_reason() {
        for (k, v, says) in [
            ("ApplyRightsProtectionTemplate", json!("Do Not Forward"), "AD RMS"),
            ("LogEventText", json!("seen"), "event log"),
            ("RouteMessageOutboundConnector", json!("Smarthost"), "send connector"),
            ("SmtpRejectMessageRejectText", json!("no"), "Edge"),
            ("ExceptIfHasClassification", json!("Secret"), "classification"),
            ("SomethingNewFromExchange2025", json!("x"), "unknown"),
        ] {
            let r = rule(json!({"Name": "R", "SentTo": ["a@contoso.com"], k: v}));
            let Mapped::Refused { reasons, .. } = map_rule(&r) else { panic!("{k} should refuse") };
            assert_eq!(reasons.len(), 1, "{k}");
            assert_eq!(reasons[0].0, k);
            assert!(reasons[0].1.contains(says), "{k}: {}", reasons[0].1);
        }
        let odd = rule(json!({"Name": "R", "Mode": "Simulate", "SentTo": ["a@contoso.com"]}));
        assert!(matches!(map_rule(&odd), Mapped::Refused { .. }), "an undocumented mode is not guessed");
    }

    #[test]
    fn the_export_is_read_as_powershell_writes_it_and_sorted_by_priority() {
        let text = "\u{feff}[{\"Name\":\"B\",\"State\":\"Disabled\",\"Priority\":\"1\",\"Mode\":\"Audit\",\"Guid\":\"x\",\"Description\":\"If...\",\"LogEventText\":null,\"DeleteMessage\":false,\"PrependSubject\":\"[B] \"},{\"Name\":\"A\",\"Priority\":0,\"SentTo\":[]}]";
        let rules = parse_export(text).expect("export");
        assert_eq!(rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["A", "B"]);
        let b = &rules[1];
        assert!(!b.enabled);
        assert_eq!(b.mode, RuleMode::Audit);
        assert_eq!(b.properties.keys().collect::<Vec<_>>(), ["PrependSubject"], "metadata and empty values dropped");
        let Mapped::Create { parameters, .. } = map_rule(b) else { panic!("maps") };
        assert_eq!((parameters["Enabled"].clone(), parameters["Mode"].clone()), (json!(false), json!("Audit")));
        assert_eq!(parse_export(r#"{"Name":"Only"}"#).expect("one").len(), 1, "a single rule is an object");
        assert_eq!(parse_export(r#"[{"State":"Enabled"}]"#), Err(ExportError::NoName(1)));
        assert!(matches!(parse_export("not json"), Err(ExportError::NotJson(_))));
    }

    #[test]
    fn a_tenant_rule_with_other_settings_is_a_diff_and_case_or_list_shape_is_not() {
        let wanted =
            json!({"PrependSubject": "[External] ", "SentTo": ["CEO@contoso.com"], "Enabled": true, "Mode": "Enforce"});
        let same = json!({"Name": "R", "State": "Enabled", "Mode": "enforce", "PrependSubject": "[External] ", "SentTo": "ceo@contoso.com"});
        let w = wanted.as_object().expect("object");
        assert_eq!(diff(w, same.as_object().expect("object")), vec![]);
        let other = json!({"Name": "R", "State": "Disabled", "Mode": "Enforce", "PrependSubject": "[Ext] "});
        let d = diff(w, other.as_object().expect("object"));
        let params: Vec<&str> = d.iter().map(|x| x.parameter.as_str()).collect();
        assert_eq!(params, ["Enabled", "PrependSubject", "SentTo"]);
        assert_eq!(d[1].found, "[Ext] ");
        assert_eq!(d[2].found, "(not set)");
    }

    #[test]
    fn the_check_fails_on_a_missing_or_disabled_rule_and_warns_on_one_not_migrated() {
        let source = vec![
            rule(json!({"Name": "Disclaimer", "Priority": 0, "ApplyHtmlDisclaimerText": "x"})),
            rule(json!({"Name": "Test", "Priority": 1, "State": "Disabled", "PrependSubject": "[T]"})),
            rule(json!({"Name": "Log", "Priority": 2, "LogEventText": "x"})),
        ];
        let mapped = map_all(&source);
        let on = |n: &str, enabled| TenantRule { name: n.into(), enabled };
        let r = enabled_check(&mapped, &source, &[], now());
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(r.evidence.contains("Not in Exchange Online: Disclaimer, Test"), "{}", r.evidence);
        let r = enabled_check(&mapped, &source, &[on("disclaimer", false), on("Test", false)], now());
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.evidence.contains("Disabled in Exchange Online but enabled at the source: Disclaimer"),
            "{}",
            r.evidence
        );
        let r = enabled_check(&mapped, &source, &[on("Disclaimer", true), on("Test", false)], now());
        assert_eq!(r.outcome, Outcome::Warn, "a rule disabled at the source stays disabled");
        assert!(r.evidence.contains("Not migrated, to recreate by hand: Log (LogEventText)"), "{}", r.evidence);
        assert_eq!(enabled_check(&[], &[], &[], now()).outcome, Outcome::Pass);
    }
}
