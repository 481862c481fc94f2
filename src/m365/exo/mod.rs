//! Exchange Online through its admin REST endpoint (what the Exchange Online PowerShell module uses):
//! `POST {exo}/adminapi/beta/{tenant}/InvokeCommand` with `{"CmdletInput":{"CmdletName","Parameters"}}`, and typed
//! wrappers for the cmdlets the stages run. Lists ask for `ResultSize=Unlimited` and follow every page; warnings
//! from `@adminapi.warnings` are returned with the results.

pub mod values;

use super::error::{M365Error, Service};
use super::http::{Request, Session};
use crate::secrets::Secret;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};
use url::Url;
pub use values::{BatchStatus, ExSize, UserStatus};
use values::{count, date, flag, text};

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

    /// `New-MigrationEndpoint -ExchangeOutlookAnywhere`; an endpoint with this name already there is returned.
    pub async fn new_migration_endpoint(
        &self,
        name: &str,
        source: &OutlookAnywhere,
        max_concurrent_migrations: Option<u32>,
    ) -> Result<Output<MigrationEndpoint>, M365Error> {
        let existing = self.get_migration_endpoints().await?;
        if existing.items.iter().any(|e| e.identity.eq_ignore_ascii_case(name)) {
            return Ok(Output {
                items: existing.items.into_iter().filter(|e| e.identity.eq_ignore_ascii_case(name)).collect(),
                warnings: existing.warnings,
            });
        }
        let mut p = source.parameters("RpcProxyServer");
        p.insert("Name".into(), json!(name));
        p.insert("ExchangeOutlookAnywhere".into(), json!(true));
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

    /// `Get-Mailbox -ResultSize Unlimited`.
    pub async fn get_mailboxes(&self) -> Result<Output<Mailbox>, M365Error> {
        self.typed("Get-Mailbox", json!({ "ResultSize": "Unlimited" }), true, Mailbox::read).await
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

/// `Test-MigrationServerAvailability`'s answer (a `TestMigrationServerAvailabilityOutcome`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AvailabilityTest {
    /// `Success`, `Warning` or `Failed`.
    pub result: String,
    pub message: Option<String>,
    pub error_detail: Option<String>,
    pub supports_cutover: Option<bool>,
}

impl AvailabilityTest {
    pub fn succeeded(&self) -> bool {
        self.result.eq_ignore_ascii_case("Success")
    }

    pub fn warned(&self) -> bool {
        self.result.eq_ignore_ascii_case("Warning")
    }

    fn read(o: &Map<String, Value>) -> Option<Self> {
        Some(AvailabilityTest {
            result: text(o.get("Result"))?,
            message: text(o.get("Message")).filter(|m| !m.is_empty()),
            error_detail: text(o.get("ErrorDetail")).filter(|m| !m.is_empty()),
            supports_cutover: flag(o.get("SupportsCutover")),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationEndpoint {
    pub identity: String,
    pub endpoint_type: Option<String>,
    pub rpc_proxy_server: Option<String>,
    pub exchange_server: Option<String>,
    pub max_concurrent_migrations: Option<u64>,
    pub authentication: Option<String>,
}

impl MigrationEndpoint {
    fn read(o: &Map<String, Value>) -> Option<Self> {
        Some(MigrationEndpoint {
            identity: text(o.get("Identity")).or_else(|| text(o.get("Name")))?,
            endpoint_type: text(o.get("EndpointType")),
            rpc_proxy_server: text(o.get("RpcProxyServer")).or_else(|| text(o.get("RPCProxyServer"))),
            exchange_server: text(o.get("ExchangeServer")),
            max_concurrent_migrations: count(o.get("MaxConcurrentMigrations")),
            authentication: text(o.get("Authentication")),
        })
    }
}

/// `Get-MigrationBatch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationBatch {
    pub identity: String,
    pub status: BatchStatus,
    pub migration_type: Option<String>,
    pub total_count: u64,
    pub active_count: u64,
    pub stopped_count: u64,
    pub synced_count: u64,
    pub finalized_count: u64,
    pub failed_count: u64,
    pub failed_initial_sync_count: u64,
    pub failed_incremental_sync_count: u64,
    pub pending_count: u64,
    pub provisioned_count: u64,
    pub creation: Option<DateTime<Utc>>,
    pub start: Option<DateTime<Utc>>,
    pub last_synced: Option<DateTime<Utc>>,
}

impl MigrationBatch {
    fn read(o: &Map<String, Value>) -> Option<Self> {
        let n = |k: &str| count(o.get(k)).unwrap_or(0);
        Some(MigrationBatch {
            identity: text(o.get("Identity")).or_else(|| text(o.get("BatchGuid")))?,
            status: BatchStatus::from_json(o.get("Status"))?,
            migration_type: text(o.get("MigrationType")),
            total_count: n("TotalCount"),
            active_count: n("ActiveCount"),
            stopped_count: n("StoppedCount"),
            synced_count: n("SyncedCount"),
            finalized_count: n("FinalizedCount"),
            failed_count: n("FailedCount"),
            failed_initial_sync_count: n("FailedInitialSyncCount"),
            failed_incremental_sync_count: n("FailedIncrementalSyncCount"),
            pending_count: n("PendingCount"),
            provisioned_count: n("ProvisionedCount"),
            creation: date(o.get("CreationDateTime")),
            start: date(o.get("StartDateTime")),
            last_synced: date(o.get("LastSyncedDateTime")),
        })
    }
}

/// `Get-MigrationUser`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationUser {
    pub identity: String,
    pub email: Option<String>,
    pub batch: Option<String>,
    pub status: UserStatus,
    pub synced_items: Option<u64>,
    pub skipped_items: Option<u64>,
    pub last_successful_sync: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

impl MigrationUser {
    fn read(o: &Map<String, Value>) -> Option<Self> {
        Some(MigrationUser {
            identity: text(o.get("Identity")).or_else(|| text(o.get("MailboxEmailAddress")))?,
            email: text(o.get("MailboxEmailAddress")),
            batch: text(o.get("BatchId")),
            status: UserStatus::from_json(o.get("Status"))?,
            synced_items: count(o.get("SyncedItemCount")),
            skipped_items: count(o.get("SkippedItemCount")),
            last_successful_sync: date(o.get("LastSuccessfulSyncTime")),
            error: text(o.get("ErrorSummary")).filter(|s| !s.is_empty()),
        })
    }
}

/// `Get-MigrationUserStatistics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationUserStatistics {
    pub identity: String,
    pub status: UserStatus,
    pub synced_items: u64,
    pub skipped_items: u64,
    pub total_items_in_source: Option<u64>,
    pub bytes_transferred: Option<ExSize>,
    pub estimated_total: Option<ExSize>,
    pub percentage_complete: Option<u64>,
    pub last_successful_sync: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

impl MigrationUserStatistics {
    fn read(o: &Map<String, Value>) -> Option<Self> {
        Some(MigrationUserStatistics {
            identity: text(o.get("Identity")).or_else(|| text(o.get("MailboxEmailAddress")))?,
            status: UserStatus::from_json(o.get("Status"))?,
            synced_items: count(o.get("SyncedItemCount")).unwrap_or(0),
            skipped_items: count(o.get("SkippedItemCount")).unwrap_or(0),
            total_items_in_source: count(o.get("TotalItemsInSourceMailboxCount")),
            bytes_transferred: o.get("BytesTransferred").and_then(ExSize::from_json),
            estimated_total: o.get("EstimatedTotalTransferSize").and_then(ExSize::from_json),
            percentage_complete: count(o.get("PercentageComplete")),
            last_successful_sync: date(o.get("LastSuccessfulSyncTime")),
            error: text(o.get("Error")).or_else(|| text(o.get("ErrorSummary"))).filter(|s| !s.is_empty()),
        })
    }
}

/// `Get-Mailbox`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub identity: String,
    pub user_principal_name: Option<String>,
    pub primary_smtp_address: Option<String>,
    pub email_addresses: Vec<String>,
    pub recipient_type_details: Option<String>,
    pub hidden_from_address_lists: Option<bool>,
    pub legacy_exchange_dn: Option<String>,
}

impl Mailbox {
    fn read(o: &Map<String, Value>) -> Option<Self> {
        let email_addresses = match o.get("EmailAddresses") {
            Some(Value::Array(list)) => list.iter().filter_map(|v| text(Some(v))).collect(),
            _ => Vec::new(),
        };
        Some(Mailbox {
            identity: text(o.get("Identity")).or_else(|| text(o.get("Name")))?,
            user_principal_name: text(o.get("UserPrincipalName")),
            primary_smtp_address: text(o.get("PrimarySmtpAddress")),
            email_addresses,
            recipient_type_details: text(o.get("RecipientTypeDetails")),
            hidden_from_address_lists: flag(o.get("HiddenFromAddressListsEnabled")),
            legacy_exchange_dn: text(o.get("LegacyExchangeDN")),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedDomain {
    pub domain_name: String,
    pub domain_type: Option<String>,
    pub default: Option<bool>,
}

impl AcceptedDomain {
    fn read(o: &Map<String, Value>) -> Option<Self> {
        Some(AcceptedDomain {
            domain_name: text(o.get("DomainName")).or_else(|| text(o.get("Name")))?,
            domain_type: text(o.get("DomainType")),
            default: flag(o.get("Default")),
        })
    }
}

/// A named setting (transport rule, filter policy, DKIM config): its name, whether it is on, and the raw object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedSetting {
    pub name: String,
    /// `Enabled`, or `State == "Enabled"` for transport rules.
    pub enabled: Option<bool>,
    pub raw: Value,
}

impl NamedSetting {
    fn read(o: &Map<String, Value>) -> Option<Self> {
        let enabled =
            flag(o.get("Enabled")).or_else(|| text(o.get("State")).map(|s| s.eq_ignore_ascii_case("Enabled")));
        Some(NamedSetting {
            name: text(o.get("Name")).or_else(|| text(o.get("Identity"))).or_else(|| text(o.get("Domain")))?,
            enabled,
            raw: Value::Object(o.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn a_migration_batch_as_exchange_writes_it() {
        let b = MigrationBatch::read(&obj(json!({
            "Identity": "CutoverBatch",
            "Status": "SyncedWithErrors",
            "MigrationType": "ExchangeOutlookAnywhere",
            "TotalCount": 120, "ActiveCount": 0, "StoppedCount": 0, "SyncedCount": 117, "FinalizedCount": 0,
            "FailedCount": 3,
            "CreationDateTime": "2024-05-02T09:12:44.531+00:00",
            "StartDateTime": "/Date(1714641164531)/",
            "LastSyncedDateTime": null
        })))
        .expect("batch");
        assert_eq!(b.status, BatchStatus::SyncedWithErrors);
        assert_eq!((b.total_count, b.synced_count, b.failed_count), (120, 117, 3));
        assert!(b.creation.is_some() && b.start.is_some() && b.last_synced.is_none());
    }

    #[test]
    fn migration_user_statistics_with_sizes() {
        let s = MigrationUserStatistics::read(&obj(json!({
            "Identity": "pilarp@contoso.com",
            "Status": "Syncing",
            "SyncedItemCount": 10421, "SkippedItemCount": 2, "TotalItemsInSourceMailboxCount": 21000,
            "BytesTransferred": "14.2 GB (15,247,234,048 bytes)",
            "EstimatedTotalTransferSize": "28.45 GB (30,551,458,399 bytes)",
            "PercentageComplete": 49,
            "Error": ""
        })))
        .expect("stats");
        assert_eq!(s.bytes_transferred, Some(ExSize::Bytes(15_247_234_048)));
        assert_eq!(s.estimated_total, Some(ExSize::Bytes(30_551_458_399)));
        assert_eq!(s.error, None);
        assert_eq!(s.status, UserStatus::Syncing);
    }

    #[test]
    fn an_item_without_a_status_is_refused() {
        assert!(MigrationUser::read(&obj(json!({"Identity": "a@b.c"}))).is_none());
        let u = MigrationUser::read(&obj(json!({"Identity": "a@b.c", "Status": "BrandNewState"}))).expect("user");
        assert_eq!(u.status, UserStatus::Unknown("BrandNewState".into()));
    }

    #[test]
    fn mailboxes_keep_their_x500_material() {
        let m = Mailbox::read(&obj(json!({
            "Identity": "Pilar Pinilla", "UserPrincipalName": "pilarp@contoso.com",
            "EmailAddresses": ["SMTP:pilarp@contoso.com", "smtp:pilarp@contoso.onmicrosoft.com"],
            "HiddenFromAddressListsEnabled": false,
            "LegacyExchangeDN": "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=abc-pilarp"
        })))
        .expect("mailbox");
        assert_eq!(m.email_addresses.len(), 2);
        assert_eq!(m.hidden_from_address_lists, Some(false));
        assert!(m.legacy_exchange_dn.is_some());
    }

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
    fn an_availability_test_as_exchange_reports_it() {
        let t = AvailabilityTest::read(&obj(json!({
            "RunspaceId": "29af0d24-4221-40e7-87c5-f05f90b265fb",
            "Result": "Success",
            "Message": "",
            "SupportsCutover": false,
            "ErrorDetail": "",
            "IsValid": true
        })))
        .expect("outcome");
        assert!(t.succeeded() && !t.warned());
        assert_eq!((t.message, t.error_detail, t.supports_cutover), (None, None, Some(false)));
        let failed = AvailabilityTest::read(&obj(json!({"Result": "Failed", "Message": "The connection to the server 'mail.contoso.com' could not be completed.", "ErrorDetail": "Microsoft.Exchange.Migration.MigrationServerConnectionFailedException"}))).expect("failed");
        assert!(!failed.succeeded());
        assert!(failed.error_detail.is_some_and(|d| d.contains("ConnectionFailed")));
    }
}
