//! Microsoft Graph v1.0: the calls the stages make (organization, domains and their DNS records, subscribed SKUs,
//! users and licences, service health), typed after Microsoft's resource pages. Unknown enum values are kept.

use super::error::{M365Error, Service};
use super::http::{Request, Session};
use crate::secrets::Secret;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use url::Url;

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

const USER_SELECT: &str =
    "id,userPrincipalName,displayName,mail,proxyAddresses,usageLocation,accountEnabled,assignedLicenses";

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

/// The Graph client of one tenant.
#[derive(Clone)]
pub struct GraphClient {
    session: Session,
    root: Url,
}

impl GraphClient {
    /// `session` must be bound to [`super::Resource::Graph`].
    pub fn new(session: Session, graph_root: &Url) -> Result<GraphClient, M365Error> {
        Ok(GraphClient { root: super::auth::join(graph_root, "v1.0/")?, session })
    }

    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.root.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    fn get(&self, segments: &[&str], query: &[(&str, &str)], permission: &'static str) -> Request {
        Request::new(Service::Graph, Method::GET, self.url(segments, query)).permission(permission)
    }

    async fn list<T: serde::de::DeserializeOwned>(&self, req: Request) -> Result<Vec<T>, M365Error> {
        let what = format!("{} {}", req.method, req.url.path());
        let listing = self.session.collect(req).await?;
        listing
            .items
            .into_iter()
            .map(|v| {
                serde_json::from_value(v).map_err(|e| M365Error::Malformed {
                    service: Service::Graph,
                    what: what.clone(),
                    detail: e.to_string(),
                    request_id: "-".into(),
                })
            })
            .collect()
    }

    /// `GET /organization`: the tenant, with `onPremisesSyncEnabled`.
    pub async fn organization(&self) -> Result<Organization, M365Error> {
        let req = self.get(
            &["organization"],
            &[("$select", "id,displayName,onPremisesSyncEnabled,onPremisesLastSyncDateTime,verifiedDomains")],
            "Organization.Read.All",
        );
        let mut orgs: Vec<Organization> = self.list(req).await?;
        if orgs.is_empty() {
            return Err(M365Error::Malformed {
                service: Service::Graph,
                what: "GET /organization".into(),
                detail: "no organization in the answer".into(),
                request_id: "-".into(),
            });
        }
        Ok(orgs.swap_remove(0))
    }

    pub async fn domains(&self) -> Result<Vec<Domain>, M365Error> {
        self.list(self.get(&["domains"], &[], "Domain.Read.All")).await
    }

