//! The records of the MX change, per email domain: what to set, taken from the tenant's
//! `serviceConfigurationRecords` (never built by hand: the MX host's form differs per tenant and has changed over
//! the years), the SPF merged with the domain's live TXT, and what to remove (the live MX that is not the new
//! one, the old Autodiscover A or CNAME); and the same as a zone-file snippet. Pure.

use super::spf;
use crate::dns::{DnsRecord, RecordKind, RecordValue};
use crate::m365::graph::{DnsRecord as TenantRecord, DnsRecordData};
use serde::{Deserialize, Serialize};

/// The TTL a record gets when the tenant names none: Microsoft's own suggestion for these records.
const DEFAULT_TTL: u32 = 3_600;

/// Which of the change's records a line is about: the three the propagation watch follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    Mx,
    Autodiscover,
    Spf,
}

impl Slot {
    pub const ALL: [Slot; 3] = [Slot::Mx, Slot::Autodiscover, Slot::Spf];

    pub fn label(self) -> &'static str {
        match self {
            Slot::Mx => "MX",
            Slot::Autodiscover => "Autodiscover",
            Slot::Spf => "SPF",
        }
    }
}

/// One record as a zone file line says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneRecord {
    pub slot: Slot,
    /// The owner name, lower case, without the trailing dot.
    pub name: String,
    pub ttl: u32,
    pub value: RecordValue,
}

impl ZoneRecord {
    /// The record as one zone-file line (`contoso.com. 3600 IN MX 0 host.`); a TXT longer than 255 characters
    /// is written as several strings of one record.
    pub fn zone_line(&self) -> String {
        let data = match &self.value {
            RecordValue::Mx { preference, exchange } => format!("{preference} {exchange}."),
            RecordValue::Cname(target) => format!("{target}."),
            RecordValue::Txt(text) => txt_strings(text),
            other => other.to_string(),
        };
        format!("{:<32} {:>6} IN {:<5} {data}", format!("{}.", self.name), self.ttl, self.value.kind().to_string())
    }

    /// The record as a line on screen: `contoso.com MX 0 host (TTL 3600)`.
    pub fn display(&self) -> String {
        format!("{} {} {} (TTL {})", self.name, self.value.kind(), self.value, self.ttl)
    }
}

/// A TXT value as zone-file strings: DNS caps a string at 255 bytes of the value itself, so the value is cut
/// first (on character boundaries) and each piece escaped after, which never splits an escape in two.
fn txt_strings(text: &str) -> String {
    let mut pieces: Vec<&str> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(255);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    if pieces.is_empty() {
        pieces.push("");
    }
    let escape = |piece: &str| piece.replace('\\', "\\\\").replace('"', "\\\"");
    pieces.iter().map(|p| format!("\"{}\"", escape(p))).collect::<Vec<_>>().join(" ")
}

/// What the domain's DNS says today, read before the change (from its authoritative servers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveDns {
    pub mx: Vec<DnsRecord>,
    /// Every TXT value of the domain (SPF among the others).
    pub txt: Vec<DnsRecord>,
    /// `autodiscover.<domain>`: its CNAME, or its A/AAAA records (only those owned by that name).
    pub autodiscover: Vec<DnsRecord>,
}

/// One domain's change: what to set, what to remove, and what to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRecords {
    pub domain: String,
    pub set: Vec<ZoneRecord>,
    pub remove: Vec<ZoneRecord>,
    /// The SPF records the merged one replaces (edit the one in place, remove the others).
    #[serde(default)]
    pub spf_replaces: Vec<String>,
    /// Lookups the merged SPF costs by itself.
    #[serde(default)]
    pub spf_lookups: usize,
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl DomainRecords {
    /// The record to set for `slot`, if the tenant gave one.
    pub fn to_set(&self, slot: Slot) -> Option<&ZoneRecord> {
        self.set.iter().find(|r| r.slot == slot)
    }

    /// Every value expected for `slot` (an MX set may hold several).
    pub fn expected(&self, slot: Slot) -> Vec<RecordValue> {
        self.set.iter().filter(|r| r.slot == slot).map(|r| r.value.clone()).collect()
    }
}

