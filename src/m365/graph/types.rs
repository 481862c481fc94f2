//! Microsoft Graph v1.0 resources as cutover reads them: organization, domain, the domainDnsRecord family,
//! subscribedSku, user, serviceHealth. Field names follow Microsoft's resource pages; enums keep unknown values.

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
    fn the_documented_subscribed_sku_is_read() {
        let body = r#"{"capabilityStatus":"Enabled","consumedUnits":14,"id":"48a80680-7326-48cd-9935-b556b81d3a4e_c7df2760-2c81-4ef7-b578-5b5392b571df","prepaidUnits":{"enabled":25,"suspended":0,"warning":0,"lockedOut":0},"servicePlans":[{"servicePlanId":"8c098270-9dd4-4350-9b30-ba4703f3b36b","servicePlanName":"ADALLOM_S_O365","provisioningStatus":"Success","appliesTo":"User"},{"servicePlanId":"efb87545-963c-4e0d-99df-69c6916d9eb0","servicePlanName":"EXCHANGE_S_ENTERPRISE","provisioningStatus":"Success","appliesTo":"User"}],"skuId":"c7df2760-2c81-4ef7-b578-5b5392b571df","skuPartNumber":"ENTERPRISEPREMIUM","appliesTo":"User"}"#;
        let sku: SubscribedSku = serde_json::from_str(body).expect("sku");
        assert_eq!(sku.available(), 11);
        assert!(sku.includes_exchange());
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
}
