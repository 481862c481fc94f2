//! What the Exchange cmdlets answer, typed: migration endpoints, batches, users and their statistics, mailboxes,
//! accepted domains and named settings. Each is read leniently from Exchange's JSON (see [`super::values`]);
//! an item without the fields Microsoft documents as always present is refused.

use super::values::{BatchStatus, ExSize, SkippedItemKind, UserStatus, count, date, flag, name, text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

    pub(super) fn read(o: &Map<String, Value>) -> Option<Self> {
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
    pub(super) fn read(o: &Map<String, Value>) -> Option<Self> {
        Some(MigrationEndpoint {
            identity: name(o.get("Identity")).or_else(|| name(o.get("Name")))?,
            endpoint_type: text(o.get("EndpointType")),
            rpc_proxy_server: text(o.get("RpcProxyServer")).or_else(|| text(o.get("RPCProxyServer"))),
            exchange_server: text(o.get("ExchangeServer")),
            max_concurrent_migrations: count(o.get("MaxConcurrentMigrations")),
            authentication: text(o.get("Authentication")),
        })
    }

    /// Whether this is an Outlook Anywhere endpoint, the kind a cutover migration needs. An endpoint whose type
    /// Exchange did not give is not taken for one: a cutover batch made on it could fail, and a check that says
    /// yes must not rest on a guess.
    pub fn is_outlook_anywhere(&self) -> bool {
        self.endpoint_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("ExchangeOutlookAnywhere"))
    }
}

