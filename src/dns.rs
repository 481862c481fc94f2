//! DNS as the engineer sees it from outside: queries to chosen resolvers (the system's, well-known public ones,
//! the domain's authoritative servers, or given socket addresses such as the simulator's), records with their
//! TTLs, the MX TTLs that stage 4's check judges, and for stage 7's propagation watch one round of asking every
//! resolver ([`ask_once`]) plus [`Propagation`], which merges successive rounds into when each resolver first
//! returned the expected records. Facts only: the verdicts are the plan's; the polling (interval, cancellation)
//! is the runner's job.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};

/// A resolver failed, or the question itself was wrong.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DnsError {
    #[error("'{name}' is not a valid DNS name ({reason}); give a name such as contoso.com")]
    InvalidName { name: String, reason: String },
    #[error(
        "the system's DNS configuration could not be read ({0}); choose explicit resolvers (public ones or \
         socket addresses) instead"
    )]
    SystemConfig(String),
    #[error("the resolver {resolver} could not be set up: {reason}")]
    Setup { resolver: String, reason: String },
    #[error("no resolver was given; choose at least one (the system's, a public one or a socket address)")]
    NoResolvers,
    #[error("{name} does not exist (NXDOMAIN) according to {resolver}; check the spelling or publish the record")]
    NxDomain { name: String, resolver: String },
    #[error(
        "{resolver} did not answer for {name} {kind}: {reason}; check that the resolver is reachable (UDP and \
         TCP port 53) or choose another one"
    )]
    Unreachable { resolver: String, name: String, kind: RecordKind, reason: String },
    #[error("{resolver} refused or failed the query for {name} {kind}: {reason}")]
    Failed { resolver: String, name: String, kind: RecordKind, reason: String },
    #[error(
        "no authoritative name server of {domain} could be found ({reason}); check that the domain is \
         registered and delegated, or query chosen resolvers instead"
    )]
    NoAuthoritative { domain: String, reason: String },
}

/// The record types the wizard asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum RecordKind {
    A,
    Aaaa,
    Cname,
    Mx,
    Ns,
    Srv,
    Txt,
}

impl RecordKind {
    fn record_type(self) -> RecordType {
        match self {
            RecordKind::A => RecordType::A,
            RecordKind::Aaaa => RecordType::AAAA,
            RecordKind::Cname => RecordType::CNAME,
            RecordKind::Mx => RecordType::MX,
            RecordKind::Ns => RecordType::NS,
            RecordKind::Srv => RecordType::SRV,
            RecordKind::Txt => RecordType::TXT,
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordKind::A => "A",
            RecordKind::Aaaa => "AAAA",
            RecordKind::Cname => "CNAME",
            RecordKind::Mx => "MX",
            RecordKind::Ns => "NS",
            RecordKind::Srv => "SRV",
            RecordKind::Txt => "TXT",
        })
    }
}

/// The data of one record. Host names are kept lower case and without the trailing dot, so that values compare
/// the way DNS compares them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum RecordValue {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    Mx { preference: u16, exchange: String },
    Ns(String),
    Srv { priority: u16, weight: u16, port: u16, target: String },
    Txt(String),
}

impl RecordValue {
    pub fn kind(&self) -> RecordKind {
        match self {
            RecordValue::A(_) => RecordKind::A,
            RecordValue::Aaaa(_) => RecordKind::Aaaa,
            RecordValue::Cname(_) => RecordKind::Cname,
            RecordValue::Mx { .. } => RecordKind::Mx,
            RecordValue::Ns(_) => RecordKind::Ns,
            RecordValue::Srv { .. } => RecordKind::Srv,
            RecordValue::Txt(_) => RecordKind::Txt,
        }
    }

    /// An MX value as the tenant's service configuration records give it (host names in any case, with or
    /// without the trailing dot).
    pub fn mx(preference: u16, exchange: &str) -> Self {
        RecordValue::Mx { preference, exchange: normalize_host(exchange) }
    }

    pub fn cname(target: &str) -> Self {
        RecordValue::Cname(normalize_host(target))
    }

    pub fn txt(text: &str) -> Self {
        RecordValue::Txt(text.to_owned())
    }