    /// `GET /domains/{id}`; `None` when the tenant does not have it.
    pub async fn domain(&self, name: &str) -> Result<Option<Domain>, M365Error> {
        match self.session.send(&self.get(&["domains", name], &[], "Domain.Read.All")).await {
            Ok(r) => r.json().map(Some),
            Err(M365Error::Api(e)) if e.status == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /domains`. Adding a domain the tenant already has is not repeated: the existing one is returned.
    pub async fn add_domain(&self, name: &str) -> Result<Domain, M365Error> {
        if let Some(existing) = self.domain(name).await? {
            return Ok(existing);
        }
        let req = Request::new(Service::Graph, Method::POST, self.url(&["domains"], &[]))
            .json(json!({ "id": name }))
            .permission("Domain.ReadWrite.All");
        self.session.send(&req).await?.json()
    }

    /// `GET /domains/{id}/verificationDnsRecords`: the TXT (or MX) record proving ownership.
    pub async fn verification_records(&self, name: &str) -> Result<Vec<DnsRecord>, M365Error> {
        self.records(name, "verificationDnsRecords").await
    }

    /// `GET /domains/{id}/serviceConfigurationRecords`: MX, Autodiscover CNAME, SPF and the rest to publish.
    pub async fn service_configuration_records(&self, name: &str) -> Result<Vec<DnsRecord>, M365Error> {
        self.records(name, "serviceConfigurationRecords").await
    }

    async fn records(&self, name: &str, leaf: &str) -> Result<Vec<DnsRecord>, M365Error> {
        let req = self.get(&["domains", name, leaf], &[], "Domain.Read.All");
        let what = format!("GET /domains/{name}/{leaf}");
        let listing = self.session.collect(req).await?;
        listing
            .items
            .into_iter()
            .map(|v| {
                DnsRecord::from_json(v).map_err(|detail| M365Error::Malformed {
                    service: Service::Graph,
                    what: what.clone(),
                    detail,
                    request_id: "-".into(),
                })
            })
            .collect()
    }

    /// `POST /domains/{id}/verify`. Graph answers 400 while the record is not yet visible to it.
    pub async fn verify_domain(&self, name: &str) -> Result<Domain, M365Error> {
        let req = Request::new(Service::Graph, Method::POST, self.url(&["domains", name, "verify"], &[]))
            .idempotent(true)
            .permission("Domain.ReadWrite.All");
        self.session.send(&req).await?.json()
    }

    /// `GET /subscribedSkus`.
    pub async fn subscribed_skus(&self) -> Result<Vec<SubscribedSku>, M365Error> {
        self.list(self.get(&["subscribedSkus"], &[], "Organization.Read.All")).await
    }

    /// `GET /users` (all pages).
    pub async fn users(&self) -> Result<Vec<User>, M365Error> {
        self.list(self.get(&["users"], &[("$select", USER_SELECT), ("$top", "999")], "User.Read.All")).await
    }

    /// The user whose UPN is `upn`, if any.
    pub async fn user_by_upn(&self, upn: &str) -> Result<Option<User>, M365Error> {
        let filter = format!("userPrincipalName eq '{}'", odata_quote(upn));
        let req = self.get(&["users"], &[("$filter", &filter), ("$select", USER_SELECT)], "User.Read.All");
        Ok(self.list(req).await?.into_iter().next())
    }

    /// Users holding `address` as a proxy address (`smtp:` in any case is matched as Graph stores it).
    pub async fn users_by_proxy_address(&self, address: &str) -> Result<Vec<User>, M365Error> {
        let address = if address.contains(':') { address.to_owned() } else { format!("smtp:{address}") };
        let filter = format!("proxyAddresses/any(x:x eq '{}')", odata_quote(&address));
        self.list(self.get(&["users"], &[("$filter", &filter), ("$select", USER_SELECT)], "User.Read.All")).await
    }

    /// `POST /users`. A user whose UPN exists already is returned as is, not created twice.
    pub async fn create_user(&self, user: &NewUser) -> Result<User, M365Error> {
        if let Some(existing) = self.user_by_upn(&user.user_principal_name).await? {
            return Ok(existing);
        }
        let mut body = json!({
            "accountEnabled": true,
            "displayName": user.display_name,
            "mailNickname": user.mail_nickname,
            "userPrincipalName": user.user_principal_name,
            "passwordProfile": {
                "forceChangePasswordNextSignIn": user.force_change_password,
                "password": user.password.expose(),
            },
        });
        if let Some(loc) = &user.usage_location {
            body["usageLocation"] = json!(loc);
        }
        let req = Request::new(Service::Graph, Method::POST, self.url(&["users"], &[]))
            .json(body)
            .permission("User.ReadWrite.All");
        self.session.send(&req).await?.json()
    }

    /// `PATCH /users/{id}` with `usageLocation` (a two-letter country code, needed before a licence).
    pub async fn set_usage_location(&self, user_id: &str, country: &str) -> Result<(), M365Error> {
        let req = Request::new(Service::Graph, Method::PATCH, self.url(&["users", user_id], &[]))
            .json(json!({ "usageLocation": country }))
            .idempotent(true)
            .permission("User.ReadWrite.All");
        self.session.send(&req).await.map(|_| ())
    }

    /// `POST /users/{id}/assignLicense`. Assigning a licence the user holds changes nothing, so it is safe again.
    pub async fn assign_license(&self, user_id: &str, sku_id: &str) -> Result<User, M365Error> {
        let req = Request::new(Service::Graph, Method::POST, self.url(&["users", user_id, "assignLicense"], &[]))
            .json(json!({ "addLicenses": [{ "disabledPlans": [], "skuId": sku_id }], "removeLicenses": [] }))
            .idempotent(true)
            .permission("LicenseAssignment.ReadWrite.All");
        self.session.send(&req).await?.json()
    }

    /// `GET /admin/serviceAnnouncement/healthOverviews`.
    pub async fn health_overviews(&self) -> Result<Vec<ServiceHealth>, M365Error> {
        self.list(self.get(&["admin", "serviceAnnouncement", "healthOverviews"], &[], "ServiceHealth.Read.All")).await
    }
}

/// Doubles single quotes, OData's escape inside a string literal.
fn odata_quote(s: &str) -> String {
    s.replace('\'', "''")
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

    #[test]
    fn urls_escape_names_and_filters() {
        assert_eq!(odata_quote("o'brien@contoso.com"), "o''brien@contoso.com");
        let user: User = serde_json::from_str(
            r#"{"id":"87d349ed-44d7-43e1-9a83-5f2406dee5bd","userPrincipalName":"AdeleV@contoso.com","proxyAddresses":["SMTP:AdeleV@contoso.com"],"usageLocation":"US","assignedLicenses":[{"disabledPlans":[],"skuId":"c7df2760-2c81-4ef7-b578-5b5392b571df"}]}"#,
        )
        .expect("user");
        assert_eq!(user.assigned_licenses.len(), 1);
    }
}
