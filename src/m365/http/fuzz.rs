//! Property tests of what the HTTP layer reads from Microsoft's answers: pages (`value`, `@odata.nextLink`,
//! `@adminapi.warnings`), error bodies of the identity platform, Graph and Exchange, `Retry-After` in every form,
//! and the Graph response types. Any body gives a typed result or a typed error; never a panic.

use super::{Response, parse_page, retry_after, warnings};
use crate::fuzz_support::{apply, json_value, mutate_json, spoil, wild_text};
use crate::m365::error::{M365Error, Service, api_error};
use crate::m365::graph::types::{DnsRecord, Domain, Group, Organization, ServiceHealth, SubscribedSku, User};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

fn response(body: Vec<u8>) -> Response {
    Response {
        service: Service::ExchangeOnline,
        status: 200,
        headers: HeaderMap::new(),
        body,
        request_id: "r".into(),
        what: "POST /InvokeCommand".into(),
    }
}

const PAGE: &str = r#"{"@odata.context":"x","value":[{"Identity":"a"},{"Identity":"b"}],"@odata.nextLink":"https://outlook.office365.com/adminapi/beta/t/InvokeCommand?$skiptoken=2","@adminapi.warnings":["WARNING: x"]}"#;
const GRAPH_ERROR: &str = r#"{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist.","details":[{"message":"ex1|Microsoft.Exchange.Management.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'x' couldn't be found."}],"innerError":{"request-id":"9f1c","date":"2024-05-02T10:00:00"}}}"#;
const IDENTITY_ERROR: &str = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1","error_codes":[7000215],"timestamp":"2024-05-02 10:00:00Z","trace_id":"1","correlation_id":"2"}"#;

fn check_error(body: &[u8]) {
    let e = api_error(Service::Graph, "GET", "/v1.0/domains", 404, body, "ours", None, Some("Domain.Read.All"));
    assert_eq!(e.status, 404);
    assert!(!e.message.is_empty() && !e.advice.is_empty() && !e.request_id.is_empty());
    assert!(e.message.chars().count() <= body.len() + 240, "the message stays short: {}", e.message.len());
    let _ = e.to_string();
}