    pub fn srv(priority: u16, weight: u16, port: u16, target: &str) -> Self {
        RecordValue::Srv { priority, weight, port, target: normalize_host(target) }
    }

    fn from_rdata(data: &RData) -> Option<Self> {
        Some(match data {
            RData::A(a) => RecordValue::A(a.0),
            RData::AAAA(a) => RecordValue::Aaaa(a.0),
            RData::CNAME(c) => RecordValue::Cname(normalize_host(&c.0.to_ascii())),
            RData::MX(mx) => RecordValue::mx(mx.preference, &mx.exchange.to_ascii()),
            RData::NS(ns) => RecordValue::Ns(normalize_host(&ns.0.to_ascii())),
            RData::SRV(srv) => RecordValue::srv(srv.priority, srv.weight, srv.port, &srv.target.to_ascii()),
            // A TXT record is a list of strings that together make one value (SPF records are often split).
            RData::TXT(txt) => {
                RecordValue::Txt(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part)).collect::<String>())
            }
            _ => return None,
        })
    }
}

impl fmt::Display for RecordValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordValue::A(ip) => write!(f, "{ip}"),
            RecordValue::Aaaa(ip) => write!(f, "{ip}"),
            RecordValue::Cname(target) | RecordValue::Ns(target) => write!(f, "{target}"),
            RecordValue::Mx { preference, exchange } => write!(f, "{preference} {exchange}"),
            RecordValue::Srv { priority, weight, port, target } => write!(f, "{priority} {weight} {port} {target}"),
            RecordValue::Txt(text) => write!(f, "\"{text}\""),
        }
    }
}

/// One record as a resolver returned it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DnsRecord {
    pub name: String,
    pub ttl: u32,
    pub value: RecordValue,
}

impl fmt::Display for DnsRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} {}", self.name, self.ttl, self.value.kind(), self.value)
    }
}

/// Well-known public resolvers, for a view of the world outside the customer's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicResolver {
    Google,
    Cloudflare,
    Quad9,
    OpenDns,
}

impl PublicResolver {
    pub const ALL: [PublicResolver; 4] =
        [PublicResolver::Google, PublicResolver::Cloudflare, PublicResolver::Quad9, PublicResolver::OpenDns];

    /// The resolver of a short name (`google`, `cloudflare`, `quad9`, `opendns`), any case.
    pub fn named(name: &str) -> Option<PublicResolver> {
        match name.trim().to_ascii_lowercase().as_str() {
            "google" => Some(PublicResolver::Google),
            "cloudflare" => Some(PublicResolver::Cloudflare),
            "quad9" => Some(PublicResolver::Quad9),
            "opendns" => Some(PublicResolver::OpenDns),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            PublicResolver::Google => "Google Public DNS",
            PublicResolver::Cloudflare => "Cloudflare 1.1.1.1",
            PublicResolver::Quad9 => "Quad9",
            PublicResolver::OpenDns => "OpenDNS",
        }
    }

    fn addresses(self) -> [IpAddr; 2] {
        let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
        match self {
            PublicResolver::Google => [v4(8, 8, 8, 8), v4(8, 8, 4, 4)],
            PublicResolver::Cloudflare => [v4(1, 1, 1, 1), v4(1, 0, 0, 1)],
            PublicResolver::Quad9 => [v4(9, 9, 9, 9), v4(149, 112, 112, 112)],
            PublicResolver::OpenDns => [v4(208, 67, 222, 222), v4(208, 67, 220, 220)],
        }
    }
}

/// A resolver to ask, with the label the evidence shows for it.
#[derive(Clone)]
pub struct Resolver {
    label: String,
    inner: TokioResolver,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver").field("label", &self.label).finish()
    }
}

impl Resolver {
    /// The resolver the operating system is configured with (`/etc/resolv.conf`, the registry on Windows).
    pub fn system() -> Result<Self, DnsError> {
        let mut builder = TokioResolver::builder_tokio().map_err(|e| DnsError::SystemConfig(e.to_string()))?;
        *builder.options_mut() = fresh_options(Some(builder.options_mut().clone()));
        let inner = builder.build().map_err(|e| DnsError::SystemConfig(e.to_string()))?;
        Ok(Self { label: "system resolver".to_owned(), inner })
    }

