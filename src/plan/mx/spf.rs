//! The SPF record to publish at the MX change: the domain's live SPF merged with the tenant's, so the other
//! senders the customer authorised (a CRM, a newsletter service, the office printer's relay) keep working.
//! RFC 7208: one `v=spf1` record per name (two are a permanent error), at most 10 terms that cost a DNS lookup
//! (`include`, `a`, `mx`, `ptr`, `exists`, `redirect`), and `all` last.

/// Terms that cost the receiver a DNS lookup (RFC 7208 section 4.6.4).
const LOOKUP_TERMS: [&str; 6] = ["include:", "a", "mx", "ptr", "exists:", "redirect="];

/// The most lookups a receiver follows before the record is a permanent error.
pub const MAX_LOOKUPS: usize = 10;

/// The merged record, what it replaces and what to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfMerge {
    /// The one `v=spf1` TXT record to publish.
    pub record: String,
    /// The live SPF records it replaces (remove them, or edit the one in place).
    pub replaces: Vec<String>,
    /// Lookups in the record itself; each `include` may cost more inside.
    pub lookups: usize,
    pub warnings: Vec<String>,
}

/// Whether a TXT value is an SPF record.
pub fn is_spf(txt: &str) -> bool {
    let t = txt.trim();
    t.eq_ignore_ascii_case("v=spf1") || t.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("v=spf1 "))
}

/// Merges the domain's live TXT records with the tenant's SPF record (from `serviceConfigurationRecords`).
pub fn merge(live_txt: &[String], tenant_spf: &str) -> SpfMerge {
    let replaces: Vec<String> = live_txt.iter().filter(|t| is_spf(t)).cloned().collect();
    let mut warnings = Vec::new();
    if replaces.len() > 1 {
        warnings.push(format!(
            "the domain has {} SPF records, which receivers treat as a permanent error: publish only the merged one",
            replaces.len()
        ));
    }
    let mut terms: Vec<String> = Vec::new();
    let mut all: Option<String> = None;
    // The live records first (their senders stay), then the tenant's: its include is what the change adds.
    for record in replaces.iter().map(String::as_str).chain(std::iter::once(tenant_spf)) {
        for term in record.split_whitespace().skip(1) {
            if is_all(term) {
                // The customer's policy wins; the tenant's only when the domain had none.
                all.get_or_insert_with(|| term.to_owned());
                continue;
            }
            if !terms.iter().any(|t| t.eq_ignore_ascii_case(term)) {
                terms.push(term.to_owned());
            }
        }
    }
    // A redirect ends the record's own terms; it goes last, and an `all` would make it unused.
    let redirect = terms.iter().position(|t| t.to_ascii_lowercase().starts_with("redirect="));
    let redirect = redirect.map(|i| terms.remove(i));
    if redirect.is_some() && all.is_some() {
        warnings.push("the record has both redirect= and all: receivers ignore the redirect".to_owned());
    }
    let lookups = terms.iter().chain(redirect.iter()).filter(|t| costs_lookup(t)).count();
    if lookups > MAX_LOOKUPS {
        warnings.push(format!(
            "{lookups} terms cost a DNS lookup, past SPF's limit of {MAX_LOOKUPS}: receivers reject the record; drop \
             senders no longer used, or replace includes with their ip4:/ip6: ranges"
        ));
    }
    let mut record = String::from("v=spf1");
    for term in terms.iter().chain(redirect.iter()).chain(all.iter()) {
        record.push(' ');
        record.push_str(term);
    }
    if record.len() > 255 {
        warnings.push(format!(
            "the record is {} characters: a TXT string holds 255, so publish it as several strings of one record",
            record.len()
        ));
    }
    SpfMerge { record, replaces, lookups, warnings }
}

fn is_all(term: &str) -> bool {
    term.trim_start_matches(['+', '-', '~', '?']).eq_ignore_ascii_case("all")
}

fn costs_lookup(term: &str) -> bool {
    let t = term.trim_start_matches(['+', '-', '~', '?']).to_ascii_lowercase();
    LOOKUP_TERMS.iter().any(|k| match *k {
        // `a` and `mx` stand alone or take `:domain` or `/cidr`.
        "a" | "mx" | "ptr" => t == *k || t.starts_with(&format!("{k}:")) || t.starts_with(&format!("{k}/")),
        prefix => t.starts_with(prefix),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "v=spf1 include:spf.protection.outlook.com -all";

    fn txt(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn the_other_senders_are_kept_and_the_tenant_include_added() {
        let live = txt(&["MS=ms12345678", "v=spf1 mx include:_spf.crm.example ip4:203.0.113.5 ~all"]);
        let m = merge(&live, TENANT);
        assert_eq!(
            m.record,
            "v=spf1 mx include:_spf.crm.example ip4:203.0.113.5 include:spf.protection.outlook.com ~all"
        );
        assert_eq!(m.replaces, txt(&["v=spf1 mx include:_spf.crm.example ip4:203.0.113.5 ~all"]));
        assert_eq!(m.lookups, 3, "mx and two includes");
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    }

    #[test]
    fn without_a_live_record_the_tenants_is_published() {
        let m = merge(&txt(&["google-site-verification=abc"]), TENANT);
        assert_eq!(m.record, TENANT);
        assert!(m.replaces.is_empty());
    }

    #[test]
    fn an_include_already_there_is_not_doubled() {
        let live = txt(&["v=spf1 INCLUDE:spf.protection.outlook.com -all"]);
        assert_eq!(merge(&live, TENANT).record, "v=spf1 INCLUDE:spf.protection.outlook.com -all");
    }

    #[test]
    fn two_spf_records_are_merged_into_one_with_a_warning() {
        let live = txt(&["v=spf1 include:a.example -all", "v=spf1 include:b.example ~all"]);
        let m = merge(&live, TENANT);
        assert_eq!(m.record, "v=spf1 include:a.example include:b.example include:spf.protection.outlook.com -all");
        assert_eq!(m.replaces.len(), 2);
        assert!(m.warnings.iter().any(|w| w.contains("2 SPF records")), "{:?}", m.warnings);
    }

    #[test]
    fn more_than_ten_lookups_are_warned_of() {
        let includes: Vec<String> = (0..10).map(|i| format!("include:s{i}.example")).collect();
        let live = vec![format!("v=spf1 {} -all", includes.join(" "))];
        let m = merge(&live, TENANT);
        assert_eq!(m.lookups, 11);
        assert!(m.warnings.iter().any(|w| w.contains("past SPF's limit of 10")), "{:?}", m.warnings);
    }

    #[test]
    fn lookups_count_only_the_terms_that_cost_one() {
        for (term, costs) in [
            ("a", true),
            ("-a:mail.example", true),
            ("mx/24", true),
            ("ip4:192.0.2.1", false),
            ("all", false),
            ("exists:%{i}.x", true),
            ("aa", false),
        ] {
            assert_eq!(costs_lookup(term), costs, "{term}");
        }
    }

    #[test]
    fn a_redirect_goes_last() {
        let m = merge(&txt(&["v=spf1 redirect=_spf.example"]), "v=spf1 include:spf.protection.outlook.com");
        assert_eq!(m.record, "v=spf1 include:spf.protection.outlook.com redirect=_spf.example");
    }

    #[test]
    fn spf_records_are_told_from_other_txt() {
        assert!(is_spf("v=spf1 -all") && is_spf("V=SPF1") && !is_spf("v=spf10 x") && !is_spf("MS=ms1"));
    }
}
