//! Microsoft Graph v1.0: the calls the stages make (organization, domains and their DNS records, subscribed SKUs,
//! users and licences, groups and organizational contacts, service health). The resources are in [`types`].

pub mod types;

use super::error::{M365Error, Service};
use super::http::{Request, Session};
use reqwest::Method;
use serde_json::json;
pub use types::{
    AssignedLicense, DnsRecord, DnsRecordData, Domain, Group, GroupType, HealthStatus, IssueClassification, NewUser,
    OrgContact, Organization, PrepaidUnits, ServiceHealth, ServiceHealthIssue, ServicePlan, SubscribedSku, User,
    VerificationTxt, VerifiedDomain, verification_txt,
};
use url::Url;

const USER_SELECT: &str =
    "id,userPrincipalName,displayName,mail,proxyAddresses,usageLocation,accountEnabled,assignedLicenses";
const GROUP_SELECT: &str = "id,displayName,mail,proxyAddresses,mailEnabled,securityEnabled,groupTypes";
const CONTACT_SELECT: &str = "id,displayName,mail,proxyAddresses";

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

    /// `GET /groups` (all pages): every group but dynamic distribution groups, which Graph does not show.
    pub async fn groups(&self) -> Result<Vec<Group>, M365Error> {
        self.list(self.get(&["groups"], &[("$select", GROUP_SELECT), ("$top", "999")], "GroupMember.Read.All")).await
    }

    /// `GET /contacts` (all pages): the organizational contacts.
    pub async fn org_contacts(&self) -> Result<Vec<OrgContact>, M365Error> {
        self.list(self.get(&["contacts"], &[("$select", CONTACT_SELECT), ("$top", "999")], "OrgContact.Read.All")).await
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

    /// Microsoft's clock, as the answers' `Date` tells it.
    pub fn clock(&self) -> &std::sync::Arc<crate::m365::http::ServiceClock> {
        self.session.http.clock()
    }

    /// `POST /users/{from}/sendMail`: a plain-text message to one recipient, not kept in Sent Items. Graph
    /// answers 202 with no body once it has accepted the message. Sending again sends another message, so it is
    /// not retried on its own.
    pub async fn send_mail(&self, from: &str, to: &str, subject: &str, text: &str) -> Result<(), M365Error> {
        let body = json!({
            "message": {
                "subject": subject,
                "body": { "contentType": "Text", "content": text },
                "toRecipients": [{ "emailAddress": { "address": to } }],
            },
            "saveToSentItems": false,
        });
        let req = Request::new(Service::Graph, Method::POST, self.url(&["users", from, "sendMail"], &[]))
            .json(body)
            .idempotent(false)
            .permission("Mail.Send");
        self.session.send(&req).await.map(|_| ())
    }

    /// `GET /admin/serviceAnnouncement/healthOverviews`.
    pub async fn health_overviews(&self) -> Result<Vec<ServiceHealth>, M365Error> {
        self.list(self.get(&["admin", "serviceAnnouncement", "healthOverviews"], &[], "ServiceHealth.Read.All")).await
    }

    /// `GET /admin/serviceAnnouncement/issues` of one service that are not resolved yet.
    pub async fn open_issues(&self, service: &str) -> Result<Vec<ServiceHealthIssue>, M365Error> {
        let filter = format!("service eq '{}' and isResolved eq false", odata_quote(service));
        let req =
            self.get(&["admin", "serviceAnnouncement", "issues"], &[("$filter", &filter)], "ServiceHealth.Read.All");
        self.list(req).await
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
    fn urls_escape_names_and_filters() {
        assert_eq!(odata_quote("o'brien@contoso.com"), "o''brien@contoso.com");
        let user: User = serde_json::from_str(
            r#"{"id":"87d349ed-44d7-43e1-9a83-5f2406dee5bd","userPrincipalName":"AdeleV@contoso.com","proxyAddresses":["SMTP:AdeleV@contoso.com"],"usageLocation":"US","assignedLicenses":[{"disabledPlans":[],"skuId":"c7df2760-2c81-4ef7-b578-5b5392b571df"}]}"#,
        )
        .expect("user");
        assert_eq!(user.assigned_licenses.len(), 1);
    }
}