    /// One of the well-known public resolvers.
    pub fn public(which: PublicResolver) -> Result<Self, DnsError> {
        let servers = which.addresses().iter().map(|ip| SocketAddr::new(*ip, 53)).collect::<Vec<_>>();
        Self::build(which.label().to_owned(), &servers)
    }

    /// A resolver (or authoritative server) at the given socket addresses, tried in turn.
    pub fn at(label: impl Into<String>, servers: &[SocketAddr]) -> Result<Self, DnsError> {
        if servers.is_empty() {
            return Err(DnsError::NoResolvers);
        }
        Self::build(label.into(), servers)
    }

    /// A resolver at one socket address, labelled with it.
    pub fn at_addr(server: SocketAddr) -> Result<Self, DnsError> {
        Self::build(server.to_string(), &[server])
    }

    /// The authoritative name servers of `domain`, found through `via`: one resolver per server, so that the
    /// watch can tell them apart.
    pub async fn authoritative(domain: &str, via: &Resolver) -> Result<Vec<Self>, DnsError> {
        let zone = fqdn(domain)?;
        let ns = via
            .query(&zone, RecordKind::Ns)
            .await
            .map_err(|e| DnsError::NoAuthoritative { domain: domain.to_owned(), reason: e.to_string() })?;
        if ns.is_empty() {
            return Err(DnsError::NoAuthoritative {
                domain: domain.to_owned(),
                reason: "it has no NS records".to_owned(),
            });
        }
        let mut out = Vec::new();
        for record in ns {
            let RecordValue::Ns(host) = record.value else { continue };
            let mut addrs = Vec::new();
            for kind in [RecordKind::A, RecordKind::Aaaa] {
                if let Ok(records) = via.query(&host, kind).await {
                    addrs.extend(records.into_iter().filter_map(|r| match r.value {
                        RecordValue::A(ip) => Some(SocketAddr::new(IpAddr::V4(ip), 53)),
                        RecordValue::Aaaa(ip) => Some(SocketAddr::new(IpAddr::V6(ip), 53)),
                        _ => None,
                    }));
                }
            }
            if !addrs.is_empty() {
                out.push(Self::build(format!("{host} (authoritative)"), &addrs)?);
            }
        }
        if out.is_empty() {
            return Err(DnsError::NoAuthoritative {
                domain: domain.to_owned(),
                reason: "its NS records have no reachable address".to_owned(),
            });
        }
        Ok(out)
    }

    fn build(label: String, servers: &[SocketAddr]) -> Result<Self, DnsError> {
        let name_servers = servers
            .iter()
            .map(|addr| {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
            })
            .collect();
        let config = ResolverConfig::from_name_servers(name_servers);
        let mut builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        *builder.options_mut() = fresh_options(None);
        let inner = builder.build().map_err(|e| DnsError::Setup { resolver: label.clone(), reason: e.to_string() })?;
        Ok(Self { label, inner })
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Asks this resolver for the records of `name`. Nothing is cached between calls: each query goes out, so a
    /// watch sees what the resolver says now. An existing name without records of that kind gives `Ok(vec![])`.
    pub async fn query(&self, name: &str, kind: RecordKind) -> Result<Vec<DnsRecord>, DnsError> {
        let fq = fqdn(name)?;
        self.inner.clear_cache();
        match self.inner.lookup(fq.as_str(), kind.record_type()).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter(|r| r.record_type() == kind.record_type())
                .filter_map(|r| {
                    RecordValue::from_rdata(&r.data).map(|value| DnsRecord {
                        name: normalize_host(&r.name.to_ascii()),
                        ttl: r.ttl,
                        value,
                    })
                })
                .collect()),
            Err(e) if e.is_nx_domain() => {
                Err(DnsError::NxDomain { name: normalize_host(&fq), resolver: self.label.clone() })
            }
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(self.map_error(&fq, kind, e)),
        }
    }

    /// The IP addresses of a host name, for connecting to it (A and AAAA).
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        let fq = fqdn(host)?;
        self.inner.clear_cache();
        match self.inner.lookup_ip(fq.as_str()).await {
            Ok(ips) => Ok(ips.iter().collect()),
            Err(e) if e.is_nx_domain() => {
                Err(DnsError::NxDomain { name: normalize_host(&fq), resolver: self.label.clone() })
            }
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(self.map_error(&fq, RecordKind::A, e)),
        }
    }

    fn map_error(&self, name: &str, kind: RecordKind, e: NetError) -> DnsError {
        let name = normalize_host(name);
        let resolver = self.label.clone();
        match e {
            NetError::Timeout | NetError::Io(_) | NetError::NoConnections | NetError::Busy => {
                DnsError::Unreachable { resolver, name, kind, reason: e.to_string() }
            }
            other => DnsError::Failed { resolver, name, kind, reason: other.to_string() },
        }
    }
}

