//! Property tests of the readers of Exchange's `InvokeCommand` results: every cmdlet's item reader and the value
//! readers, over any JSON and over documented items with one field spoiled. Never a panic; an item is refused
//! (`None`, which the caller turns into [`crate::m365::M365Error::Malformed`]) rather than read with a blank
//! identity or a size no mailbox has.

use super::types::{
    AcceptedDomain, AvailabilityTest, Mailbox, MessageTrace, MigrationBatch, MigrationEndpoint, MigrationUser,
    MigrationUserStatistics, NamedSetting, SkippedItem,
};
use super::values::{ExSize, MAX_BYTES, count, date, flag, text};
use crate::fuzz_support::{json_value, mutate_json, wild_text};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Items as Microsoft documents them, one per reader.
fn documented() -> Vec<Value> {
    vec![
        json!({"Result": "Success", "Message": "", "ErrorDetail": "", "SupportsCutover": true}),
        json!({"Identity": "cutover", "EndpointType": "ExchangeOutlookAnywhere", "RpcProxyServer": "mail.contoso.com",
               "ExchangeServer": "EX01", "MaxConcurrentMigrations": 20, "Authentication": "Basic"}),
        json!({"Identity": "CutoverBatch", "Status": "Syncing", "TotalCount": 120, "SyncedCount": 17,
               "CreationDateTime": "2024-05-02T09:12:44.531+00:00", "StartDateTime": "/Date(1714641164531)/"}),
        json!({"Identity": "pilarp@contoso.com", "MailboxEmailAddress": "pilarp@contoso.com", "BatchId": "CutoverBatch",
               "Status": "Synced", "SyncedItemCount": 10421, "LastSuccessfulSyncTime": "2024-05-02T10:00:00Z"}),
        json!({"Identity": "pilarp@contoso.com", "Status": "Syncing", "SyncedItemCount": "10,421",
               "BytesTransferred": "14.2 GB (15,247,234,048 bytes)", "EstimatedTotalTransferSize": "28.45 GB (30,551,458,399 bytes)",
               "PercentageComplete": 49, "SkippedItems": [{"Kind": "LargeItem", "MessageSize": "160 MB (167,772,160 bytes)",
               "Subject": "big"}]}),
        json!({"Identity": "pilarp", "UserPrincipalName": "pilarp@contoso.onmicrosoft.com", "PrimarySmtpAddress": "pilarp@contoso.com",
               "EmailAddresses": ["SMTP:pilarp@contoso.com", "X500:/o=Contoso/cn=pilarp"], "HiddenFromAddressListsEnabled": false}),
        json!({"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": true}),
        json!({"Received": "2024-05-02T10:00:00Z", "SenderAddress": "a@contoso.com", "RecipientAddress": "b@contoso.com",
               "Subject": "test", "Status": "Delivered"}),
        json!({"Name": "Block exe", "State": "Enabled", "Priority": 0}),
    ]
}

/// Runs every reader on `o`; checks what each accepts.
fn read_all(o: &Map<String, Value>) {
    let blank = |s: &str| s.trim().is_empty();
    if let Some(t) = AvailabilityTest::read(o) {
        assert!(t.succeeded() || t.warned() || !t.result.eq_ignore_ascii_case("success"));
    }
    if let Some(e) = MigrationEndpoint::read(o) {
        assert!(!blank(&e.identity));
        let _ = e.is_outlook_anywhere();
    }
    if let Some(b) = MigrationBatch::read(o) {
        assert!(!blank(&b.identity));
    }
    if let Some(u) = MigrationUser::read(o) {
        assert!(!blank(&u.identity));
    }
    if let Some(s) = MigrationUserStatistics::read(o) {
        assert!(!blank(&s.identity));
        for size in [s.bytes_transferred, s.estimated_total].into_iter().flatten() {
            assert!(size.bytes().is_none_or(|b| b <= MAX_BYTES), "a size past {MAX_BYTES} was kept: {size:?}");
        }
    }
    let _ = SkippedItem::read(o);
    if let Some(m) = Mailbox::read(o) {
        assert!(!blank(&m.identity));
    }
    if let Some(d) = AcceptedDomain::read(o) {
        assert!(!blank(&d.domain_name));
    }
    let _ = MessageTrace::read(o);
    if let Some(n) = NamedSetting::read(o) {
        assert!(!blank(&n.name));
    }
}

proptest! {
    #[test]
    fn fuzz_exo_items_any_json(v in json_value()) {
        if let Some(o) = v.as_object() {
            read_all(o);
        }
        let _ = (text(Some(&v)), count(Some(&v)), flag(Some(&v)), date(Some(&v)), ExSize::from_json(&v));
    }

    #[test]
    fn fuzz_exo_items_one_bad_field(spoiled in (0usize..9).prop_flat_map(|i| mutate_json(documented().swap_remove(i)))) {
        if let Some(o) = spoiled.as_object() {
            read_all(o);
        }
    }

    #[test]
    fn fuzz_exo_sizes_and_dates(s in wild_text()) {
        if let Some(ExSize::Bytes(b)) = ExSize::parse(&s) {
            prop_assert!(b <= MAX_BYTES, "{s:?} read as {b}");
        }
        let _ = date(Some(&Value::String(s.clone())));
        let _ = date(Some(&Value::String(format!("/Date({s})/"))));
        let _ = count(Some(&Value::String(s)));
    }
}

#[test]
fn a_blank_identity_or_an_overflowing_size_is_refused() {
    let o = |v: Value| v.as_object().cloned().unwrap_or_default();
    assert_eq!(MigrationBatch::read(&o(json!({"Identity": " ", "Status": "Syncing"}))), None);
    assert!(MigrationBatch::read(&o(json!({"Identity": "", "BatchGuid": "b1", "Status": "Syncing"}))).is_some());
    assert_eq!(ExSize::parse("1e300 GB"), None);
    assert_eq!(ExSize::from_json(&json!(u64::MAX)), None);
    assert_eq!(ExSize::parse("18,446,744,073,709,551,615"), None);
    assert_eq!(ExSize::parse("28.45 GB"), Some(ExSize::Bytes(30_547_954_893)));
}
