//! DNS queries and the propagation watch against the simulator's resolvers over real UDP/TCP on 127.0.0.1:
//! records with TTLs, the MX TTL, and an MX change seen resolver by resolver, each after its own delay, with
//! rounds driven as a watch drives them (stage 7's own watch and check are tested in stage7_mx.rs).

use std::time::{Duration, Instant};

use cutover::dns::{
    DnsError, MatchMode, Propagation, RecordKind, RecordValue, Resolver, ResolverStatus, WatchSpec, WatchSummary,
    ask_once, mx_ttl,
};
use cutover::sim::{SimInfo, SimOptions, Simulator};
use serde_json::json;
use tokio_util::sync::CancellationToken;

async fn start(scenario: &str, speed: f64) -> Simulator {
    Simulator::start(SimOptions { scenario: scenario.into(), speed, ..Default::default() })
        .await
        .expect("simulator starts")
}

fn resolvers(i: &SimInfo) -> Vec<Resolver> {
    i.dns
        .iter()
        .map(|r| Resolver::at(format!("sim resolver (delay {} s)", r.delay_seconds), &[r.addr]).unwrap())
        .collect()
}

const NEW_MX: &str = "contoso-com.mail.protection.outlook.com";

/// Runs a watch as stage 7's job will: a round every `spec.interval` until every resolver returns the records,
/// `spec.timeout` passes or `cancel` fires. Returns every change of status, in order, and the end.
async fn drive(
    resolvers: &[Resolver],
    spec: &WatchSpec,
    cancel: &CancellationToken,
) -> (Vec<(String, ResolverStatus)>, WatchSummary) {
    let start = Instant::now();
    let deadline = tokio::time::Instant::from_std(start + spec.timeout);
    let mut watch = Propagation::new(resolvers, spec);
    let mut changes = Vec::new();
    // Bounded: the timeout ends the loop long before this many rounds.
    for _ in 0..10_000 {
        let answers = tokio::select! {
            biased;
            () = cancel.cancelled() => {
                watch.cancel();
                break;
            }
            () = tokio::time::sleep_until(deadline) => {
                watch.time_out();
                break;
            }
            answers = ask_once(resolvers, spec) => answers,
        };
        changes.extend(watch.merge(answers, start.elapsed()));
        if watch.all_propagated() {
            break;
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => {}
            () = tokio::time::sleep(spec.interval) => {}
        }
    }
    (changes, watch.summary(start.elapsed()))
}