/// Asks `resolver` for the `kind` records of `name`, with their TTLs (see [`Resolver::query`]).
pub async fn query(resolver: &Resolver, name: &str, kind: RecordKind) -> Result<Vec<DnsRecord>, DnsError> {
    resolver.query(name, kind).await
}

/// Options for asking: no cache (a propagation watch must see the resolver's current answer), a short timeout
/// and few attempts so that one dead resolver does not stall the others.
fn fresh_options(base: Option<ResolverOpts>) -> ResolverOpts {
    let mut opts = base.unwrap_or_default();
    opts.timeout = Duration::from_secs(3);
    opts.attempts = 1;
    opts.cache_size = 0;
    opts.try_tcp_on_error = true;
    opts
}

/// `name` as a fully qualified name (with the trailing dot), so that no search domain is appended.
pub(crate) fn fqdn(name: &str) -> Result<String, DnsError> {
    let trimmed = name.trim().trim_end_matches('.');
    let invalid = |reason: &str| DnsError::InvalidName { name: name.to_owned(), reason: reason.to_owned() };
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    if trimmed.len() > 253 {
        return Err(invalid("it is longer than 253 characters"));
    }
    for label in trimmed.split('.') {
        if label.is_empty() {
            return Err(invalid("it has an empty label (two dots in a row)"));
        }
        if label.len() > 63 {
            return Err(invalid("a label is longer than 63 characters"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(invalid("only letters, digits, '-' and '_' are allowed (use the punycode form of IDNs)"));
        }
    }
    Ok(format!("{}.", trimmed.to_ascii_lowercase()))
}

pub(crate) fn normalize_host(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// What the MX TTL check found on one resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxTtl {
    pub domain: String,
    pub resolver: String,
    pub records: Vec<DnsRecord>,
}

impl MxTtl {
    /// The longest TTL among the MX records: the time the slowest cache may keep the old answer.
    pub fn max_ttl(&self) -> Option<u32> {
        self.records.iter().map(|r| r.ttl).max()
    }
}

/// Reads the MX records of `domain` with their TTLs. Ask the domain's authoritative servers for the configured
/// TTL; a caching resolver shows the remaining time of its cached copy.
pub async fn mx_ttl(resolver: &Resolver, domain: &str) -> Result<MxTtl, DnsError> {
    let records = match resolver.query(domain, RecordKind::Mx).await {
        Err(DnsError::NxDomain { .. }) => Vec::new(),
        other => other?,
    };
    Ok(MxTtl { domain: normalize_host(domain), resolver: resolver.label().to_owned(), records })
}

/// How a resolver's answer is compared with the expected records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchMode {
    /// Every expected record is there; others may be there too (a TXT set with other entries).
    #[default]
    ContainsAll,
    /// Exactly the expected records: an old MX still answered alongside the new one is not done yet.
    Exactly,
}

/// What to watch for.
#[derive(Debug, Clone)]
pub struct WatchSpec {
    pub name: String,
    pub kind: RecordKind,
    pub expected: Vec<RecordValue>,
    pub mode: MatchMode,
    /// Time between two queries to the same resolver.
    pub interval: Duration,
    /// The watch gives up after this long; resolvers not yet done are reported as timed out.
    pub timeout: Duration,
}

impl WatchSpec {
    /// A watch as stage 7 runs it: a query a minute for up to two days (the longest TTLs seen in the wild), exact
    /// answers for MX and CNAME (the old record must be gone), any superset for TXT (SPF lives beside other TXT).
    pub fn new(name: &str, kind: RecordKind, expected: Vec<RecordValue>) -> Self {
        let mode = match kind {
            RecordKind::Txt | RecordKind::Ns | RecordKind::A | RecordKind::Aaaa => MatchMode::ContainsAll,
            RecordKind::Mx | RecordKind::Cname | RecordKind::Srv => MatchMode::Exactly,
        };
        Self {
            name: name.to_owned(),
            kind,
            expected,
            mode,
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(48 * 3_600),
        }
    }
}

/// Where one resolver stands in a propagation watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolverStatus {
    /// It answered, but not (yet) the expected records; `seen` is what it answered.
    Pending {
        seen: Vec<DnsRecord>,
    },
    /// Its last query failed.
    Error(DnsError),
    /// It returned the expected records, `after` the start of the watch.
    Propagated {
        after: Duration,
        records: Vec<DnsRecord>,
    },
    /// The watch ended before it returned the expected records.
    TimedOut,
    Cancelled,
}

