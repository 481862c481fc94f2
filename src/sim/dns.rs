//! The simulated DNS: the scenario's zone (A, MX, TXT incl. SPF and MS=…, CNAME, SRV, with TTLs), changed
//! through the registrar control endpoint, and served by several resolvers on loopback (UDP and TCP, hickory-proto
//! for the wire format), each seeing a change only after its own delay in simulated time, so propagation is
//! something to watch.

use chrono::{DateTime, Utc};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, MX, SRV, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;

use super::{ResolverInfo, Shared, SimError};

/// One record set as the registrar holds it, with its history so that slow resolvers can lag behind.
#[derive(Debug, Clone, Serialize)]
pub struct RecordSet {
    /// Lower case, no trailing dot.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub ttl: u32,
    /// Versions, oldest first: (since, values); empty values = deleted.
    pub history: Vec<(DateTime<Utc>, Vec<String>)>,
    /// Each version's TTL, beside `history`: a resolver's cached old copy keeps the TTL it was served with.
    #[serde(skip)]
    pub ttls: Vec<u32>,
}

/// A registrar change, as posted to `{control_url}/dns/records`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default)]
    pub ttl: Option<u32>,
    /// Empty: the record set is removed.
    pub values: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Zone {
    pub sets: Vec<RecordSet>,
    pub default_ttl: u32,
}

fn norm(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

const TYPES: &[&str] = &["A", "MX", "TXT", "CNAME", "SRV"];

impl Zone {
    /// Sets (or with no values removes) a record set. A CNAME may not share its name with other data
    /// (RFC 1034 3.6.2, RFC 2181 10.1): setting one removes the name's other sets, and the other way round.
    pub fn set(&mut self, change: Change, at: DateTime<Utc>) -> Result<(), String> {
        let rtype = change.rtype.to_ascii_uppercase();
        if !TYPES.contains(&rtype.as_str()) {
            return Err(format!("type {:?} is not served: use one of {}", change.rtype, TYPES.join(", ")));
        }
        for v in &change.values {
            rdata(&rtype, v).ok_or_else(|| format!("{rtype} value {v:?} does not parse; see docs/simulator.md"))?;
        }
        let name = norm(&change.name);
        let ttl = change.ttl.unwrap_or(self.default_ttl);
        if !change.values.is_empty() {
            let conflicting = |s: &RecordSet| (s.rtype == "CNAME") != (rtype == "CNAME");
            for s in self.sets.iter_mut().filter(|s| s.name == name && conflicting(s)) {
                if s.history.last().is_some_and(|(_, v)| !v.is_empty()) {
                    s.history.push((at, vec![]));
                    s.ttls.push(s.ttl);
                }
            }
        }
        match self.sets.iter_mut().find(|s| s.name == name && s.rtype == rtype) {
            Some(s) => {
                s.ttl = ttl;
                s.history.push((at, change.values));
                s.ttls.push(ttl);
            }
            None => self.sets.push(RecordSet { name, rtype, ttl, history: vec![(at, change.values)], ttls: vec![ttl] }),
        }
        Ok(())
    }

    /// The values a resolver that sees changes `delay` seconds late answers at `now`, with the TTL it answers:
    /// an authoritative server (no delay) the whole TTL; a caching resolver what is left of its cached copy, which
    /// it refreshes every TTL and which runs out at the latest when the next version reaches it.
    pub fn view(&self, name: &str, rtype: &str, now: DateTime<Utc>, delay: f64) -> Option<(u32, &[String])> {
        let lag = chrono::Duration::milliseconds((delay * 1000.0) as i64);
        let s = self.sets.iter().find(|s| s.name == name && s.rtype == rtype)?;
        let seen = s.history.iter().rposition(|(at, _)| *at <= now - lag)?;
        let (since, values) = &s.history[seen];
        if values.is_empty() {
            return None;
        }
        let ttl = s.ttls.get(seen).copied().unwrap_or(s.ttl);
        if delay <= 0.0 || ttl == 0 {
            return Some((ttl, values.as_slice()));
        }
        let held = (now - (*since + lag)).num_seconds().max(0);
        let mut left = i64::from(ttl) - held % i64::from(ttl);
        if let Some((next, _)) = s.history.get(seen + 1) {
            left = left.min((*next + lag - now).num_seconds().max(1));
        }
        Some((u32::try_from(left).unwrap_or(ttl), values.as_slice()))
    }

    /// Current (authoritative) values.
    pub fn current(&self, name: &str, rtype: &str) -> Vec<String> {
        self.sets
            .iter()
            .find(|s| s.name == norm(name) && s.rtype == rtype)
            .and_then(|s| s.history.last())
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn name_exists(&self, name: &str, now: DateTime<Utc>, delay: f64) -> bool {
        TYPES.iter().any(|t| self.view(name, t, now, delay).is_some())
    }
}

fn fqdn(s: &str) -> Option<Name> {
    Name::from_ascii(format!("{}.", s.trim_end_matches('.'))).ok()
}

/// Parses a value as written in the control API: A "127.0.0.1", MX "10 host", TXT "text", CNAME "host",
/// SRV "priority weight port host".
fn rdata(rtype: &str, v: &str) -> Option<RData> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    match rtype {
        "A" => v.trim().parse::<Ipv4Addr>().ok().map(|ip| RData::A(A(ip))),
        "MX" if parts.len() == 2 => Some(RData::MX(MX::new(parts[0].parse().ok()?, fqdn(parts[1])?))),
        "TXT" => Some(RData::TXT(TXT::new(vec![v.to_string()]))),
        "CNAME" => fqdn(v.trim()).map(|n| RData::CNAME(CNAME(n))),
        "SRV" if parts.len() == 4 => Some(RData::SRV(SRV::new(
            parts[0].parse().ok()?,
            parts[1].parse().ok()?,
            parts[2].parse().ok()?,
            fqdn(parts[3])?,
        ))),
        _ => None,
    }
}

/// The zone a scenario starts with: for every email domain, MX and SPF at the source, the Autodiscover and
/// Outlook Anywhere hosts on loopback, and the Autodiscover SRV record with the real HTTPS port.
pub fn initial_zone(shared_info: &super::SimInfo, scenario: &super::Scenario, start: DateTime<Utc>) -> Zone {
    let mut zone = Zone { default_ttl: scenario.dns.ttl, ..Default::default() };
    let epoch = start - chrono::Duration::days(365);
    let host = &shared_info.source.host;
    let mut add = |name: String, rtype: &str, values: Vec<String>| {
        let _ = zone.set(Change { name, rtype: rtype.into(), ttl: None, values }, epoch);
    };
    add(host.clone(), "A", vec!["127.0.0.1".into()]);
    for d in &scenario.tenant.domains {
        let mx = scenario.dns.mx_host.clone().unwrap_or_else(|| host.clone());
        add(d.clone(), "MX", vec![format!("10 {mx}")]);
        let spf = scenario.dns.spf.clone().unwrap_or_else(|| "v=spf1 mx a -all".into());
        add(d.clone(), "TXT", vec![spf]);
        match &scenario.dns.autodiscover_cname {
            Some(target) => add(format!("autodiscover.{d}"), "CNAME", vec![target.clone()]),
            None => add(format!("autodiscover.{d}"), "A", vec!["127.0.0.1".into()]),
        }
        add(
            format!("_autodiscover._tcp.{d}"),
            "SRV",
            vec![format!("0 0 {} {}", shared_info.source.https_port, shared_info.source.autodiscover_host)],
        );
    }
    zone
}

/// Binds one resolver: UDP and TCP on the same loopback port.
pub async fn bind() -> Result<(UdpSocket, TcpListener, SocketAddr), SimError> {
    let mut last = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(|source| SimError::Bind { what: "a UDP port for DNS".into(), source })?;
        let addr = udp.local_addr().map_err(|source| SimError::Bind { what: "DNS".into(), source })?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp, addr)),
            Err(e) => last = Some(e),
        }
    }
    Err(SimError::Bind {
        what: "a TCP port matching the DNS UDP port".into(),
        source: last.unwrap_or_else(|| std::io::Error::other("no port")),
    })
}