/// Why a domain's records could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordsError {
    #[error(
        "the tenant lists no MX record for {0} among its serviceConfigurationRecords: is the domain added and verified (stage 4)?"
    )]
    NoMx(String),
}

/// The domain's change, from the tenant's records (only those for Email) and the live DNS.
pub fn domain_records(domain: &str, tenant: &[TenantRecord], live: &LiveDns) -> Result<DomainRecords, RecordsError> {
    let domain = normalize(domain);
    let autodiscover = format!("autodiscover.{domain}");
    let email =
        tenant.iter().filter(|r| r.supported_service.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("Email")));
    let mut set = Vec::new();
    let mut tenant_spf = None;
    let mut warnings = Vec::new();
    for r in email {
        let ttl = r.ttl.unwrap_or(DEFAULT_TTL);
        let name = normalize(&r.label);
        match &r.data {
            DnsRecordData::Mx { mail_exchange, preference } => set.push(ZoneRecord {
                slot: Slot::Mx,
                name,
                ttl,
                value: RecordValue::mx(preference.unwrap_or(0), mail_exchange),
            }),
            DnsRecordData::Cname { canonical_name } if name == autodiscover => {
                set.push(ZoneRecord { slot: Slot::Autodiscover, name, ttl, value: RecordValue::cname(canonical_name) })
            }
            DnsRecordData::Txt { text } if spf::is_spf(text) => tenant_spf = Some((name, ttl, text.clone())),
            _ => {}
        }
    }
    if !set.iter().any(|r| r.slot == Slot::Mx) {
        return Err(RecordsError::NoMx(domain));
    }
    if !set.iter().any(|r| r.slot == Slot::Autodiscover) {
        warnings.push(format!(
            "the tenant lists no Autodiscover CNAME for {domain}: Outlook will not find Exchange Online"
        ));
    }
    let live_txt: Vec<String> = live.txt.iter().filter_map(|r| txt_of(&r.value)).collect();
    let (spf_replaces, spf_lookups) = match tenant_spf {
        Some((name, ttl, text)) => {
            let merged = spf::merge(&live_txt, &text);
            warnings.extend(merged.warnings.iter().cloned());
            set.push(ZoneRecord { slot: Slot::Spf, name, ttl, value: RecordValue::txt(&merged.record) });
            (merged.replaces, merged.lookups)
        }
        None => {
            warnings.push(format!("the tenant lists no SPF record for {domain}"));
            (Vec::new(), 0)
        }
    };
    let new_mx: Vec<&RecordValue> = set.iter().filter(|r| r.slot == Slot::Mx).map(|r| &r.value).collect();
    let mut remove: Vec<ZoneRecord> = live
        .mx
        .iter()
        .filter(|r| !new_mx.contains(&&r.value))
        .map(|r| ZoneRecord { slot: Slot::Mx, name: normalize(&r.name), ttl: r.ttl, value: r.value.clone() })
        .collect();
    let new_autodiscover = set.iter().find(|r| r.slot == Slot::Autodiscover).map(|r| &r.value);
    remove.extend(
        live.autodiscover
            .iter()
            .filter(|r| normalize(&r.name) == autodiscover)
            .filter(|r| matches!(r.value.kind(), RecordKind::A | RecordKind::Aaaa | RecordKind::Cname))
            .filter(|r| Some(&r.value) != new_autodiscover)
            .map(|r| ZoneRecord {
                slot: Slot::Autodiscover,
                name: autodiscover.clone(),
                ttl: r.ttl,
                value: r.value.clone(),
            }),
    );
    // The old SPF goes too when it is replaced by a different one; one `v=spf1` record per name.
    let merged = set.iter().find(|r| r.slot == Slot::Spf).and_then(|r| txt_of(&r.value));
    for old in &spf_replaces {
        if Some(old) != merged.as_ref() {
            let ttl = live.txt.iter().find(|r| txt_of(&r.value).as_ref() == Some(old)).map_or(DEFAULT_TTL, |r| r.ttl);
            remove.push(ZoneRecord { slot: Slot::Spf, name: domain.clone(), ttl, value: RecordValue::txt(old) });
        }
    }
    Ok(DomainRecords { domain, set, remove, spf_replaces, spf_lookups, warnings })
}