/// `Get-MigrationBatch`.
// Deserialize: a watch keeps these facts in live/batch.json and reads them back; Exchange's JSON is read by
// `read`, never by serde.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    pub(super) fn read(o: &Map<String, Value>) -> Option<Self> {
        let n = |k: &str| count(o.get(k)).unwrap_or(0);
        Some(MigrationBatch {
            identity: name(o.get("Identity")).or_else(|| name(o.get("BatchGuid")))?,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    pub(super) fn read(o: &Map<String, Value>) -> Option<Self> {
        Some(MigrationUser {
            identity: name(o.get("Identity")).or_else(|| name(o.get("MailboxEmailAddress")))?,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The skipped items one by one: `Some` only when asked for with `-IncludeSkippedItems` and Exchange sent
    /// the list (then possibly empty).
    pub skipped_item_details: Option<Vec<SkippedItem>>,
    /// `SkippedItemsApproved`: whether `-ApproveSkippedItems` covers the items skipped so far; `None` when
    /// Exchange did not say. Serde's default keeps views saved before this field readable.
    #[serde(default)]
    pub skipped_items_approved: Option<bool>,
}

/// One item a move skipped (`-IncludeSkippedItems`), as Exchange describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedItem {
    pub kind: SkippedItemKind,
    pub subject: Option<String>,
    pub folder_name: Option<String>,
    pub sender: Option<String>,
    pub recipient: Option<String>,
    pub message_class: Option<String>,
    pub message_size: Option<ExSize>,
    pub date_sent: Option<DateTime<Utc>>,
    pub date_received: Option<DateTime<Utc>>,
    /// Exchange's reason for skipping it.
    pub failure: Option<String>,
}

impl SkippedItem {
    /// An item without a `Kind` is still listed: Exchange skipped it, and that is the fact the engineer needs.
    pub(super) fn read(o: &Map<String, Value>) -> SkippedItem {
        let opt = |k: &str| text(o.get(k)).filter(|s| !s.is_empty());
        SkippedItem {
            kind: SkippedItemKind::from_json(o.get("Kind")).unwrap_or_else(|| SkippedItemKind::Unknown(String::new())),
            subject: opt("Subject"),
            folder_name: opt("FolderName"),
            sender: opt("Sender"),
            recipient: opt("Recipient"),
            message_class: opt("MessageClass"),
            message_size: o.get("MessageSize").and_then(ExSize::from_json),
            date_sent: date(o.get("DateSent")),
            date_received: date(o.get("DateReceived")),
            failure: opt("Failure"),
        }
    }
}

impl MigrationUserStatistics {
    pub(super) fn read(o: &Map<String, Value>) -> Option<Self> {
        Some(MigrationUserStatistics {
            identity: name(o.get("Identity")).or_else(|| name(o.get("MailboxEmailAddress")))?,
            status: UserStatus::from_json(o.get("Status"))?,
            synced_items: count(o.get("SyncedItemCount")).unwrap_or(0),
            skipped_items: count(o.get("SkippedItemCount")).unwrap_or(0),
            total_items_in_source: count(o.get("TotalItemsInSourceMailboxCount")),
            bytes_transferred: o.get("BytesTransferred").and_then(ExSize::from_json),
            estimated_total: o.get("EstimatedTotalTransferSize").and_then(ExSize::from_json),
            percentage_complete: count(o.get("PercentageComplete")),
            last_successful_sync: date(o.get("LastSuccessfulSyncTime")),
            error: text(o.get("Error")).or_else(|| text(o.get("ErrorSummary"))).filter(|s| !s.is_empty()),
            skipped_item_details: match o.get("SkippedItems") {
                Some(Value::Array(items)) => {
                    Some(items.iter().filter_map(Value::as_object).map(SkippedItem::read).collect())
                }
                _ => None,
            },
            skipped_items_approved: flag(o.get("SkippedItemsApproved")),
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
    pub(super) fn read(o: &Map<String, Value>) -> Option<Self> {
        let email_addresses = match o.get("EmailAddresses") {
            Some(Value::Array(list)) => list.iter().filter_map(|v| text(Some(v))).collect(),
            _ => Vec::new(),
        };
        Some(Mailbox {
            identity: name(o.get("Identity")).or_else(|| name(o.get("Name")))?,
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
    pub(super) fn read(o: &Map<String, Value>) -> Option<Self> {
        Some(AcceptedDomain {
            domain_name: name(o.get("DomainName")).or_else(|| name(o.get("Name")))?,
            domain_type: text(o.get("DomainType")),
            default: flag(o.get("Default")),
        })
    }
}

/// A message trace's `Status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TraceStatus {
    Delivered,
    Failed,
    Pending,
    Expanded,
    Quarantined,
    FilteredAsSpam,
    GettingStatus,
    Unknown(String),
}

impl TraceStatus {
    pub fn parse(s: &str) -> TraceStatus {
        match s.trim().to_ascii_lowercase().as_str() {
            "delivered" => TraceStatus::Delivered,
            "failed" => TraceStatus::Failed,
            "pending" => TraceStatus::Pending,
            "expanded" => TraceStatus::Expanded,
            "quarantined" => TraceStatus::Quarantined,
            "filteredasspam" => TraceStatus::FilteredAsSpam,
            "gettingstatus" => TraceStatus::GettingStatus,
            _ => TraceStatus::Unknown(s.trim().to_owned()),
        }
    }

    pub fn word(&self) -> &str {
        match self {
            TraceStatus::Delivered => "Delivered",
            TraceStatus::Failed => "Failed",
            TraceStatus::Pending => "Pending",
            TraceStatus::Expanded => "Expanded",
            TraceStatus::Quarantined => "Quarantined",
            TraceStatus::FilteredAsSpam => "FilteredAsSpam",
            TraceStatus::GettingStatus => "GettingStatus",
            TraceStatus::Unknown(s) => s,
        }
    }
}

/// One row of `Get-MessageTraceV2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageTrace {
    pub received: Option<DateTime<Utc>>,
    pub sender: String,
    pub recipient: String,
    pub subject: String,
    pub status: TraceStatus,
}

impl MessageTrace {
    pub(super) fn read(o: &Map<String, Value>) -> Option<Self> {
        Some(MessageTrace {
            received: date(o.get("Received")),
            sender: text(o.get("SenderAddress"))?,
            recipient: text(o.get("RecipientAddress"))?,
            subject: text(o.get("Subject")).unwrap_or_default(),
            status: TraceStatus::parse(&text(o.get("Status"))?),
        })
    }
}

/// One entry of `Get-RecipientPermission`: who (`Trustee`) holds which rights (`AccessRights`, `SendAs`) on the
/// recipient, allowed or denied (`AccessControlType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecipientPermission {
    pub trustee: String,
    pub access_rights: Vec<String>,
    pub allowed: bool,
}

impl RecipientPermission {
    /// An allowed Send As for `trustee` (compared as Exchange does, without case).
    pub fn is_send_as_for(&self, trustee: &str) -> bool {
        self.allowed
            && self.trustee.eq_ignore_ascii_case(trustee)
            && self.access_rights.iter().any(|r| r.eq_ignore_ascii_case("SendAs"))
    }

    pub(super) fn read(o: &Map<String, Value>) -> Option<Self> {
        // One right comes as a string, several as an array, as the REST endpoint serialises the enum list.
        let access_rights = match o.get("AccessRights") {
            Some(Value::Array(a)) => a.iter().filter_map(|v| text(Some(v))).collect(),
            other => text(other).map(|s| s.split(',').map(|r| r.trim().to_owned()).collect()).unwrap_or_default(),
        };
        Some(RecipientPermission {
            trustee: text(o.get("Trustee")).filter(|t| !t.trim().is_empty())?,
            access_rights,
            allowed: text(o.get("AccessControlType")).is_none_or(|t| !t.eq_ignore_ascii_case("Deny")),
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
    pub(super) fn read(o: &Map<String, Value>) -> Option<Self> {
        let enabled =
            flag(o.get("Enabled")).or_else(|| text(o.get("State")).map(|s| s.eq_ignore_ascii_case("Enabled")));
        Some(NamedSetting {
            name: name(o.get("Name")).or_else(|| name(o.get("Identity"))).or_else(|| name(o.get("Domain")))?,
            enabled,
            raw: Value::Object(o.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn a_send_as_entry_reads_with_one_right_or_several() {
        let one = obj(
            json!({"Identity": "amy", "Trustee": "admin@c.com", "AccessControlType": "Allow", "AccessRights": "SendAs"}),
        );
        assert!(RecipientPermission::read(&one).expect("reads").is_send_as_for("Admin@C.com"));
        let many = obj(json!({"Trustee": "admin@c.com", "AccessRights": ["ReadPermission", "SendAs"]}));
        assert!(RecipientPermission::read(&many).expect("reads").is_send_as_for("admin@c.com"));
        let denied = obj(json!({"Trustee": "admin@c.com", "AccessControlType": "Deny", "AccessRights": ["SendAs"]}));
        assert!(!RecipientPermission::read(&denied).expect("reads").is_send_as_for("admin@c.com"));
        assert!(RecipientPermission::read(&obj(json!({"AccessRights": "SendAs"}))).is_none(), "no trustee");
    }

    #[test]
    fn only_an_endpoint_typed_outlook_anywhere_is_one() {
        let endpoint = |kind: Option<&str>| {
            let mut o = json!({"Identity": "cutover"});
            if let Some(kind) = kind {
                o["EndpointType"] = json!(kind);
            }
            MigrationEndpoint::read(&obj(o)).expect("endpoint")
        };
        assert!(endpoint(Some("ExchangeOutlookAnywhere")).is_outlook_anywhere());
        assert!(endpoint(Some("exchangeoutlookanywhere")).is_outlook_anywhere(), "Exchange's values are case-blind");
        assert!(!endpoint(Some("IMAP")).is_outlook_anywhere());
        assert!(!endpoint(None).is_outlook_anywhere(), "an endpoint of unknown type is not taken for one");
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
        assert_eq!(s.skipped_item_details, None, "not asked for, not there");
        assert_eq!(s.skipped_items_approved, None, "not said, not guessed");
    }

    #[test]
    fn skipped_items_one_by_one() {
        let s = MigrationUserStatistics::read(&obj(json!({
            "Identity": "owner@litware.com", "Status": "Synced", "SkippedItemCount": 3, "SkippedItemsApproved": true,
            "SkippedItems": [
                {"Kind": "LargeItem", "FolderName": "Inbox", "Subject": "Scans", "MessageSize": "160 MB (167,772,160 bytes)",
                 "DateReceived": "2023-04-01T10:00:00Z", "Failure": "too large"},
                {"Kind": "CorruptItem", "FolderName": "Sent Items", "Subject": ""},
                {"Kind": "SomethingNew"}
            ]
        })))
        .expect("stats");
        assert_eq!(s.skipped_items_approved, Some(true));
        let items = s.skipped_item_details.expect("asked for");
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].kind, SkippedItemKind::LargeItem);
        assert_eq!(items[0].message_size, Some(ExSize::Bytes(167_772_160)));
        assert!(items[0].date_received.is_some());
        assert_eq!(items[1].kind, SkippedItemKind::CorruptItem);
        assert_eq!(items[1].subject, None);
        assert_eq!(items[2].kind, SkippedItemKind::Unknown("SomethingNew".into()));
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
