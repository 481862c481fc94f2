//! Exchange Online through its admin REST endpoint (what the Exchange Online PowerShell module uses):
//! `POST {exo}/adminapi/beta/{tenant}/InvokeCommand` with `{"CmdletInput":{"CmdletName","Parameters"}}`, and typed
//! wrappers for the cmdlets the stages run. Lists ask for `ResultSize=Unlimited` and follow every page; warnings
//! from `@adminapi.warnings` are returned with the results.

pub mod types;
pub mod values;

use super::error::{M365Error, Service};
use super::http::{Request, Session};
use crate::secrets::Secret;
use reqwest::Method;
use serde_json::{Map, Value, json};
pub use types::{
    AcceptedDomain, AvailabilityTest, Mailbox, MessageTrace, MigrationBatch, MigrationEndpoint, MigrationUser,
    MigrationUserStatistics, NamedSetting, RecipientPermission, SkippedItem, TraceStatus,
};
use url::Url;
pub use values::{BatchStatus, ExSize, SkippedItemKind, UserStatus};

/// The anchor Exchange routes app-only admin calls by.
const SYSTEM_MAILBOX: &str = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}";

/// Results of one cmdlet, with its warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Output<T> {
    pub items: Vec<T>,
    pub warnings: Vec<String>,
}

/// The Exchange Online client of one tenant.
#[derive(Clone)]
pub struct ExoClient {
    session: Session,
    url: Url,
    tenant: String,
}

impl ExoClient {
    /// `session` must be bound to [`super::Resource::ExchangeOnline`].
    pub fn new(session: Session, exo_root: &Url, tenant: &str) -> Result<ExoClient, M365Error> {
        let url = super::auth::join(exo_root, &format!("adminapi/beta/{}/InvokeCommand", tenant.trim()))?;
        Ok(ExoClient { session, url, tenant: tenant.trim().to_owned() })
    }

    /// Exchange Online's clock, as its answers tell it: its timestamps are on it.
    pub fn clock(&self) -> &std::sync::Arc<crate::m365::http::ServiceClock> {
        self.session.http.clock()
    }

    /// `UPN:<admin>` for a user's sign-in, the organisation's system mailbox for an app's.
    fn anchor(&self) -> String {
        match self.session.tokens.account() {
            Some(upn) => format!("UPN:{upn}"),
            None => format!("APP:{SYSTEM_MAILBOX}@{}", self.tenant),
        }
    }

    /// Runs a cmdlet and gathers every page. `read_only` cmdlets are retried on transient faults; others only
    /// when Exchange refused them unread (429, 503 with Retry-After).
    pub async fn invoke(&self, cmdlet: &str, parameters: Value, read_only: bool) -> Result<Output<Value>, M365Error> {
        let body = json!({ "CmdletInput": { "CmdletName": cmdlet, "Parameters": parameters } });
        let req = Request::new(Service::ExchangeOnline, Method::POST, self.url.clone())
            .header("X-CmdletName", cmdlet)
            .header("X-ResponseFormat", "json")
            .header("X-ClientApplication", "cutover")
            .header("X-AnchorMailbox", self.anchor())
            .header("Prefer", "odata.maxpagesize=1000")
            .json(body)
            .idempotent(read_only);
        let listing = self.session.collect(req).await?;
        for w in &listing.warnings {
            tracing::info!(cmdlet, warning = %w, "Exchange warning");
        }
        Ok(Output { items: listing.items, warnings: listing.warnings })
    }

    async fn typed<T>(
        &self,
        cmdlet: &str,
        parameters: Value,
        read_only: bool,
        read: impl Fn(&Map<String, Value>) -> Option<T>,
    ) -> Result<Output<T>, M365Error> {
        let out = self.invoke(cmdlet, parameters, read_only).await?;
        let mut items = Vec::with_capacity(out.items.len());
        for v in &out.items {
            let parsed = v.as_object().and_then(&read).ok_or_else(|| M365Error::Malformed {
                service: Service::ExchangeOnline,
                what: cmdlet.to_owned(),
                detail: "an item lacks the fields Microsoft documents for it (Identity or Status)".into(),
                request_id: "-".into(),
            })?;
            items.push(parsed);
        }
        Ok(Output { items, warnings: out.warnings })
    }