/// What one resolver answered when asked once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The expected records (see [`matches`]).
    Expected(Vec<DnsRecord>),
    /// Something else: the old records, or none (a name that does not exist yet counts as none).
    Other(Vec<DnsRecord>),
    Failed(DnsError),
}

/// The end of a watch: every resolver's status, in the order they were given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSummary {
    pub name: String,
    pub kind: RecordKind,
    pub expected: Vec<RecordValue>,
    pub resolvers: Vec<(String, ResolverStatus)>,
    pub elapsed: Duration,
}

impl WatchSummary {
    pub fn all_propagated(&self) -> bool {
        !self.resolvers.is_empty() && self.resolvers.iter().all(|(_, s)| matches!(s, ResolverStatus::Propagated { .. }))
    }
}

/// Whether `answer` satisfies `expected` under `mode`. Values compare as DNS does (host names case-blind).
pub fn matches(answer: &[DnsRecord], expected: &[RecordValue], mode: MatchMode) -> bool {
    let seen: BTreeSet<&RecordValue> = answer.iter().map(|r| &r.value).collect();
    let want: BTreeSet<&RecordValue> = expected.iter().collect();
    if want.is_empty() {
        return false;
    }
    match mode {
        MatchMode::ContainsAll => want.is_subset(&seen),
        MatchMode::Exactly => want == seen,
    }
}

/// Asks every resolver once, all at the same time, for `spec`'s records; the answers come in the resolvers'
/// order. One round of stage 7's watch: the caller repeats it every `spec.interval` until [`Propagation`] says
/// all are done, `spec.timeout` has passed, or the engineer cancels.
pub async fn ask_once(resolvers: &[Resolver], spec: &WatchSpec) -> Vec<Answer> {
    let asks = resolvers.iter().map(|resolver| async move {
        match resolver.query(&spec.name, spec.kind).await {
            Ok(records) if matches(&records, &spec.expected, spec.mode) => Answer::Expected(records),
            Ok(records) => Answer::Other(records),
            Err(DnsError::NxDomain { .. }) => Answer::Other(Vec::new()),
            Err(e) => Answer::Failed(e),
        }
    });
    futures::future::join_all(asks).await
}

/// A propagation watch's state across rounds: each resolver's status, and when it first returned the expected
/// records. Pure: the caller does the asking ([`ask_once`]) and the waiting, and tells it the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Propagation {
    name: String,
    kind: RecordKind,
    expected: Vec<RecordValue>,
    resolvers: Vec<(String, ResolverStatus)>,
}

impl Propagation {
    /// The start of a watch of `spec` on `resolvers`: nothing seen yet.
    pub fn new(resolvers: &[Resolver], spec: &WatchSpec) -> Self {
        Self {
            name: normalize_host(&spec.name),
            kind: spec.kind,
            expected: spec.expected.clone(),
            resolvers: resolvers
                .iter()
                .map(|r| (r.label().to_owned(), ResolverStatus::Pending { seen: Vec::new() }))
                .collect(),
        }
    }

