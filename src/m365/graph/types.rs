//! Microsoft Graph v1.0 resources as cutover reads them: organization, domain, the domainDnsRecord family,
//! subscribedSku, user, group, orgContact, serviceHealth. Field names follow Microsoft's resource pages; enums keep unknown values.

use crate::secrets::Secret;
use serde::{Deserialize, Serialize};

/// `organization`: what the tenant says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// `true` while directory synchronisation is on; `null` when it was never turned on.
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
    #[serde(default)]
    pub on_premises_last_sync_date_time: Option<String>,
    #[serde(default)]
    pub verified_domains: Vec<VerifiedDomain>,
}

impl Organization {
    pub fn directory_sync_on(&self) -> bool {
        self.on_premises_sync_enabled == Some(true)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedDomain {
    pub name: String,
    #[serde(default)]
    pub is_default: Option<bool>,
    #[serde(default)]
    pub is_initial: Option<bool>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// `domain`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    pub id: String,
    #[serde(default)]
    pub authentication_type: Option<String>,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub is_initial: bool,
    #[serde(default)]
    pub is_root: bool,
    #[serde(default)]
    pub is_verified: bool,
    #[serde(default)]
    pub supported_services: Vec<String>,
}

/// A `domainDnsRecord` and its derived types, told apart by `@odata.type` (or `recordType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    pub id: Option<String>,
    pub label: String,
    pub ttl: Option<u32>,
    pub is_optional: bool,
    /// `Email`, `OfficeCommunicationsOnline`, ... as Graph names it.
    pub supported_service: Option<String>,
    pub data: DnsRecordData,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DnsRecordData {
    Txt {
        text: String,
    },
    Mx {
        mail_exchange: String,
        preference: Option<u16>,
    },
    Cname {
        canonical_name: String,
    },
    Srv {
        name_target: String,
        port: Option<u16>,
        priority: Option<u16>,
        protocol: String,
        service: String,
        weight: Option<u16>,
    },
    Unavailable {
        description: String,
    },
    /// A record type Graph may add later; its JSON is kept.
    Unknown {
        record_type: String,
        raw: serde_json::Value,
    },
}

/// The TXT record among a domain's `verificationDnsRecords`: the `MS=ms…` text the customer publishes to prove
/// they own the domain, and the TTL Graph suggests for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationTxt {
    pub text: String,
    pub ttl: Option<u32>,
}

/// Picks the TXT record out of `verificationDnsRecords` (Graph lists an MX alternative beside it, which no one
/// publishes: an MX record would route mail); None when Graph gave no TXT record.
pub fn verification_txt(records: &[DnsRecord]) -> Option<VerificationTxt> {
    records.iter().find_map(|r| match &r.data {
        DnsRecordData::Txt { text } => Some(VerificationTxt { text: text.clone(), ttl: r.ttl }),
        _ => None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDnsRecord {
    #[serde(rename = "@odata.type", default)]
    odata_type: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    label: String,
    #[serde(default)]
    ttl: Option<u32>,
    #[serde(default)]
    is_optional: bool,
    #[serde(default)]
    record_type: Option<String>,
    #[serde(default)]
    supported_service: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    mail_exchange: Option<String>,
    #[serde(default)]
    preference: Option<u16>,
    #[serde(default)]
    canonical_name: Option<String>,
    #[serde(default)]
    name_target: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    priority: Option<u16>,
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    weight: Option<u16>,
    #[serde(default)]
    description: Option<String>,
}

impl DnsRecord {
    /// Reads one record; a missing field of a known type is an error, an unknown type is kept as is.
    pub fn from_json(value: serde_json::Value) -> Result<DnsRecord, String> {
        let raw: RawDnsRecord = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        let kind = raw
            .odata_type
            .as_deref()
            .and_then(|t| t.strip_prefix("#microsoft.graph.domainDns"))
            .and_then(|t| t.strip_suffix("Record"))
            .map(str::to_ascii_lowercase)
            .or_else(|| raw.record_type.as_deref().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let need = |v: Option<String>, field: &str| v.ok_or_else(|| format!("a {kind} record without {field}"));
        let data = match kind.as_str() {
            "txt" => DnsRecordData::Txt { text: need(raw.text, "text")? },
            "mx" => DnsRecordData::Mx {
                mail_exchange: need(raw.mail_exchange, "mailExchange")?,
                preference: raw.preference,
            },
            "cname" => DnsRecordData::Cname { canonical_name: need(raw.canonical_name, "canonicalName")? },
            "srv" => DnsRecordData::Srv {
                name_target: need(raw.name_target, "nameTarget")?,
                port: raw.port,
                priority: raw.priority,
                protocol: raw.protocol.unwrap_or_default(),
                service: raw.service.unwrap_or_default(),
                weight: raw.weight,
            },
            "unavailable" => DnsRecordData::Unavailable { description: raw.description.unwrap_or_default() },
            other => DnsRecordData::Unknown { record_type: other.to_owned(), raw: value },
        };
        Ok(DnsRecord {
            id: raw.id,
            label: raw.label,
            ttl: raw.ttl,
            is_optional: raw.is_optional,
            supported_service: raw.supported_service,
            data,
        })
    }
}

/// `subscribedSku`: a licence the tenant bought, and how many are used.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    #[serde(default)]
    pub id: Option<String>,
    pub sku_id: String,
    #[serde(default)]
    pub sku_part_number: String,
    #[serde(default)]
    pub capability_status: Option<String>,
    #[serde(default)]
    pub applies_to: Option<String>,
    #[serde(default)]
    pub consumed_units: u32,
    #[serde(default)]
    pub prepaid_units: PrepaidUnits,
    #[serde(default)]
    pub service_plans: Vec<ServicePlan>,
}

impl SubscribedSku {
    /// Licences still free: enabled minus consumed (never negative).
    pub fn available(&self) -> u32 {
        self.prepaid_units.enabled.saturating_sub(self.consumed_units)
    }

    /// Whether the SKU carries an Exchange Online mailbox plan.
    pub fn includes_exchange(&self) -> bool {
        self.service_plans.iter().any(|p| p.service_plan_name.starts_with("EXCHANGE_S_"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrepaidUnits {
    #[serde(default)]
    pub enabled: u32,
    #[serde(default)]
    pub suspended: u32,
    #[serde(default)]
    pub warning: u32,
    #[serde(default)]
    pub locked_out: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    #[serde(default)]
    pub service_plan_id: Option<String>,
    #[serde(default)]
    pub service_plan_name: String,
    #[serde(default)]
    pub provisioning_status: Option<String>,
}

/// `user`, with the properties cutover asks for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub user_principal_name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub proxy_addresses: Vec<String>,
    #[serde(default)]
    pub usage_location: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub assigned_licenses: Vec<AssignedLicense>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    pub sku_id: String,
    #[serde(default)]
    pub disabled_plans: Vec<String>,
}

/// `null` or absent as an empty list: Graph's collections are "not nullable" on paper, yet `null` turns up.
fn null_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// One value of a group's `groupTypes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum GroupType {
    /// A Microsoft 365 group.
    Unified,
    /// Membership from a rule.
    DynamicMembership,
    Unknown(String),
}

impl<'de> Deserialize<'de> for GroupType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "Unified" => GroupType::Unified,
            "DynamicMembership" => GroupType::DynamicMembership,
            _ => GroupType::Unknown(s),
        })
    }
}

/// `group`, with the properties that tell its flavour and the addresses it holds. Microsoft 365 groups,
/// security groups, mail-enabled security groups and distribution groups all list here (dynamic distribution
/// groups do not: Graph does not show them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub security_enabled: Option<bool>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub group_types: Vec<GroupType>,
    /// `SMTP:` primary, `smtp:` secondary, and other types (`SPO:`, `X500:`) that are not mail addresses.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub proxy_addresses: Vec<String>,
}

impl Group {
    pub fn is_unified(&self) -> bool {
        self.group_types.contains(&GroupType::Unified)
    }
}

/// `orgContact`: an organizational contact (an Exchange mail contact or one synced from on-premises).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgContact {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub proxy_addresses: Vec<String>,
}