    /// `Test-MigrationServerAvailability -ExchangeOutlookAnywhere`.
    pub async fn test_migration_server(&self, source: &OutlookAnywhere) -> Result<Output<AvailabilityTest>, M365Error> {
        let mut p = source.parameters("RPCProxyServer");
        p.insert("ExchangeOutlookAnywhere".into(), json!(true));
        self.typed("Test-MigrationServerAvailability", Value::Object(p), true, AvailabilityTest::read).await
    }

    /// `Test-MigrationServerAvailability -ExchangeOutlookAnywhere -Autodiscover`: Exchange Online finds the source's
    /// Outlook Anywhere settings through Autodiscover for `EmailAddress`.
    pub async fn test_migration_server_autodiscover(
        &self,
        source: &AutodiscoverSource,
    ) -> Result<Output<AvailabilityTest>, M365Error> {
        let p = source.parameters();
        self.typed("Test-MigrationServerAvailability", Value::Object(p), true, AvailabilityTest::read).await
    }

    /// `New-MigrationEndpoint -ExchangeOutlookAnywhere -Autodiscover`; an endpoint with this name already there is
    /// returned.
    pub async fn new_migration_endpoint_autodiscover(
        &self,
        name: &str,
        source: &AutodiscoverSource,
        max_concurrent_migrations: Option<u32>,
    ) -> Result<Output<MigrationEndpoint>, M365Error> {
        self.new_endpoint(name, source.parameters(), max_concurrent_migrations).await
    }

    /// `New-MigrationEndpoint -ExchangeOutlookAnywhere`; an endpoint with this name already there is returned.
    pub async fn new_migration_endpoint(
        &self,
        name: &str,
        source: &OutlookAnywhere,
        max_concurrent_migrations: Option<u32>,
    ) -> Result<Output<MigrationEndpoint>, M365Error> {
        let mut p = source.parameters("RpcProxyServer");
        p.insert("ExchangeOutlookAnywhere".into(), json!(true));
        self.new_endpoint(name, p, max_concurrent_migrations).await
    }

    /// Creates the endpoint from its source parameters unless one of that name exists, which is returned.
    async fn new_endpoint(
        &self,
        name: &str,
        mut p: serde_json::Map<String, Value>,
        max_concurrent_migrations: Option<u32>,
    ) -> Result<Output<MigrationEndpoint>, M365Error> {
        let existing = self.get_migration_endpoints().await?;
        if existing.items.iter().any(|e| e.identity.eq_ignore_ascii_case(name)) {
            return Ok(Output {
                items: existing.items.into_iter().filter(|e| e.identity.eq_ignore_ascii_case(name)).collect(),
                warnings: existing.warnings,
            });
        }
        p.insert("Name".into(), json!(name));
        if let Some(n) = max_concurrent_migrations {
            p.insert("MaxConcurrentMigrations".into(), json!(n.clamp(1, 100)));
        }
        self.typed("New-MigrationEndpoint", Value::Object(p), false, MigrationEndpoint::read).await
    }

    pub async fn get_migration_endpoints(&self) -> Result<Output<MigrationEndpoint>, M365Error> {
        self.typed("Get-MigrationEndpoint", json!({}), true, MigrationEndpoint::read).await
    }

    pub async fn remove_migration_endpoint(&self, identity: &str) -> Result<Vec<String>, M365Error> {
        let p = json!({ "Identity": identity, "Confirm": false });
        Ok(self.invoke("Remove-MigrationEndpoint", p, false).await?.warnings)
    }

    /// `New-MigrationBatch` for a cutover: no CSV, every mailbox the endpoint sees.
    pub async fn new_cutover_batch(
        &self,
        name: &str,
        endpoint: &str,
        notification_emails: &[String],
        auto_start: bool,
    ) -> Result<Output<MigrationBatch>, M365Error> {
        let existing = self.get_migration_batches().await?;
        if let Some(b) = existing.items.iter().find(|b| b.identity.eq_ignore_ascii_case(name)) {
            return Ok(Output { items: vec![b.clone()], warnings: existing.warnings });
        }
        let mut p = json!({ "Name": name, "SourceEndpoint": endpoint });
        if !notification_emails.is_empty() {
            p["NotificationEmails"] = json!(notification_emails);
        }
        if auto_start {
            p["AutoStart"] = json!(true);
        }
        self.typed("New-MigrationBatch", p, false, MigrationBatch::read).await
    }