proptest! {
    #[test]
    fn fuzz_page_any_bytes(bytes in any::<Vec<u8>>(), how in spoil()) {
        for body in [bytes, apply(PAGE.as_bytes(), &how)] {
            match parse_page(&response(body)) {
                Ok(page) => prop_assert!(page.next_link.as_deref().is_none_or(|l| !l.is_empty())),
                Err(e) => prop_assert!(matches!(e, M365Error::Malformed { .. }), "{e}"),
            }
        }
    }

    #[test]
    fn fuzz_page_wrong_fields(doc in mutate_json(serde_json::from_str(PAGE).unwrap_or_default()), any_doc in json_value()) {
        for doc in [doc, any_doc] {
            let body = serde_json::to_vec(&doc).unwrap_or_default();
            match parse_page(&response(body)) {
                Ok(page) => {
                    // What was kept is what the document said.
                    let value = doc.get("value");
                    prop_assert_eq!(page.items.len(), value.and_then(Value::as_array).map_or(0, Vec::len));
                    if let Some(o) = doc.as_object() {
                        prop_assert_eq!(page.warnings, warnings(o));
                    }
                }
                Err(e) => prop_assert!(matches!(e, M365Error::Malformed { .. }), "{e}"),
            }
        }
    }

    #[test]
    fn fuzz_error_bodies(bytes in any::<Vec<u8>>(), how in spoil(), which in any::<bool>(),
                         doc in mutate_json(serde_json::from_str(GRAPH_ERROR).unwrap_or_default()),
                         id_doc in mutate_json(serde_json::from_str(IDENTITY_ERROR).unwrap_or_default())) {
        check_error(&bytes);
        check_error(&apply(if which { GRAPH_ERROR } else { IDENTITY_ERROR }.as_bytes(), &how));
        check_error(&serde_json::to_vec(&doc).unwrap_or_default());
        check_error(&serde_json::to_vec(&id_doc).unwrap_or_default());
    }

    #[test]
    fn fuzz_retry_after(value in wild_text(), ms in wild_text(), date in wild_text(), secs in any::<u64>()) {
        let mut headers = HeaderMap::new();
        for (name, v) in [("retry-after", value), ("retry-after-ms", ms), ("date", date)] {
            if let Ok(v) = HeaderValue::from_str(&v) {
                headers.insert(name, v);
            }
        }
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        if let Some(wait) = retry_after(&headers, now) {
            // A wait is added to the time already waited: it must stay far from overflowing.
            prop_assert!(wait <= Duration::from_secs(86_400), "{wait:?}");
        }
        headers.insert("retry-after", HeaderValue::from(secs));
        prop_assert!(retry_after(&headers, now).is_some_and(|w| w <= Duration::from_secs(86_400)));
    }

    /// The Graph types, from any JSON and from documented objects with one field spoiled.
    #[test]
    fn fuzz_graph_types(v in json_value(),
                        spoiled in (0usize..6).prop_flat_map(|i| mutate_json(graph_documented().swap_remove(i)))) {
        for doc in [v, spoiled] {
            read_graph(&doc);
            let _ = DnsRecord::from_json(doc);
        }
    }

    #[test]
    fn fuzz_jwt_claims(token in wild_text(), payload in any::<Vec<u8>>()) {
        use base64::Engine;
        let _ = crate::m365::auth::claim(&token, &["upn"]);
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
        let _ = crate::m365::auth::claim(&format!("h.{encoded}.s"), &["upn", "preferred_username"]);
    }
}

fn graph_documented() -> Vec<Value> {
    vec![
        json!({"id": "t1", "displayName": "Contoso", "onPremisesSyncEnabled": null,
               "verifiedDomains": [{"name": "contoso.com", "isDefault": true, "isInitial": false, "type": "Managed"}]}),
        json!({"id": "contoso.com", "authenticationType": "Managed", "isDefault": false, "isInitial": false,
               "isRoot": true, "isVerified": true, "supportedServices": ["Email"]}),
        json!({"skuId": "c7df2760", "skuPartNumber": "ENTERPRISEPACK", "consumedUnits": 14,
               "prepaidUnits": {"enabled": 25, "suspended": 0, "warning": 0},
               "servicePlans": [{"servicePlanId": "efb87545", "servicePlanName": "EXCHANGE_S_ENTERPRISE"}]}),
        json!({"id": "u1", "userPrincipalName": "a@contoso.com", "proxyAddresses": ["SMTP:a@contoso.com"],
               "assignedLicenses": [{"skuId": "c7df2760", "disabledPlans": []}]}),
        json!({"@odata.type": "#microsoft.graph.domainDnsMxRecord", "isOptional": false, "label": "contoso.com",
               "recordType": "Mx", "supportedService": "Email", "ttl": 3600,
               "mailExchange": "contoso-com.mail.protection.outlook.com", "preference": 0}),
        json!({"id": "g1", "displayName": "Sales", "groupTypes": ["Unified"], "mail": "sales@contoso.com"}),
    ]
}

fn read_graph(v: &Value) {
    if let Ok(o) = serde_json::from_value::<Organization>(v.clone()) {
        let _ = o.directory_sync_on();
    }
    let _ = serde_json::from_value::<Domain>(v.clone());
    if let Ok(s) = serde_json::from_value::<SubscribedSku>(v.clone()) {
        assert!(s.available() <= s.prepaid_units.enabled);
    }
    let _ = serde_json::from_value::<User>(v.clone());
    let _ = serde_json::from_value::<Group>(v.clone());
    let _ = serde_json::from_value::<ServiceHealth>(v.clone());
}