fn txt_of(value: &RecordValue) -> Option<String> {
    match value {
        RecordValue::Txt(t) => Some(t.clone()),
        _ => None,
    }
}

fn normalize(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The zone-file snippet of every domain's change: the records to set, then those to remove (as comments, so
/// the snippet can be pasted into a zone as is).
pub fn zone_snippet(domains: &[DomainRecords], read_at: chrono::DateTime<chrono::Utc>) -> String {
    let mut out = vec![format!(
        "; The MX change, read from the tenant's serviceConfigurationRecords by cutover at {}",
        read_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )];
    for d in domains {
        out.push(String::new());
        out.push(format!("; {}: set", d.domain));
        out.extend(d.set.iter().map(ZoneRecord::zone_line));
        if !d.remove.is_empty() {
            out.push(format!("; {}: remove", d.domain));
            out.extend(d.remove.iter().map(|r| format!("; {}", r.zone_line())));
        }
        out.extend(d.warnings.iter().map(|w| format!("; warning: {w}")));
    }
    out.push(String::new());
    out.join("\n")
}

#[cfg(test)]
pub mod tests {
    use super::*;

    fn tenant(label: &str, ttl: u32, data: DnsRecordData) -> TenantRecord {
        TenantRecord {
            id: None,
            label: label.into(),
            ttl: Some(ttl),
            is_optional: false,
            supported_service: Some("Email".into()),
            data,
        }
    }

    pub fn tenant_records() -> Vec<TenantRecord> {
        vec![
            tenant(
                "contoso.com",
                3600,
                DnsRecordData::Mx {
                    mail_exchange: "contoso-com.mail.protection.outlook.com".into(),
                    preference: Some(0),
                },
            ),
            tenant(
                "contoso.com",
                3600,
                DnsRecordData::Txt { text: "v=spf1 include:spf.protection.outlook.com -all".into() },
            ),
            tenant(
                "autodiscover.contoso.com",
                3600,
                DnsRecordData::Cname { canonical_name: "autodiscover.outlook.com".into() },
            ),
            TenantRecord {
                supported_service: Some("OfficeCommunicationsOnline".into()),
                ..tenant(
                    "sip.contoso.com",
                    3600,
                    DnsRecordData::Cname { canonical_name: "sipdir.online.lync.com".into() },
                )
            },
        ]
    }

    fn live(name: &str, ttl: u32, value: RecordValue) -> DnsRecord {
        DnsRecord { name: name.into(), ttl, value }
    }

    pub fn live_dns() -> LiveDns {
        LiveDns {
            mx: vec![
                live("contoso.com", 300, RecordValue::mx(10, "mail.contoso.com")),
                live("contoso.com", 300, RecordValue::mx(0, "contoso-com.mail.protection.outlook.com")),
            ],
            txt: vec![
                live("contoso.com", 3600, RecordValue::txt("MS=ms12345678")),
                live("contoso.com", 3600, RecordValue::txt("v=spf1 mx include:_spf.crm.example -all")),
            ],
            autodiscover: vec![live(
                "autodiscover.contoso.com",
                3600,
                RecordValue::A("192.0.2.10".parse().expect("ip")),
            )],
        }
    }

    #[test]
    fn records_to_set_come_from_the_tenant_and_the_spf_is_merged() {
        let d = domain_records("Contoso.com", &tenant_records(), &live_dns()).expect("records");
        assert_eq!(d.domain, "contoso.com");
        let mx = d.to_set(Slot::Mx).expect("mx");
        assert_eq!(mx.value, RecordValue::mx(0, "contoso-com.mail.protection.outlook.com"));
        assert_eq!(mx.ttl, 3600);
        assert_eq!(d.to_set(Slot::Autodiscover).expect("cname").value, RecordValue::cname("autodiscover.outlook.com"));
        assert_eq!(
            d.to_set(Slot::Spf).expect("spf").value,
            RecordValue::txt("v=spf1 mx include:_spf.crm.example include:spf.protection.outlook.com -all")
        );
        assert_eq!(d.set.len(), 3, "the Teams CNAME is not the MX change's: {:?}", d.set);
        assert_eq!(d.spf_lookups, 3);
    }

    #[test]
    fn records_to_remove_are_the_live_ones_that_are_not_the_new() {
        let d = domain_records("contoso.com", &tenant_records(), &live_dns()).expect("records");
        let removed: Vec<String> = d.remove.iter().map(ZoneRecord::display).collect();
        assert_eq!(
            removed,
            [
                "contoso.com MX 10 mail.contoso.com (TTL 300)",
                "autodiscover.contoso.com A 192.0.2.10 (TTL 3600)",
                "contoso.com TXT \"v=spf1 mx include:_spf.crm.example -all\" (TTL 3600)",
            ],
            "the new MX already there stays, the verification TXT stays"
        );
        let mut done = live_dns();
        done.mx.remove(0);
        done.autodiscover =
            vec![live("autodiscover.contoso.com", 3600, RecordValue::cname("autodiscover.outlook.com"))];
        done.txt[1] = live("contoso.com", 3600, RecordValue::txt("v=spf1 include:spf.protection.outlook.com -all"));
        let d = domain_records("contoso.com", &tenant_records(), &done).expect("records");
        assert!(d.remove.is_empty(), "{:?}", d.remove);
    }

    #[test]
    fn a_domain_the_tenant_has_no_mx_for_is_refused() {
        let only_txt = vec![tenant_records().remove(1)];
        assert!(matches!(domain_records("contoso.com", &only_txt, &LiveDns::default()), Err(RecordsError::NoMx(_))));
    }

    #[test]
    fn the_zone_snippet_sets_and_comments_out_what_to_remove() {
        let d = domain_records("contoso.com", &tenant_records(), &live_dns()).expect("records");
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").expect("time").to_utc();
        let zone = zone_snippet(&[d], at);
        assert!(zone.contains("2026-12-01T12:00:00Z"), "{zone}");
        let lines: Vec<&str> = zone.lines().collect();
        let line = |start: &str| lines.iter().find(|l| l.starts_with(start)).copied().unwrap_or_default();
        assert!(line("contoso.com. ").ends_with("IN MX    0 contoso-com.mail.protection.outlook.com."), "{zone}");
        assert!(line("autodiscover.contoso.com.").ends_with("IN CNAME autodiscover.outlook.com."), "{zone}");
        assert!(
            zone.contains("IN TXT   \"v=spf1 mx include:_spf.crm.example include:spf.protection.outlook.com -all\"")
        );
        assert!(line("; contoso.com.").contains("MX    10 mail.contoso.com."), "{zone}");
        assert!(zone.contains("; contoso.com: remove"), "{zone}");
    }

    #[test]
    fn a_long_txt_is_split_into_strings_of_255() {
        let long = "v=spf1 ".to_owned() + &"ip4:192.0.2.1 ".repeat(30) + "-all";
        let r = ZoneRecord { slot: Slot::Spf, name: "contoso.com".into(), ttl: 300, value: RecordValue::txt(&long) };
        let line = r.zone_line();
        assert_eq!(line.matches('"').count(), 4, "{line}");
    }
}