async fn set_mx(i: &SimInfo, domain: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/dns/records", i.control_url))
        .json(&json!({ "name": domain, "type": "MX", "ttl": 300, "values": [format!("0 {NEW_MX}")] }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn queries_return_records_with_ttls() {
    let sim = start("small", 1.0).await;
    let i = sim.info().clone();
    let domain = &i.email_domains[0];
    let r = &resolvers(&i)[0];

    let mx = r.query(domain, RecordKind::Mx).await.unwrap();
    assert_eq!(mx.len(), 1, "{mx:?}");
    assert_eq!(mx[0].value, RecordValue::mx(10, &i.source.host));
    assert_eq!(mx[0].ttl, 3600);
    let txt = r.query(domain, RecordKind::Txt).await.unwrap();
    assert!(txt.iter().any(|t| matches!(&t.value, RecordValue::Txt(s) if s.starts_with("v=spf1"))), "{txt:?}");
    let srv = r.query(&format!("_autodiscover._tcp.{domain}"), RecordKind::Srv).await.unwrap();
    assert_eq!(srv[0].value, RecordValue::srv(0, 0, i.source.https_port, &format!("autodiscover.{domain}")));
    let a = r.query(&i.source.host, RecordKind::A).await.unwrap();
    assert_eq!(a[0].value, RecordValue::A(std::net::Ipv4Addr::LOCALHOST));
    // A name that exists without records of the type asked, and a name that does not exist.
    assert!(r.query(domain, RecordKind::Cname).await.unwrap().is_empty());
    let err = r.query(&format!("nothing-here.{domain}"), RecordKind::A).await.unwrap_err();
    assert!(matches!(err, DnsError::NxDomain { .. }), "{err}");
    assert!(err.to_string().contains("NXDOMAIN"), "{err}");

    assert_eq!(mx_ttl(r, domain).await.unwrap().max_ttl(), Some(3600));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_trouble_scenario_has_a_day_long_mx_ttl() {
    let sim = start("trouble", 1.0).await;
    let i = sim.info().clone();
    let found = mx_ttl(&resolvers(&i)[0], &i.email_domains[0]).await.unwrap();
    assert_eq!(found.max_ttl(), Some(86_400), "{found:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_resolver_is_a_typed_error() {
    // A bound but silent UDP socket on loopback: queries time out.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let r = Resolver::at("silent resolver", &[silent.local_addr().unwrap()]).unwrap();
    let err = r.query("contoso.com", RecordKind::Mx).await.unwrap_err();
    assert!(matches!(err, DnsError::Unreachable { .. } | DnsError::Failed { .. }), "{err:?}");
    assert!(err.to_string().contains("silent resolver"), "{err}");
}

#[tokio::test]
async fn propagation_is_reported_resolver_by_resolver_in_delay_order() {
    // typical: resolvers see a change after 0, 120, 900 and 1800 simulated seconds; at 600x that is up to 3 s.
    let speed = 600.0;
    let sim = start("typical", speed).await;
    let i = sim.info().clone();
    let domain = i.email_domains[0].clone();
    let mut delays: Vec<f64> = i.dns.iter().map(|r| r.delay_seconds).collect();
    assert!(delays.len() >= 3, "{delays:?}");
    delays.sort_by(f64::total_cmp);
    set_mx(&i, &domain).await;
    let started = Instant::now();
    let spec = WatchSpec {
        name: domain.clone(),
        kind: RecordKind::Mx,
        expected: vec![RecordValue::mx(0, NEW_MX)],
        mode: MatchMode::Exactly,
        interval: Duration::from_millis(100),
        timeout: Duration::from_secs(30),
    };
    let (changes, summary) = drive(&resolvers(&i), &spec, &CancellationToken::new()).await;
    let mut propagated: Vec<(String, Duration)> = Vec::new();
    let mut saw_pending = false;
    for (resolver, status) in changes {
        match status {
            ResolverStatus::Propagated { after, .. } => propagated.push((resolver, after)),
            ResolverStatus::Pending { seen } => {
                // Still the old MX record.
                assert!(seen.iter().all(|r| r.value == RecordValue::mx(10, &i.source.host)), "{seen:?}");
                saw_pending = true;
            }
            status => panic!("{resolver}: {status:?}"),
        }
    }
    assert!(saw_pending, "the slower resolvers first answer the old record");
    assert!(summary.all_propagated(), "{summary:?}");
    assert_eq!(propagated.len(), i.dns.len());
    // Reported in the order of the resolvers' delays, each no earlier than its delay.
    let order: Vec<&str> = propagated.iter().map(|(r, _)| r.as_str()).collect();
    let expected: Vec<String> = delays.iter().map(|d| format!("sim resolver (delay {d} s)")).collect();
    assert_eq!(order, expected.iter().map(String::as_str).collect::<Vec<_>>());
    for ((_, after), delay) in propagated.iter().zip(&delays) {
        let due = Duration::from_secs_f64(delay / speed);
        assert!(*after + Duration::from_millis(150) >= due, "propagated after {after:?}, delay {due:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_watch_times_out_on_slow_resolvers_and_can_be_cancelled() {
    // trouble: delays 0, 3600 and 14400 simulated seconds; at 600x the slow ones take 6 and 24 s.
    let sim = start("trouble", 600.0).await;
    let i = sim.info().clone();
    let domain = i.email_domains[0].clone();
    set_mx(&i, &domain).await;
    let spec = WatchSpec {
        name: domain.clone(),
        kind: RecordKind::Mx,
        expected: vec![RecordValue::mx(0, NEW_MX)],
        mode: MatchMode::ContainsAll,
        interval: Duration::from_millis(200),
        timeout: Duration::from_secs(2),
    };
    let (_, summary) = drive(&resolvers(&i), &spec, &CancellationToken::new()).await;
    let timed_out = summary.resolvers.iter().filter(|(_, s)| *s == ResolverStatus::TimedOut).count();
    assert_eq!(timed_out, 2, "{summary:?}");
    assert!(!summary.all_propagated(), "{summary:?}");

    // Cancelled a moment after the start: every resolver not yet done ends as cancelled, promptly.
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let (_, summary) = drive(&resolvers(&i), &WatchSpec { timeout: Duration::from_secs(60), ..spec }, &cancel).await;
    assert!(started.elapsed() < Duration::from_millis(300) + Duration::from_secs(2));
    assert!(summary.resolvers.iter().filter(|(_, s)| *s == ResolverStatus::Cancelled).count() >= 2, "{summary:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_domain_without_name_servers_gives_a_typed_error() {
    let sim = start("small", 1.0).await;
    let i = sim.info().clone();
    // The simulator's zone has no NS records: the authoritative servers cannot be found, and the error says what
    // to do instead.
    let err = Resolver::authoritative(&i.email_domains[0], &resolvers(&i)[0]).await.unwrap_err();
    assert!(matches!(err, DnsError::NoAuthoritative { .. }), "{err:?}");
    assert!(err.to_string().contains("query chosen resolvers instead"), "{err}");
    sim.shutdown().await;
}
