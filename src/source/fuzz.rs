//! Property tests of what the source's servers answer: the POX Autodiscover XML ([`super::autodiscover::pox`]),
//! EWS's SOAP envelope ([`super::ews::parse_soap`]), `WWW-Authenticate` challenges and the `ServerVersion` hex.
//! Any body, and Microsoft's documented answer spoiled or with odd values, give a typed answer or a typed error.

use super::autodiscover::pox::{PoxParseError, PoxResponse, parse};
use super::ews::parse_soap;
use super::version::ExchangeBuild;
use crate::fuzz_support::{apply, spoil, wild_text};
use proptest::prelude::*;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A POX answer built from parts: which action, which elements, and any text in them.
fn pox_doc() -> impl Strategy<Value = String> {
    let action =
        prop_oneof![Just("settings"), Just("redirectAddr"), Just("redirectUrl"), Just("RedirectAddr"), Just("")];
    let text = prop_oneof![wild_text().prop_map(|t| escape(&t)), Just("72008287".to_owned()), Just(String::new())];
    (action, text.clone(), text.clone(), text, any::<[bool; 5]>()).prop_map(|(action, a, b, c, has)| {
        let mut account = format!("<AccountType>email</AccountType><Action>{action}</Action>");
        if has[0] {
            account.push_str(&format!("<RedirectAddr>{a}</RedirectAddr><RedirectUrl>{a}</RedirectUrl>"));
        }
        if has[1] {
            account.push_str(&format!(
                "<Protocol><Type>EXPR</Type><Server>{b}</Server><SSL>{c}</SSL><AuthPackage>{c}</AuthPackage></Protocol>"
            ));
        }
        if has[2] {
            account.push_str(&format!("<Protocol Type=\"{}\"><ServerVersion>{b}</ServerVersion><EwsUrl>{a}</EwsUrl></Protocol>", c.replace('"', "&quot;")));
        }
        if has[3] {
            account.push_str(&format!("<Error><ErrorCode>{a}</ErrorCode><Message>{b}</Message></Error>"));
        }
        let user = if has[4] { format!("<User><DisplayName>{b}</DisplayName><LegacyDN>{c}</LegacyDN></User>") } else { String::new() };
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\"><Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">{user}<Account>{account}</Account></Response></Autodiscover>"
        )
    })
}

fn check(body: &str) {
    match parse(body) {
        Ok(PoxResponse::Settings(s)) => {
            assert!(
                !s.protocols.is_empty()
                    || s.display_name.is_some()
                    || s.legacy_dn.is_some()
                    || s.deployment_id.is_some()
                    || s.autodiscover_smtp_address.is_some()
                    || body.contains("<User")
            );
            let _ = (s.outlook_anywhere(), s.ews_url(), s.server_version());
        }
        Ok(PoxResponse::RedirectAddr(t) | PoxResponse::RedirectUrl(t)) => assert!(!t.trim().is_empty()),
        Ok(PoxResponse::Error(_)) => {}
        Err(e) => {
            assert!(!e.to_string().is_empty());
            if let PoxParseError::MissingRedirectTarget { element, .. } = e {
                assert!(element.starts_with("Redirect"));
            }
        }
    }
}

proptest! {
    #[test]
    fn fuzz_autodiscover_any_text(text in wild_text(), bytes in any::<Vec<u8>>()) {
        check(&text);
        check(&String::from_utf8_lossy(&bytes));
        let _ = parse_soap(&text);
        let _ = super::net::parse_challenges(&text);
    }

    #[test]
    fn fuzz_autodiscover_built(doc in pox_doc(), how in spoil()) {
        check(&doc);
        check(&String::from_utf8_lossy(&apply(doc.as_bytes(), &how)));
    }

    #[test]
    fn fuzz_ews_envelope(version in wild_text(), code in wild_text(), how in spoil()) {
        let doc = format!(
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header><h:ServerVersionInfo MajorVersion=\"{v}\" MinorVersion=\"2\" MajorBuildNumber=\"1544\" MinorBuildNumber=\"4\" Version=\"V2017_07_11\" xmlns:h=\"http://schemas.microsoft.com/exchange/services/2006/types\"/></s:Header><s:Body><m:ResponseCode xmlns:m=\"m\">{c}</m:ResponseCode></s:Body></s:Envelope>",
            v = escape(&version).replace('"', "&quot;"),
            c = escape(&code)
        );
        if let Ok(answer) = parse_soap(&doc) {
            // A build is read only from numbers: an odd MajorVersion leaves it unknown, not zero.
            prop_assert_eq!(answer.build.is_some(), version.trim().parse::<u16>().is_ok());
        }
        let _ = parse_soap(&String::from_utf8_lossy(&apply(doc.as_bytes(), &how)));
    }

    #[test]
    fn fuzz_server_version(hex in prop_oneof![wild_text(), "[+0-9a-fA-F]{8}".prop_map(|s| s)]) {
        if ExchangeBuild::from_pox_server_version(&hex).is_some() {
            prop_assert!(hex.trim().chars().all(|c| c.is_ascii_hexdigit()), "{hex:?}");
        }
    }
}