/// Serves one resolver until `stop`.
pub async fn serve(shared: Shared, info: ResolverInfo, udp: UdpSocket, tcp: TcpListener, stop: watch::Receiver<bool>) {
    let delay = info.delay_seconds;
    let udp_task = {
        let shared = shared.clone();
        let mut stop = stop.clone();
        async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let (n, peer) = tokio::select! {
                    r = udp.recv_from(&mut buf) => match r { Ok(x) => x, Err(_) => continue },
                    _ = stop.wait_for(|s| *s) => return,
                };
                if let Some(answer) = answer(&shared, &buf[..n], delay) {
                    let _ = udp.send_to(&answer, peer).await;
                }
            }
        }
    };
    let tcp_task = {
        let mut stop = stop.clone();
        async move {
            loop {
                let (mut stream, _) = tokio::select! {
                    r = tcp.accept() => match r { Ok(x) => x, Err(_) => continue },
                    _ = stop.wait_for(|s| *s) => return,
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    // RFC 1035 4.2.2: each message is preceded by its two-byte length.
                    loop {
                        let Ok(len) = stream.read_u16().await else { return };
                        let mut msg = vec![0u8; len as usize];
                        if stream.read_exact(&mut msg).await.is_err() {
                            return;
                        }
                        let Some(answer) = answer(&shared, &msg, delay) else { return };
                        let Ok(len) = u16::try_from(answer.len()) else { return };
                        if stream.write_u16(len).await.is_err() || stream.write_all(&answer).await.is_err() {
                            return;
                        }
                    }
                });
            }
        }
    };
    tokio::join!(udp_task, tcp_task);
}