/// What `create_user` needs. The password is a secret: it goes to Graph and nowhere else.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_principal_name: String,
    pub display_name: String,
    pub mail_nickname: String,
    pub usage_location: Option<String>,
    pub password: Secret,
    pub force_change_password: bool,
}

/// The state of a service in `serviceHealth.status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum HealthStatus {
    ServiceOperational,
    Investigating,
    RestoringService,
    VerifyingService,
    ServiceRestored,
    PostIncidentReviewPublished,
    ServiceDegradation,
    ServiceInterruption,
    ExtendedRecovery,
    FalsePositive,
    InvestigationSuspended,
    Resolved,
    MitigatedExternal,
    Mitigated,
    ResolvedExternal,
    Confirmed,
    Reported,
    Unknown(String),
}

impl HealthStatus {
    pub fn parse(s: &str) -> HealthStatus {
        use HealthStatus::*;
        match s {
            "serviceOperational" => ServiceOperational,
            "investigating" => Investigating,
            "restoringService" => RestoringService,
            "verifyingService" => VerifyingService,
            "serviceRestored" => ServiceRestored,
            "postIncidentReviewPublished" => PostIncidentReviewPublished,
            "serviceDegradation" => ServiceDegradation,
            "serviceInterruption" => ServiceInterruption,
            "extendedRecovery" => ExtendedRecovery,
            "falsePositive" => FalsePositive,
            "investigationSuspended" => InvestigationSuspended,
            "resolved" => Resolved,
            "mitigatedExternal" => MitigatedExternal,
            "mitigated" => Mitigated,
            "resolvedExternal" => ResolvedExternal,
            "confirmed" => Confirmed,
            "reported" => Reported,
            other => Unknown(other.to_owned()),
        }
    }