    /// Merges one round's answers (in the resolvers' order), taken `elapsed` after the watch began, and returns
    /// the resolvers whose status changed, so that a slow resolver repeating the same answer reports nothing new.
    /// A resolver that has propagated stays so, with the time it first did; the end states stay too.
    pub fn merge(&mut self, answers: Vec<Answer>, elapsed: Duration) -> Vec<(String, ResolverStatus)> {
        let mut changed = Vec::new();
        for ((label, status), answer) in self.resolvers.iter_mut().zip(answers) {
            if status.is_final() {
                continue;
            }
            let next = match answer {
                Answer::Expected(records) => ResolverStatus::Propagated { after: elapsed, records },
                Answer::Other(seen) => ResolverStatus::Pending { seen },
                Answer::Failed(e) => ResolverStatus::Error(e),
            };
            if *status != next {
                *status = next;
                changed.push((label.clone(), status.clone()));
            }
        }
        changed
    }

    /// Whether every resolver has returned the expected records: the watch is done.
    pub fn all_propagated(&self) -> bool {
        !self.resolvers.is_empty() && self.resolvers.iter().all(|(_, s)| matches!(s, ResolverStatus::Propagated { .. }))
    }

    /// The watch ran out of time: the resolvers not yet propagated end as timed out.
    pub fn time_out(&mut self) {
        self.end(ResolverStatus::TimedOut);
    }

    /// The engineer stopped the watch: the resolvers not yet propagated end as cancelled.
    pub fn cancel(&mut self) {
        self.end(ResolverStatus::Cancelled);
    }

    fn end(&mut self, with: ResolverStatus) {
        for (_, status) in &mut self.resolvers {
            if !status.is_final() {
                *status = with.clone();
            }
        }
    }

    pub fn resolvers(&self) -> &[(String, ResolverStatus)] {
        &self.resolvers
    }

    /// Where the watch stands `elapsed` after it began.
    pub fn summary(&self, elapsed: Duration) -> WatchSummary {
        WatchSummary {
            name: self.name.clone(),
            kind: self.kind,
            expected: self.expected.clone(),
            resolvers: self.resolvers.clone(),
            elapsed,
        }
    }
}

impl ResolverStatus {
    /// Propagated, timed out or cancelled: no later round changes it.
    fn is_final(&self) -> bool {
        matches!(self, ResolverStatus::Propagated { .. } | ResolverStatus::TimedOut | ResolverStatus::Cancelled)
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(value: RecordValue) -> DnsRecord {
        DnsRecord { name: "contoso.com".into(), ttl: 300, value }
    }

    #[test]
    fn fqdn_validates_and_appends_the_dot() {
        assert_eq!(fqdn("Contoso.COM").unwrap(), "contoso.com.");
        assert_eq!(fqdn("_autodiscover._tcp.contoso.com.").unwrap(), "_autodiscover._tcp.contoso.com.");
        assert!(matches!(fqdn(""), Err(DnsError::InvalidName { .. })));
        assert!(matches!(fqdn("a..b"), Err(DnsError::InvalidName { .. })));
        assert!(matches!(fqdn("exa mple.com"), Err(DnsError::InvalidName { .. })));
        let err = fqdn(&"a".repeat(64)).unwrap_err();
        assert!(err.to_string().contains("63"), "{err}");
    }

    #[test]
    fn values_compare_case_blind_and_without_trailing_dot() {
        assert_eq!(
            RecordValue::mx(0, "Contoso-com.mail.protection.outlook.com."),
            RecordValue::mx(0, "contoso-com.mail.protection.outlook.com")
        );
        assert_eq!(RecordValue::cname("AutoDiscover.Outlook.com."), RecordValue::cname("autodiscover.outlook.com"));
    }

    #[test]
    fn matching_modes() {
        let new_mx = RecordValue::mx(0, "contoso-com.mail.protection.outlook.com");
        let old_mx = RecordValue::mx(10, "mail.contoso.com");
        let both = vec![rec(new_mx.clone()), rec(old_mx.clone())];
        assert!(matches(&both, std::slice::from_ref(&new_mx), MatchMode::ContainsAll));
        assert!(!matches(&both, std::slice::from_ref(&new_mx), MatchMode::Exactly));
        assert!(matches(&[rec(new_mx.clone())], std::slice::from_ref(&new_mx), MatchMode::Exactly));
        assert!(!matches(&[rec(old_mx)], std::slice::from_ref(&new_mx), MatchMode::ContainsAll));
        assert!(!matches(&[], &[], MatchMode::ContainsAll), "nothing expected never counts as propagated");
    }

    #[test]
    fn watch_defaults_follow_the_record_kind() {
        assert_eq!(WatchSpec::new("contoso.com", RecordKind::Mx, vec![]).mode, MatchMode::Exactly);
        assert_eq!(WatchSpec::new("contoso.com", RecordKind::Txt, vec![]).mode, MatchMode::ContainsAll);
        assert_eq!(WatchSpec::new("contoso.com", RecordKind::Mx, vec![]).interval, Duration::from_secs(60));
    }

    #[tokio::test]
    async fn public_resolvers_are_labelled_and_need_no_network_to_build() {
        let r = Resolver::public(PublicResolver::Cloudflare).unwrap();
        assert_eq!(r.label(), "Cloudflare 1.1.1.1");
        assert!(matches!(Resolver::at("none", &[]), Err(DnsError::NoResolvers)));
    }

    #[test]
    fn the_mx_ttl_is_the_longest_of_the_records() {
        let rec = |ttl| DnsRecord { name: "contoso.com".into(), ttl, value: RecordValue::mx(10, "mail.contoso.com") };
        let found =
            MxTtl { domain: "contoso.com".into(), resolver: "ns1".into(), records: vec![rec(300), rec(86_400)] };
        assert_eq!(found.max_ttl(), Some(86_400));
        assert_eq!(MxTtl { records: vec![], ..found }.max_ttl(), None);
    }

    fn status_names(p: &Propagation) -> Vec<&'static str> {
        p.resolvers()
            .iter()
            .map(|(_, s)| match s {
                ResolverStatus::Pending { .. } => "pending",
                ResolverStatus::Error(_) => "error",
                ResolverStatus::Propagated { .. } => "propagated",
                ResolverStatus::TimedOut => "timed out",
                ResolverStatus::Cancelled => "cancelled",
            })
            .collect()
    }