fn answer(shared: &Shared, query: &[u8], delay: f64) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.message_type = MessageType::Response;
    response.metadata.authoritative = true;
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    // RFC 6891 6.1.1: a query with an OPT record gets one back.
    if request.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        response.set_edns(edns);
    }
    if request.metadata.op_code != OpCode::Query || request.queries.len() != 1 {
        response.metadata.response_code = ResponseCode::NotImp;
        return response.to_vec().ok();
    }
    let q = request.queries[0].clone();
    response.add_query(q.clone());
    let world = shared.lock();
    let now = world.clock.now();
    let mut name = norm(&q.name().to_ascii());
    let qtype = q.query_type();
    let wanted = qtype.to_string();
    let mut found_any = world.dns.name_exists(&name, now, delay);
    // Follow a CNAME (at most a few hops) unless the CNAME itself is asked for.
    for _ in 0..8 {
        if qtype != RecordType::CNAME
            && let Some((ttl, values)) = world.dns.view(&name, "CNAME", now, delay)
        {
            let target = values[0].clone();
            if let (Some(owner), Some(data)) = (fqdn(&name), rdata("CNAME", &target)) {
                response.add_answer(Record::from_rdata(owner, ttl, data));
            }
            name = norm(&target);
            found_any = true;
            continue;
        }
        break;
    }
    if let Some((ttl, values)) = world.dns.view(&name, &wanted, now, delay) {
        for v in values {
            if let (Some(owner), Some(data)) = (fqdn(&name), rdata(&wanted, v)) {
                response.add_answer(Record::from_rdata(owner, ttl, data));
            }
        }
    } else if !found_any && response.answers.is_empty() {
        response.metadata.response_code = ResponseCode::NXDomain;
    }
    response.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_resolvers_see_old_values_until_their_delay_passes() {
        let t0 = Utc::now();
        let mut z = Zone { default_ttl: 300, ..Default::default() };
        z.set(
            Change {
                name: "Contoso.com.".into(),
                rtype: "MX".into(),
                ttl: None,
                values: vec!["10 mail.contoso.com".into()],
            },
            t0,
        )
        .unwrap();
        let t1 = t0 + chrono::Duration::seconds(100);
        let new = vec!["0 contoso-com.mail.protection.outlook.com".to_string()];
        z.set(Change { name: "contoso.com".into(), rtype: "MX".into(), ttl: Some(60), values: new.clone() }, t1)
            .unwrap();
        let later = t1 + chrono::Duration::seconds(30);
        assert_eq!(z.view("contoso.com", "MX", later, 0.0).unwrap().1, new.as_slice());
        assert_eq!(z.view("contoso.com", "MX", later, 60.0).unwrap().1, ["10 mail.contoso.com".to_string()]);
        // The authoritative server answers the whole TTL; a caching resolver what is left until the change reaches
        // it (30 of its 60 s delay have run), then the new copy's TTL counting down.
        assert_eq!(z.view("contoso.com", "MX", later, 0.0).unwrap().0, 60);
        assert_eq!(z.view("contoso.com", "MX", later, 60.0).unwrap().0, 30);
        // The old copy was served with its own TTL (300 s): a resolver 125 s behind holds it 95 s more, past the
        // new TTL of 60 s.
        assert_eq!(z.view("contoso.com", "MX", later, 125.0).unwrap().0, 95);
        let switched = t1 + chrono::Duration::seconds(60 + 25);
        assert_eq!(z.view("contoso.com", "MX", switched, 60.0).unwrap(), (35, new.as_slice()));
        let refreshed = t1 + chrono::Duration::seconds(60 + 60 + 10);
        assert_eq!(z.view("contoso.com", "MX", refreshed, 60.0).unwrap().0, 50);
        assert!(
            z.set(Change { name: "x".into(), rtype: "MX".into(), ttl: None, values: vec!["bad".into()] }, t1).is_err()
        );
    }

    #[test]
    fn a_cname_owns_its_name() {
        let t0 = Utc::now();
        let t1 = t0 + chrono::Duration::seconds(100);
        let mut z = Zone { default_ttl: 300, ..Default::default() };
        let set = |z: &mut Zone, rtype: &str, v: &str, at| {
            z.set(
                Change {
                    name: "autodiscover.contoso.com".into(),
                    rtype: rtype.into(),
                    ttl: None,
                    values: vec![v.into()],
                },
                at,
            )
            .unwrap()
        };
        set(&mut z, "A", "127.0.0.1", t0);
        set(&mut z, "TXT", "note", t0);
        set(&mut z, "CNAME", "autodiscover.outlook.com", t1);
        assert!(z.current("autodiscover.contoso.com", "A").is_empty());
        assert!(z.current("autodiscover.contoso.com", "TXT").is_empty());
        assert_eq!(z.current("autodiscover.contoso.com", "CNAME"), ["autodiscover.outlook.com"]);
        // A resolver that has not seen the change yet still answers the A record.
        assert!(z.view("autodiscover.contoso.com", "A", t1, 60.0).is_some());
        assert!(z.view("autodiscover.contoso.com", "CNAME", t1, 60.0).is_none());
        set(&mut z, "A", "127.0.0.2", t1 + chrono::Duration::seconds(1));
        assert!(z.current("autodiscover.contoso.com", "CNAME").is_empty());
        assert_eq!(z.current("autodiscover.contoso.com", "A"), ["127.0.0.2"]);
    }
}