    /// Healthy enough that nothing needs watching.
    pub fn is_healthy(&self) -> bool {
        matches!(
            self,
            HealthStatus::ServiceOperational
                | HealthStatus::ServiceRestored
                | HealthStatus::PostIncidentReviewPublished
                | HealthStatus::FalsePositive
                | HealthStatus::Resolved
                | HealthStatus::ResolvedExternal
        )
    }
}

impl<'de> Deserialize<'de> for HealthStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(HealthStatus::parse(&String::deserialize(d)?))
    }
}

/// `serviceHealth`, one per service.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceHealth {
    pub id: String,
    #[serde(default)]
    pub service: String,
    pub status: HealthStatus,
}

/// `serviceHealthClassificationType`: what kind of issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum IssueClassification {
    Incident,
    Advisory,
    Unknown(String),
}

impl<'de> Deserialize<'de> for IssueClassification {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "incident" => IssueClassification::Incident,
            "advisory" => IssueClassification::Advisory,
            _ => IssueClassification::Unknown(s),
        })
    }
}

/// `serviceHealthIssue`: an incident or advisory of a service, with the properties cutover shows.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceHealthIssue {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub impact_description: String,
    pub classification: IssueClassification,
    pub status: HealthStatus,
    #[serde(default)]
    pub is_resolved: bool,
    #[serde(default)]
    pub start_date_time: Option<chrono::DateTime<chrono::Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_organization_is_read() {
        let body = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#organization","value":[{"assignedPlans":[],"businessPhones":["8006427676"],"city":"Redmond","country":null,"countryLetterCode":"US","displayName":"Contoso","id":"84841066-274d-4ec0-a5c1-276be684bdd3","onPremisesLastSyncDateTime":null,"onPremisesSyncEnabled":null,"verifiedDomains":[{"capabilities":"Email, OfficeCommunicationsOnline","isDefault":true,"isInitial":false,"name":"contoso.com","type":"Managed"}]}]}"#;
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        let org: Organization = serde_json::from_value(v["value"][0].clone()).expect("org");
        assert_eq!(org.on_premises_sync_enabled, None);
        assert!(!org.directory_sync_on());
        assert_eq!(org.verified_domains[0].name, "contoso.com");
    }

    #[test]
    fn the_documented_dns_records_are_read() {
        let body = r##"{"value":[{"@odata.type":"#microsoft.graph.domainDnsTxtRecord","isOptional":false,"label":"contoso.com","recordType":"Txt","supportedService":null,"ttl":3600,"text":"MS=ms12345678"},{"@odata.type":"#microsoft.graph.domainDnsMxRecord","isOptional":false,"label":"contoso.com","recordType":"Mx","supportedService":"Email","ttl":3600,"mailExchange":"contoso-com.mail.protection.outlook.com","preference":0},{"@odata.type":"#microsoft.graph.domainDnsCnameRecord","isOptional":false,"label":"autodiscover.contoso.com","recordType":"CName","supportedService":"Email","ttl":3600,"canonicalName":"autodiscover.outlook.com"},{"@odata.type":"#microsoft.graph.domainDnsSrvRecord","isOptional":false,"label":"contoso.com","recordType":"Srv","supportedService":"OfficeCommunicationsOnline","ttl":3600,"nameTarget":"sipdir.online.lync.com","port":443,"priority":100,"protocol":"_tls","service":"_sip","weight":1},{"@odata.type":"#microsoft.graph.domainDnsNewRecord","label":"x","ttl":1}]}"##;
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        let records: Vec<DnsRecord> = v["value"]
            .as_array()
            .expect("list")
            .iter()
            .map(|r| DnsRecord::from_json(r.clone()).expect("record"))
            .collect();
        assert_eq!(records[0].data, DnsRecordData::Txt { text: "MS=ms12345678".into() });
        assert_eq!(
            records[1].data,
            DnsRecordData::Mx { mail_exchange: "contoso-com.mail.protection.outlook.com".into(), preference: Some(0) }
        );
        assert_eq!(records[2].data, DnsRecordData::Cname { canonical_name: "autodiscover.outlook.com".into() });
        assert!(matches!(records[3].data, DnsRecordData::Srv { port: Some(443), .. }));
        assert!(matches!(&records[4].data, DnsRecordData::Unknown { record_type, .. } if record_type == "new"));
        assert!(
            DnsRecord::from_json(
                serde_json::json!({"@odata.type": "#microsoft.graph.domainDnsTxtRecord", "label": "a"})
            )
            .is_err()
        );
    }

    #[test]
    fn the_verification_text_is_the_txt_record_whichever_comes_first() {
        let record = |data: DnsRecordData, ttl| DnsRecord {
            id: None,
            label: "contoso.com".into(),
            ttl,
            is_optional: false,
            supported_service: None,
            data,
        };
        let mx = record(
            DnsRecordData::Mx { mail_exchange: "ms12345678.msv1.invalid".into(), preference: Some(32767) },
            Some(3600),
        );
        let txt = record(DnsRecordData::Txt { text: "MS=ms12345678".into() }, Some(3600));
        assert_eq!(
            verification_txt(&[mx.clone(), txt]),
            Some(VerificationTxt { text: "MS=ms12345678".into(), ttl: Some(3600) })
        );
        assert_eq!(verification_txt(&[mx]), None);
        assert_eq!(verification_txt(&[]), None);
    }

    #[test]
    fn the_documented_subscribed_sku_is_read() {
        let body = r#"{"capabilityStatus":"Enabled","consumedUnits":14,"id":"48a80680-7326-48cd-9935-b556b81d3a4e_c7df2760-2c81-4ef7-b578-5b5392b571df","prepaidUnits":{"enabled":25,"suspended":0,"warning":0,"lockedOut":0},"servicePlans":[{"servicePlanId":"8c098270-9dd4-4350-9b30-ba4703f3b36b","servicePlanName":"ADALLOM_S_O365","provisioningStatus":"Success","appliesTo":"User"},{"servicePlanId":"efb87545-963c-4e0d-99df-69c6916d9eb0","servicePlanName":"EXCHANGE_S_ENTERPRISE","provisioningStatus":"Success","appliesTo":"User"}],"skuId":"c7df2760-2c81-4ef7-b578-5b5392b571df","skuPartNumber":"ENTERPRISEPREMIUM","appliesTo":"User"}"#;
        let sku: SubscribedSku = serde_json::from_str(body).expect("sku");
        assert_eq!(sku.available(), 11);
        assert!(sku.includes_exchange());
    }

    #[test]
    fn the_documented_issue_is_read_with_unknown_classifications_kept() {
        let body = r#"{"startDateTime":"2020-11-12T17:00:00Z","endDateTime":null,"lastModifiedDateTime":"2020-11-13T08:59:00Z","title":"Users may be unable to receive email","id":"EX226574","impactDescription":"Users may be unable to receive email from external senders.","classification":"incident","origin":"microsoft","status":"serviceDegradation","service":"Exchange Online","feature":"E-Mail and calendar access","featureGroup":"E-Mail and calendar access","isResolved":false,"details":[],"posts":[]}"#;
        let issue: ServiceHealthIssue = serde_json::from_str(body).expect("issue");
        assert_eq!(issue.classification, IssueClassification::Incident);
        assert_eq!(issue.status, HealthStatus::ServiceDegradation);
        assert!(!issue.is_resolved);
        let odd: ServiceHealthIssue =
            serde_json::from_str(r#"{"id":"X","classification":"unknownFutureValue","status":"reported"}"#)
                .expect("odd");
        assert_eq!(odd.classification, IssueClassification::Unknown("unknownFutureValue".into()));
    }

    #[test]
    fn health_states_keep_unknown_values() {
        let h: ServiceHealth =
            serde_json::from_str(r#"{"service":"Exchange Online","status":"serviceDegradation","id":"Exchange"}"#)
                .expect("health");
        assert_eq!(h.status, HealthStatus::ServiceDegradation);
        assert!(!h.status.is_healthy());
        assert_eq!(HealthStatus::parse("somethingNew"), HealthStatus::Unknown("somethingNew".into()));
        assert!(HealthStatus::parse("serviceOperational").is_healthy());
    }

    #[test]
    fn the_documented_groups_are_read() {
        // The shapes of Microsoft's List groups answer: a Microsoft 365 group with SMTP and SPO proxy
        // addresses, a security group whose mail is null, and a distribution list.
        let body = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#groups","value":[
            {"id":"02bd9fd6-8f93-4758-87c3-1fb73740a315","deletedDateTime":null,"classification":null,"createdDateTime":"2017-07-31T18:56:16Z","creationOptions":["ExchangeProvisioningFlags:481"],"description":"Welcome to the HR Taskforce team.","displayName":"HR Taskforce","expirationDateTime":null,"groupTypes":["Unified"],"isAssignableToRole":null,"mail":"HRTaskforce@contoso.com","mailEnabled":true,"mailNickname":"HRTaskforce","membershipRule":null,"membershipRuleProcessingState":null,"onPremisesSyncEnabled":null,"proxyAddresses":["SPO:SPO_896cf652-b200-4b74-8111-c013f64406cf@SPO_dcd219dd-bc68-4b9b-bf0b-4a33a796be35","SMTP:HRTaskforce@contoso.com"],"renewedDateTime":"2020-01-24T19:01:14Z","resourceBehaviorOptions":[],"resourceProvisioningOptions":["Team"],"securityEnabled":false,"securityIdentifier":"S-1-12-1-45981654-1196986259-3072312199-363020343","theme":null,"visibility":"Private"},
            {"id":"8090c93e-ba7c-433e-9f39-08c7ba07c0b3","displayName":"Sales Security","groupTypes":[],"mail":null,"mailEnabled":false,"mailNickname":"00000000-0000-0000-0000-000000000000","proxyAddresses":[],"securityEnabled":true},
            {"id":"4d6e3b58-7a2b-4f6a-8c1e-9b0d2f3a4c5e","displayName":"All Staff","groupTypes":null,"mail":"allstaff@contoso.com","mailEnabled":true,"proxyAddresses":["SMTP:allstaff@contoso.com","smtp:everyone@contoso.com"],"securityEnabled":false}
        ]}"#;
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        let groups: Vec<Group> = serde_json::from_value(v["value"].clone()).expect("groups");
        assert!(groups[0].is_unified());
        assert_eq!(groups[0].proxy_addresses.len(), 2);
        assert_eq!(groups[1].mail, None);
        assert_eq!(groups[1].security_enabled, Some(true));
        assert!(!groups[2].is_unified() && groups[2].group_types.is_empty());
        assert_eq!(groups[2].proxy_addresses[1], "smtp:everyone@contoso.com");
        let dynamic: Group =
            serde_json::from_str(r#"{"id":"x","groupTypes":["DynamicMembership","SomethingNew"]}"#).expect("group");
        assert_eq!(dynamic.group_types, vec![GroupType::DynamicMembership, GroupType::Unknown("SomethingNew".into())]);
    }

    #[test]
    fn the_documented_org_contacts_are_read() {
        // The shape of Microsoft's List orgContacts answer, with the properties cutover does not ask for too.
        let body = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#contacts","value":[
            {"id":"25caf6a2-d5cb-470d-8940-20ba795ef62d","companyName":"Contoso","department":"Marketing","displayName":"Eric Solomon","givenName":"Eric","jobTitle":"Marketing Manager","mail":"eric@fabrikam.com","mailNickname":"ericsolomon","surname":"Solomon","addresses":[{"city":"Seattle","countryOrRegion":"United States","officeLocation":"23/1234","postalCode":"98121","state":"WA","street":"1234 First Ave"}],"phones":[{"number":"1234567890","type":"businessFax"},{"number":null,"type":"mobile"}],"proxyAddresses":["SMTP:eric@fabrikam.com"],"onPremisesSyncEnabled":null},
            {"id":"e6a3c5f1-0b2d-4c8e-9f7a-1d3b5c7e9a0b","displayName":"No Mail","mail":null,"proxyAddresses":null}
        ]}"#;
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        let contacts: Vec<OrgContact> = serde_json::from_value(v["value"].clone()).expect("contacts");
        assert_eq!(contacts[0].mail.as_deref(), Some("eric@fabrikam.com"));
        assert_eq!(contacts[0].proxy_addresses, vec!["SMTP:eric@fabrikam.com".to_owned()]);
        assert_eq!(contacts[1].display_name.as_deref(), Some("No Mail"));
        assert!(contacts[1].proxy_addresses.is_empty());
    }
}