    pub async fn get_migration_batches(&self) -> Result<Output<MigrationBatch>, M365Error> {
        self.typed("Get-MigrationBatch", json!({ "ResultSize": "Unlimited" }), true, MigrationBatch::read).await
    }

    pub async fn get_migration_batch(&self, identity: &str) -> Result<Option<MigrationBatch>, M365Error> {
        match self.typed("Get-MigrationBatch", json!({ "Identity": identity }), true, MigrationBatch::read).await {
            Ok(out) => Ok(out.items.into_iter().next()),
            Err(M365Error::Api(e)) if e.exception_type() == Some("ManagementObjectNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `Start-`, `Stop-`, `Complete-` or `Remove-MigrationBatch`; Exchange's warnings are returned.
    pub async fn batch_action(&self, action: BatchAction, identity: &str) -> Result<Vec<String>, M365Error> {
        let p = json!({ "Identity": identity, "Confirm": false });
        Ok(self.invoke(action.cmdlet(), p, false).await?.warnings)
    }

    /// `Set-MigrationBatch -ApproveSkippedItems`: lets completion go ahead past the skipped (large or corrupt)
    /// items of every user of the batch. Setting it twice changes nothing.
    pub async fn approve_skipped_items(&self, batch: &str) -> Result<Vec<String>, M365Error> {
        let mut p = Map::new();
        p.insert("ApproveSkippedItems".into(), json!(true));
        self.set("Set-MigrationBatch", batch, p).await
    }

    /// `Set-MigrationUser -ApproveSkippedItems` for one mailbox.
    pub async fn approve_user_skipped_items(&self, identity: &str) -> Result<Vec<String>, M365Error> {
        let mut p = Map::new();
        p.insert("ApproveSkippedItems".into(), json!(true));
        self.set("Set-MigrationUser", identity, p).await
    }

    /// `Set-MigrationEndpoint -MaxConcurrentMigrations` (1 to 100).
    pub async fn set_max_concurrent_migrations(&self, endpoint: &str, n: u32) -> Result<Vec<String>, M365Error> {
        let mut p = Map::new();
        p.insert("MaxConcurrentMigrations".into(), json!(n.clamp(1, 100)));
        self.set("Set-MigrationEndpoint", endpoint, p).await
    }

    /// `Get-MigrationUser -ResultSize Unlimited` (optionally of one batch).
    pub async fn get_migration_users(&self, batch: Option<&str>) -> Result<Output<MigrationUser>, M365Error> {
        let mut p = json!({ "ResultSize": "Unlimited" });
        if let Some(b) = batch {
            p["BatchId"] = json!(b);
        }
        self.typed("Get-MigrationUser", p, true, MigrationUser::read).await
    }

    /// `Get-MigrationUserStatistics -Identity` for one mailbox.
    pub async fn get_migration_user_statistics(
        &self,
        identity: &str,
    ) -> Result<Option<MigrationUserStatistics>, M365Error> {
        let p = json!({ "Identity": identity });
        let out = self.typed("Get-MigrationUserStatistics", p, true, MigrationUserStatistics::read).await?;
        Ok(out.items.into_iter().next())
    }

    /// `Get-MigrationUserStatistics -Identity -IncludeSkippedItems`: the statistics with each skipped item
    /// (`skipped_item_details`), at most `limit` of them (`-LimitSkippedItemsTo`) when given.
    pub async fn get_migration_user_statistics_with_skipped(
        &self,
        identity: &str,
        limit: Option<u32>,
    ) -> Result<Option<MigrationUserStatistics>, M365Error> {
        let mut p = json!({ "Identity": identity, "IncludeSkippedItems": true });
        if let Some(n) = limit {
            p["LimitSkippedItemsTo"] = json!(n);
        }
        let out = self.typed("Get-MigrationUserStatistics", p, true, MigrationUserStatistics::read).await?;
        Ok(out.items.into_iter().next())
    }

    /// `Start-MigrationUser -Identity`: restarts one user of the batch (a failed one starts over, a stopped one
    /// resumes). Starting a user twice asks for the same thing, so it is retried like a read.
    pub async fn start_migration_user(&self, identity: &str) -> Result<Vec<String>, M365Error> {
        let p = json!({ "Identity": identity, "Confirm": false });
        Ok(self.invoke("Start-MigrationUser", p, true).await?.warnings)
    }

    /// `Get-Mailbox -ResultSize Unlimited`.
    pub async fn get_mailboxes(&self) -> Result<Output<Mailbox>, M365Error> {
        self.typed("Get-Mailbox", json!({ "ResultSize": "Unlimited" }), true, Mailbox::read).await
    }

    /// `Set-Mailbox -Identity -EmailAddresses @{Add=...}`: adds proxy addresses and keeps the others. The REST
    /// endpoint takes a PowerShell hashtable as an object typed `#Exchange.GenericHashTable`.
    pub async fn add_email_addresses(&self, identity: &str, addresses: &[String]) -> Result<Vec<String>, M365Error> {
        let mut p = Map::new();
        p.insert("EmailAddresses".into(), json!({ "@odata.type": "#Exchange.GenericHashTable", "Add": addresses }));
        self.set("Set-Mailbox", identity, p).await
    }

    /// `Get-RecipientPermission -Identity -Trustee`: the Send As rights `trustee` holds on the recipient.
    pub async fn get_recipient_permissions(
        &self,
        identity: &str,
        trustee: &str,
    ) -> Result<Output<RecipientPermission>, M365Error> {
        let p = json!({ "Identity": identity, "Trustee": trustee });
        self.typed("Get-RecipientPermission", p, true, RecipientPermission::read).await
    }

    /// `Add-RecipientPermission -AccessRights SendAs -Confirm:$false`.
    pub async fn add_send_as(&self, identity: &str, trustee: &str) -> Result<Vec<String>, M365Error> {
        let p = json!({ "Identity": identity, "Trustee": trustee, "AccessRights": "SendAs", "Confirm": false });
        Ok(self.invoke("Add-RecipientPermission", p, false).await?.warnings)
    }

    /// `Remove-RecipientPermission -AccessRights SendAs -Confirm:$false`.
    pub async fn remove_send_as(&self, identity: &str, trustee: &str) -> Result<Vec<String>, M365Error> {
        let p = json!({ "Identity": identity, "Trustee": trustee, "AccessRights": "SendAs", "Confirm": false });
        Ok(self.invoke("Remove-RecipientPermission", p, false).await?.warnings)
    }

    pub async fn get_accepted_domains(&self) -> Result<Output<AcceptedDomain>, M365Error> {
        self.typed("Get-AcceptedDomain", json!({}), true, AcceptedDomain::read).await
    }

    /// `Get-OrganizationConfig` as Exchange sends it (a large object; callers pick what they need).
    pub async fn get_organization_config(&self) -> Result<Option<Value>, M365Error> {
        Ok(self.invoke("Get-OrganizationConfig", json!({}), true).await?.items.into_iter().next())
    }

    pub async fn get_transport_rules(&self) -> Result<Output<NamedSetting>, M365Error> {
        self.typed("Get-TransportRule", json!({ "ResultSize": "Unlimited" }), true, NamedSetting::read).await
    }

    /// `New-TransportRule -Name` with the given conditions and actions; an existing rule of that name is kept.
    pub async fn new_transport_rule(
        &self,
        name: &str,
        parameters: Map<String, Value>,
    ) -> Result<Output<NamedSetting>, M365Error> {
        let existing = self.get_transport_rules().await?;
        if let Some(rule) = existing.items.iter().find(|r| r.name.eq_ignore_ascii_case(name)) {
            return Ok(Output { items: vec![rule.clone()], warnings: existing.warnings });
        }
        let mut p = parameters;
        p.insert("Name".into(), json!(name));
        self.typed("New-TransportRule", Value::Object(p), false, NamedSetting::read).await
    }

    pub async fn set_transport_rule(
        &self,
        identity: &str,
        parameters: Map<String, Value>,
    ) -> Result<Vec<String>, M365Error> {
        self.set("Set-TransportRule", identity, parameters).await
    }

    pub async fn get_content_filter_policies(&self) -> Result<Output<NamedSetting>, M365Error> {
        self.typed("Get-HostedContentFilterPolicy", json!({}), true, NamedSetting::read).await
    }

    pub async fn set_content_filter_policy(
        &self,
        identity: &str,
        parameters: Map<String, Value>,
    ) -> Result<Vec<String>, M365Error> {
        self.set("Set-HostedContentFilterPolicy", identity, parameters).await
    }

    pub async fn get_malware_filter_policies(&self) -> Result<Output<NamedSetting>, M365Error> {
        self.typed("Get-MalwareFilterPolicy", json!({}), true, NamedSetting::read).await
    }

    /// `Get-MessageTraceV2` of the messages between `start` and `end` (at most 10 days back), by sender and/or
    /// recipient.
    pub async fn get_message_trace(
        &self,
        sender: Option<&str>,
        recipient: Option<&str>,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> Result<Output<MessageTrace>, M365Error> {
        let mut p = Map::new();
        if let Some(s) = sender {
            p.insert("SenderAddress".into(), json!(s));
        }
        if let Some(r) = recipient {
            p.insert("RecipientAddress".into(), json!(r));
        }
        p.insert("StartDate".into(), json!(start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        p.insert("EndDate".into(), json!(end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        self.typed("Get-MessageTraceV2", Value::Object(p), true, MessageTrace::read).await
    }

    pub async fn set_malware_filter_policy(
        &self,
        identity: &str,
        parameters: Map<String, Value>,
    ) -> Result<Vec<String>, M365Error> {
        self.set("Set-MalwareFilterPolicy", identity, parameters).await
    }

    pub async fn get_dkim_signing_configs(&self) -> Result<Output<NamedSetting>, M365Error> {
        self.typed("Get-DkimSigningConfig", json!({}), true, NamedSetting::read).await
    }

    /// `New-DkimSigningConfig -DomainName -Enabled`; a domain that has one already keeps it.
    pub async fn new_dkim_signing_config(
        &self,
        domain: &str,
        enabled: bool,
    ) -> Result<Output<NamedSetting>, M365Error> {
        let existing = self.get_dkim_signing_configs().await?;
        if let Some(c) = existing.items.iter().find(|c| c.name.eq_ignore_ascii_case(domain)) {
            return Ok(Output { items: vec![c.clone()], warnings: existing.warnings });
        }
        self.typed(
            "New-DkimSigningConfig",
            json!({ "DomainName": domain, "Enabled": enabled }),
            false,
            NamedSetting::read,
        )
        .await
    }

    pub async fn set_dkim_signing_config(&self, identity: &str, enabled: bool) -> Result<Vec<String>, M365Error> {
        let mut p = Map::new();
        p.insert("Enabled".into(), json!(enabled));
        self.set("Set-DkimSigningConfig", identity, p).await
    }

    /// A `Set-` cmdlet: it sets values, so sending it twice gives the same result.
    async fn set(
        &self,
        cmdlet: &str,
        identity: &str,
        mut parameters: Map<String, Value>,
    ) -> Result<Vec<String>, M365Error> {
        parameters.insert("Identity".into(), json!(identity));
        Ok(self.invoke(cmdlet, Value::Object(parameters), true).await?.warnings)
    }
}

/// The source server's Outlook Anywhere settings, for the endpoint and its test.
#[derive(Debug, Clone)]
pub struct OutlookAnywhere {
    /// Mailbox server FQDN (`-ExchangeServer`).
    pub exchange_server: String,
    /// Outlook Anywhere external host name (`-RpcProxyServer`).
    pub rpc_proxy_server: String,
    /// `Basic` or `Ntlm`.
    pub authentication: String,
    /// An on-premises mailbox to test with (`-EmailAddress`).
    pub email_address: String,
    /// The migration account (`DOMAIN\user` or a UPN) and its password.
    pub user_name: String,
    pub password: Secret,
    /// `FullAccess` on every mailbox, or `Admin` (Receive As on the databases).
    pub mailbox_permission: Option<String>,
}

impl OutlookAnywhere {
    /// The parameters shared by the endpoint and its test; the two cmdlets spell the proxy parameter differently
    /// in Microsoft's documentation, so the caller names it.
    fn parameters(&self, proxy_parameter: &str) -> Map<String, Value> {
        let mut p = Map::new();
        p.insert("ExchangeServer".into(), json!(self.exchange_server));
        p.insert(proxy_parameter.into(), json!(self.rpc_proxy_server));
        if let Some(permission) = &self.mailbox_permission {
            p.insert("MailboxPermission".into(), json!(permission));
        }
        p.insert("Authentication".into(), json!(self.authentication));
        p.insert("EmailAddress".into(), json!(self.email_address));
        // A PSCredential, as the REST endpoint takes it: user name and password.
        p.insert("Credentials".into(), json!({ "UserName": self.user_name, "Password": self.password.expose() }));
        p
    }
}

/// The source reached through Autodiscover: a mailbox address to discover with and the migration account.
#[derive(Debug, Clone)]
pub struct AutodiscoverSource {
    /// An on-premises mailbox whose Autodiscover answer names the Outlook Anywhere settings (`-EmailAddress`).
    pub email_address: String,
    /// The migration account (`DOMAIN\user` or a UPN) and its password.
    pub user_name: String,
    pub password: Secret,
}

impl AutodiscoverSource {
    /// The parameters of the `ExchangeOutlookAnywhereAutoDiscover` set, shared by the test and the endpoint.
    fn parameters(&self) -> Map<String, Value> {
        let mut p = Map::new();
        p.insert("ExchangeOutlookAnywhere".into(), json!(true));
        p.insert("Autodiscover".into(), json!(true));
        p.insert("EmailAddress".into(), json!(self.email_address));
        p.insert("Credentials".into(), json!({ "UserName": self.user_name, "Password": self.password.expose() }));
        p
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    Start,
    Stop,
    Complete,
    Remove,
}

impl BatchAction {
    pub fn cmdlet(self) -> &'static str {
        match self {
            BatchAction::Start => "Start-MigrationBatch",
            BatchAction::Stop => "Stop-MigrationBatch",
            BatchAction::Complete => "Complete-MigrationBatch",
            BatchAction::Remove => "Remove-MigrationBatch",
        }
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outlook_anywhere_password_never_prints() {
        let oa = OutlookAnywhere {
            exchange_server: "exch01.contoso.local".into(),
            rpc_proxy_server: "mail.contoso.com".into(),
            authentication: "Basic".into(),
            email_address: "admin@contoso.com".into(),
            user_name: "CONTOSO\\migration".into(),
            password: Secret::new("P@ss-word-123"),
            mailbox_permission: Some("FullAccess".into()),
        };
        assert!(!format!("{oa:?}").contains("P@ss"));
        let p = oa.parameters("RpcProxyServer");
        assert_eq!(p["Credentials"]["Password"], "P@ss-word-123");
        assert_eq!(p["RpcProxyServer"], "mail.contoso.com");
        assert_eq!(p["MailboxPermission"], "FullAccess");
    }

    #[test]
    fn autodiscover_parameters_name_the_mailbox_and_no_server() {
        let source = AutodiscoverSource {
            email_address: "admin@contoso.com".into(),
            user_name: "CONTOSO\\migration".into(),
            password: Secret::new("P@ss-word-123"),
        };
        assert!(!format!("{source:?}").contains("P@ss"));
        let p = source.parameters();
        assert_eq!(p["Autodiscover"], true);
        assert_eq!(p["ExchangeOutlookAnywhere"], true);
        assert_eq!(p["EmailAddress"], "admin@contoso.com");
        assert!(!p.contains_key("ExchangeServer") && !p.contains_key("RPCProxyServer"));
    }
}
