//! Property tests of the MX change's record handling: the SPF merge over any live TXT records
//! ([`super::spf::merge`]) and the zone-file line of any TXT value ([`super::records::ZoneRecord::zone_line`]).

use super::records::{Slot, ZoneRecord};
use super::spf::{MAX_LOOKUPS, is_spf, merge};
use crate::dns::RecordValue;
use crate::fuzz_support::wild_text;
use proptest::prelude::*;

const TENANT: &str = "v=spf1 include:spf.protection.outlook.com -all";

fn spf_term() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("include:_spf.crm.example".to_owned()),
        Just("a".to_owned()),
        Just("mx:contoso.com".to_owned()),
        Just("ip4:192.0.2.0/24".to_owned()),
        Just("redirect=_spf.contoso.com".to_owned()),
        Just("~all".to_owned()),
        Just("?ALL".to_owned()),
        Just("exists:%{i}.x".to_owned()),
        "[a-z0-9:=._/-]{1,12}".prop_map(|s| s),
        wild_text(),
    ]
}

fn live_txt() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(spf_term(), 0..14).prop_map(|t| format!("v=spf1 {}", t.join(" "))),
        wild_text(),
        Just("MS=ms12345678".to_owned()),
    ]
}

/// The strings of a zone line's TXT data, unescaped.
fn txt_strings_of(line: &str) -> Vec<Vec<u8>> {
    let data = line.split_once(" TXT ").map_or("", |(_, d)| d.trim_start());
    let mut out = Vec::new();
    let mut chars = data.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => s.extend(chars.next()),
                '"' => break,
                c => s.push(c),
            }
        }
        out.push(s.into_bytes());
    }
    out
}

proptest! {
    #[test]
    fn fuzz_spf_merge(live in proptest::collection::vec(live_txt(), 0..4), tenant in prop_oneof![Just(TENANT.to_owned()), live_txt()]) {
        let m = merge(&live, &tenant);
        prop_assert!(is_spf(&m.record), "{}", m.record);
        prop_assert!(m.replaces.iter().all(|r| live.contains(r) && is_spf(r)));
        let terms: Vec<&str> = m.record.split_whitespace().skip(1).collect();
        let alls = terms.iter().filter(|t| t.trim_start_matches(['+', '-', '~', '?']).eq_ignore_ascii_case("all")).count();
        prop_assert!(alls <= 1, "{}", m.record);
        if alls == 1 {
            prop_assert!(terms.last().is_some_and(|t| t.to_ascii_lowercase().ends_with("all")), "all goes last: {}", m.record);
        }
        let mut lower: Vec<String> = terms.iter().map(|t| t.to_ascii_lowercase()).collect();
        lower.sort();
        let before = lower.len();
        lower.dedup();
        prop_assert_eq!(before, lower.len(), "no term twice: {}", m.record);
        if m.lookups > MAX_LOOKUPS {
            prop_assert!(m.warnings.iter().any(|w| w.contains("lookup")));
        }
        if is_spf(&tenant) && tenant == TENANT {
            prop_assert!(terms.contains(&"include:spf.protection.outlook.com"));
        }
    }

    /// A TXT value of any text is written as strings of at most 255 bytes that read back as the value.
    #[test]
    fn fuzz_zone_txt(text in prop_oneof![wild_text(), "[\"\\\\a-é]{200,600}".prop_map(|s| s)]) {
        let record = ZoneRecord { slot: Slot::Spf, name: "contoso.com".into(), ttl: 3600, value: RecordValue::txt(&text) };
        let line = record.zone_line();
        let strings = txt_strings_of(&line);
        prop_assert!(strings.iter().all(|s| s.len() <= 255), "a string over 255 bytes in {line}");
        prop_assert_eq!(strings.concat(), text.into_bytes(), "{}", line);
    }
}
