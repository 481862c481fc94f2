//! Property tests of the DNS answer handling: names as the engineer or the tenant writes them ([`fqdn`]), record
//! data as resolvers return it ([`RecordValue::from_rdata`], TXT strings of any bytes, MX hosts of any name), the
//! comparison with the expected records ([`matches`]) and a watch over rounds of any answers ([`Propagation`]).

use super::*;
use crate::fuzz_support::wild_text;
use hickory_resolver::proto::rr::Name;
use hickory_resolver::proto::rr::rdata::{MX, TXT};
use proptest::prelude::*;

fn record(value: RecordValue, ttl: u32) -> DnsRecord {
    DnsRecord { name: "contoso.com".into(), ttl, value }
}

fn value() -> impl Strategy<Value = RecordValue> {
    prop_oneof![
        (any::<u16>(), "[a-zA-Z0-9.-]{0,20}\\.?").prop_map(|(p, h)| RecordValue::mx(p, &h)),
        wild_text().prop_map(|t| RecordValue::txt(&t)),
        "[a-zA-Z0-9.-]{0,20}".prop_map(|h| RecordValue::cname(&h)),
        any::<[u8; 4]>().prop_map(|a| RecordValue::A(a.into())),
    ]
}

fn records() -> impl Strategy<Value = Vec<DnsRecord>> {
    proptest::collection::vec((value(), any::<u32>()).prop_map(|(v, t)| record(v, t)), 0..4)
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        records().prop_map(Answer::Expected),
        records().prop_map(Answer::Other),
        wild_text().prop_map(|name| Answer::Failed(DnsError::InvalidName { name, reason: "x".into() })),
    ]
}

proptest! {
    #[test]
    fn fuzz_dns_names(name in prop_oneof![wild_text(), "[a-zA-Z0-9_.-]{0,300}".prop_map(|s| s)]) {
        match fqdn(&name) {
            Ok(fq) => {
                prop_assert!(fq.ends_with('.') && fq.len() <= 254, "{fq}");
                prop_assert!(fq.trim_end_matches('.').split('.').all(|l| !l.is_empty() && l.len() <= 63));
                prop_assert!(fq.is_ascii());
            }
            Err(e) => prop_assert!(matches!(e, DnsError::InvalidName { .. }), "{e}"),
        }
        let _ = normalize_host(&name);
    }

    #[test]
    fn fuzz_dns_record_data(parts in proptest::collection::vec(any::<Vec<u8>>(), 0..4), host in wild_text(),
                            pref in any::<u16>()) {
        let txt = RData::TXT(TXT::from_bytes(parts.iter().map(Vec::as_slice).collect()));
        let Some(RecordValue::Txt(text)) = RecordValue::from_rdata(&txt) else {
            return Err(TestCaseError::fail("a TXT record was not read as one"));
        };
        // One value from all the strings, none lost (bad UTF-8 is replaced, never dropped).
        prop_assert_eq!(text.len(), parts.iter().map(|p| String::from_utf8_lossy(p).len()).sum::<usize>());
        if let Ok(name) = Name::from_utf8(&host) {
            let mx = RData::MX(MX::new(pref, name));
            match RecordValue::from_rdata(&mx) {
                Some(RecordValue::Mx { preference, exchange }) => {
                    prop_assert_eq!(preference, pref);
                    prop_assert!(!exchange.ends_with('.'));
                    prop_assert_eq!(exchange.clone(), exchange.to_ascii_lowercase());
                }
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
        }
    }

    #[test]
    fn fuzz_dns_watch(expected in proptest::collection::vec(value(), 0..3),
                      rounds in proptest::collection::vec(proptest::collection::vec(answer(), 0..4), 0..6),
                      exactly in any::<bool>()) {
        let mode = if exactly { MatchMode::Exactly } else { MatchMode::ContainsAll };
        let resolvers: Vec<Resolver> = (0..3u16)
            .filter_map(|i| Resolver::at(format!("r{i}"), &[SocketAddr::from(([127, 0, 0, 1], 53 + i))]).ok())
            .collect();
        prop_assert_eq!(resolvers.len(), 3);
        let mut spec = WatchSpec::new("Contoso.COM.", RecordKind::Mx, expected.clone());
        spec.mode = mode;
        let mut watch = Propagation::new(&resolvers, &spec);
        let mut done_at: Vec<Option<Duration>> = vec![None; resolvers.len()];
        for (i, round) in rounds.into_iter().enumerate() {
            for a in &round {
                if let Answer::Expected(records) | Answer::Other(records) = a {
                    let _ = matches(records, &expected, mode);
                }
            }
            watch.merge(round, Duration::from_secs(60 * i as u64));
            for ((_, status), first) in watch.resolvers().iter().zip(done_at.iter_mut()) {
                if let ResolverStatus::Propagated { after, .. } = status {
                    // Once propagated, a resolver stays so, with the time it first did.
                    prop_assert_eq!(*first.get_or_insert(*after), *after);
                } else {
                    prop_assert!(first.is_none(), "a propagated resolver went back");
                }
            }
        }
        prop_assert!(!matches(&[], &[], mode), "nothing expected is never a match");
        watch.time_out();
        prop_assert!(watch.resolvers().iter().all(|(_, s)| s.is_final()));
        let _ = watch.summary(Duration::from_secs(1)).all_propagated();
    }
}