    #[tokio::test]
    async fn rounds_merge_into_when_each_resolver_first_propagated() {
        let new_mx = RecordValue::mx(0, "contoso-com.mail.protection.outlook.com");
        let old = rec(RecordValue::mx(10, "mail.contoso.com"));
        let resolvers: Vec<Resolver> =
            ["a", "b", "c"].iter().map(|l| Resolver::at(*l, &["127.0.0.1:53".parse().unwrap()]).unwrap()).collect();
        let mut p = Propagation::new(&resolvers, &WatchSpec::new("Contoso.com.", RecordKind::Mx, vec![new_mx.clone()]));
        assert_eq!(p.summary(Duration::ZERO).name, "contoso.com");
        let new = || Answer::Expected(vec![rec(new_mx.clone())]);
        let stale = || Answer::Other(vec![old.clone()]);
        let changed = p.merge(vec![new(), stale(), stale()], Duration::from_secs(1));
        assert_eq!(changed.len(), 3, "{changed:?}");
        // The same answers again change nothing; a propagated resolver keeps its first time.
        assert!(p.merge(vec![new(), stale(), stale()], Duration::from_secs(2)).is_empty());
        let failed = Answer::Failed(DnsError::NoResolvers);
        let changed = p.merge(vec![stale(), new(), failed], Duration::from_secs(3));
        assert_eq!(changed.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["b", "c"]);
        assert!(
            matches!(p.resolvers()[0].1, ResolverStatus::Propagated { after, .. } if after == Duration::from_secs(1))
        );
        assert_eq!(status_names(&p), ["propagated", "propagated", "error"]);
        assert!(!p.all_propagated());
        let mut cancelled = p.clone();
        cancelled.cancel();
        assert_eq!(status_names(&cancelled), ["propagated", "propagated", "cancelled"]);
        p.time_out();
        assert_eq!(status_names(&p), ["propagated", "propagated", "timed out"]);
        assert!(p.merge(vec![new(), new(), new()], Duration::from_secs(9)).is_empty(), "an ended watch stays ended");
        let summary = p.summary(Duration::from_secs(9));
        assert!(!summary.all_propagated());
        assert_eq!(summary.elapsed, Duration::from_secs(9));
    }
}
