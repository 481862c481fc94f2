//! The simulator's source side over real TLS and DNS on 127.0.0.1: the certificate's properties, Autodiscover
//! POX, the RPC proxy's 401 challenge, EWS, and DNS answers over UDP and TCP before and after a registrar change.

use base64::Engine;
use cutover::sim::{SimInfo, SimOptions, Simulator};
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use x509_parser::prelude::*;

async fn start(scenario: &str) -> Simulator {
    Simulator::start(SimOptions { scenario: scenario.into(), ..Default::default() }).await.expect("simulator starts")
}

/// A client that trusts the simulator's CA and reaches the source names on loopback at the HTTPS port.
fn tls_client(i: &SimInfo) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(i.source.ca_cert_pem.as_bytes()).unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], i.source.https_port));
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .tls_info(true)
        .resolve(&i.source.host, addr)
        .resolve(&i.source.autodiscover_host, addr)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn basic(i: &SimInfo) -> String {
    let raw = format!("{}:{}", i.source.admin_user, i.source.admin_password);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

#[tokio::test]
async fn certificate_is_trusted_and_covers_the_names() {
    let sim = start("typical").await;
    let i = sim.info().clone();
    assert!(std::fs::read_to_string(&i.source.ca_cert_path).unwrap().contains("BEGIN CERTIFICATE"));
    let url = format!("https://{}:{}/EWS/Exchange.asmx", i.source.host, i.source.https_port);
    let r = tls_client(&i).post(&url).send().await.expect("TLS with the simulator's CA succeeds");
    assert_eq!(r.status(), 401);
    let der = r.extensions().get::<reqwest::tls::TlsInfo>().unwrap().peer_certificate().unwrap().to_vec();
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    assert!(cert.validity().is_valid());
    let days_left = cert.validity().time_to_expiration().unwrap().whole_days();
    assert!(days_left > 300, "{days_left}");
    let sans: Vec<String> = cert
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .iter()
        .filter_map(|n| if let GeneralName::DNSName(d) = n { Some(d.to_string()) } else { None })
        .collect();
    assert!(sans.contains(&i.source.host), "{sans:?}");
    for d in &i.email_domains {
        assert!(sans.contains(&format!("autodiscover.{d}")), "{sans:?}");
    }
    assert!(cert.issuer().to_string().contains("Cutover Simulator Root CA"));
    assert_ne!(cert.issuer(), cert.subject());
    sim.shutdown().await;
}

#[tokio::test]
async fn expired_certificate_is_refused_by_a_verifying_client() {
    let sim = start("trouble").await;
    let i = sim.info().clone();
    let url = format!("https://{}:{}/EWS/Exchange.asmx", i.source.host, i.source.https_port);
    let e = tls_client(&i).post(&url).send().await.expect_err("an expired certificate fails verification");
    assert!(format!("{e:?}").to_lowercase().contains("expired"), "{e:?}");
    // Looking without verification shows why.
    let r = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .tls_info(true)
        .resolve(&i.source.host, SocketAddr::from(([127, 0, 0, 1], i.source.https_port)))
        .build()
        .unwrap()
        .post(&url)
        .send()
        .await
        .unwrap();
    let der = r.extensions().get::<reqwest::tls::TlsInfo>().unwrap().peer_certificate().unwrap().to_vec();
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    assert!(!cert.validity().is_valid());
    assert!(cert.validity().time_to_expiration().is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn autodiscover_rpc_proxy_and_ews() {
    let sim = start("typical").await;
    let i = sim.info().clone();
    let c = tls_client(&i);
    let ad = format!("https://{}:{}/autodiscover/autodiscover.xml", i.source.autodiscover_host, i.source.https_port);
    let request = |email: &str| {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>{email}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"#
        )
    };
    let r = c.post(&ad).body(request(&format!("ceo@{}", i.email_domains[0]))).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let challenges: Vec<_> =
        r.headers().get_all("www-authenticate").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert!(challenges.iter().any(|c| c.starts_with("Basic")), "{challenges:?}");

    let r = c
        .post(&ad)
        .header("Authorization", basic(&i))
        .header("Content-Type", "text/xml")
        .body(request(&format!("ceo@{}", i.email_domains[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let xml = r.text().await.unwrap();
    assert!(xml.contains("http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"));
    assert!(xml.contains("<Type>EXPR</Type>") && xml.contains("<Type>EXCH</Type>"), "{xml}");
    assert!(xml.contains(&format!("<Server>{}</Server>", i.source.host)));
    assert!(xml.contains("<AuthPackage>Basic</AuthPackage>"));
    assert!(xml.contains("<LegacyDN>/o="));
    let r = c.post(&ad).header("Authorization", basic(&i)).body(request("nobody@example.org")).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("<ErrorCode>500</ErrorCode>"));

    let rpc = format!("https://{}:{}/rpc/rpcproxy.dll", i.source.host, i.source.https_port);
    let r = c.get(&rpc).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let challenges: Vec<_> =
        r.headers().get_all("www-authenticate").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert_eq!(challenges, vec![format!("Basic realm=\"{}\"", i.source.host), "NTLM".to_string()]);
    assert_eq!(c.get(&rpc).header("Authorization", basic(&i)).send().await.unwrap().status(), 200);

    let ews = format!("https://{}:{}/EWS/Exchange.asmx", i.source.host, i.source.https_port);
    let soap = r#"<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Body><m:GetFolder><m:FolderShape/></m:GetFolder></soap:Body></soap:Envelope>"#;
    let r = c.post(&ews).header("Authorization", basic(&i)).body(soap).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains(r#"MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507""#), "{body}");
    assert!(body.contains("GetFolderResponseMessage ResponseClass=\"Success\""), "{body}");
    sim.shutdown().await;
}

async fn udp_query(addr: SocketAddr, name: &str, rtype: RecordType) -> Message {
    let mut q = Message::query();
    q.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
    q.metadata.recursion_desired = true;
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(&q.to_vec().unwrap(), addr).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf)).await.unwrap().unwrap();
    let m = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(m.metadata.id, q.metadata.id);
    m
}

async fn tcp_query(addr: SocketAddr, name: &str, rtype: RecordType) -> Message {
    let mut q = Message::query();
    q.add_query(Query::query(Name::from_ascii(name).unwrap(), rtype));
    let bytes = q.to_vec().unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_u16(bytes.len() as u16).await.unwrap();
    s.write_all(&bytes).await.unwrap();
    let len = s.read_u16().await.unwrap();
    let mut buf = vec![0u8; len as usize];
    s.read_exact(&mut buf).await.unwrap();
    Message::from_vec(&buf).unwrap()
}

fn mx_hosts(m: &Message) -> Vec<String> {
    m.answers
        .iter()
        .filter_map(|r| if let RData::MX(mx) = &r.data { Some(mx.exchange.to_ascii()) } else { None })
        .collect()
}

#[tokio::test]
async fn dns_answers_and_propagates_a_registrar_change_per_resolver() {
    let sim =
        Simulator::start(SimOptions { scenario: "small".into(), speed: 100.0, ..Default::default() }).await.unwrap();
    let i = sim.info().clone();
    let d = &i.email_domains[0];
    assert_eq!(i.dns.len(), 3);
    let fast = i.dns[0].addr;
    let slow = i.dns[1].addr; // 60 simulated seconds late: 0.6 s at 100x

    let a = udp_query(fast, &format!("{}.", i.source.host), RecordType::A).await;
    assert!(a.metadata.authoritative);
    assert!(matches!(a.answers[0].data, RData::A(ip) if ip.0 == std::net::Ipv4Addr::LOCALHOST));
    let mx = tcp_query(fast, &format!("{d}."), RecordType::MX).await;
    assert_eq!(mx_hosts(&mx), vec![format!("{}.", i.source.host)]);
    assert_eq!(mx.answers[0].ttl, 3600);
    let srv = udp_query(fast, &format!("_autodiscover._tcp.{d}."), RecordType::SRV).await;
    assert!(matches!(&srv.answers[0].data, RData::SRV(s) if s.port == i.source.https_port));
    let txt = udp_query(fast, &format!("{d}."), RecordType::TXT).await;
    assert!(matches!(&txt.answers[0].data, RData::TXT(t) if t.to_string().starts_with("v=spf1")));
    let none = udp_query(fast, "nothing.example.", RecordType::A).await;
    assert_eq!(none.metadata.response_code, ResponseCode::NXDomain);

    let target = format!("{}.mail.protection.outlook.com", d.replace('.', "-"));
    let r = reqwest::Client::new()
        .post(format!("{}/dns/records", i.control_url))
        .json(&json!({"name": d, "type": "MX", "ttl": 300, "values": [format!("0 {target}")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = udp_query(fast, &format!("{d}."), RecordType::MX).await;
    assert_eq!(mx_hosts(&after), vec![format!("{target}.")]);
    assert_eq!(after.answers[0].ttl, 300);
    assert_eq!(mx_hosts(&udp_query(slow, &format!("{d}."), RecordType::MX).await), vec![format!("{}.", i.source.host)]);
    let started = Instant::now();
    loop {
        if mx_hosts(&tcp_query(slow, &format!("{d}."), RecordType::MX).await) == vec![format!("{target}.")] {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the slow resolver never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started.elapsed() > Duration::from_millis(200));
    let bad = reqwest::Client::new()
        .post(format!("{}/dns/records", i.control_url))
        .json(&json!({"name": d, "type": "MX", "values": ["not-a-preference host"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn autodiscover_can_be_a_cname_and_a_cname_owns_its_name() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/small.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["dns"]["autodiscover_cname"] = json!("autodiscover.outlook.com");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let sim =
        Simulator::start(SimOptions { scenario: path.to_str().unwrap().into(), ..Default::default() }).await.unwrap();
    let i = sim.info().clone();
    let fast = i.dns[0].addr;
    let name = format!("autodiscover.{}.", i.email_domains[0]);
    let cname_of = |m: &Message| -> Vec<String> {
        m.answers
            .iter()
            .filter_map(|r| if let RData::CNAME(c) = &r.data { Some(c.0.to_ascii()) } else { None })
            .collect()
    };
    let c = udp_query(fast, &name, RecordType::CNAME).await;
    assert_eq!(c.metadata.response_code, ResponseCode::NoError);
    assert_eq!(cname_of(&c), vec!["autodiscover.outlook.com.".to_string()]);
    // An A query gets the CNAME and no A record of its own (the target is outside the zone).
    let a = udp_query(fast, &name, RecordType::A).await;
    assert_eq!(cname_of(&a), vec!["autodiscover.outlook.com.".to_string()]);
    assert!(!a.answers.iter().any(|r| matches!(r.data, RData::A(_))), "{:?}", a.answers);

    // The registrar puts an A record back: the CNAME goes, as DNS allows nothing beside a CNAME.
    let r = reqwest::Client::new()
        .post(format!("{}/dns/records", i.control_url))
        .json(&json!({"name": name, "type": "A", "values": ["127.0.0.1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c = udp_query(fast, &name, RecordType::CNAME).await;
    assert!(cname_of(&c).is_empty(), "{:?}", c.answers);
    let a = udp_query(fast, &name, RecordType::A).await;
    assert!(
        matches!(a.answers[..], [ref r] if matches!(r.data, RData::A(ip) if ip.0 == std::net::Ipv4Addr::LOCALHOST))
    );
    // And a CNAME set again removes the A record.
    let r = reqwest::Client::new()
        .post(format!("{}/dns/records", i.control_url))
        .json(&json!({"name": name, "type": "CNAME", "values": ["autodiscover.outlook.com"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a = tcp_query(fast, &name, RecordType::A).await;
    assert_eq!(cname_of(&a), vec!["autodiscover.outlook.com.".to_string()]);
    assert!(!a.answers.iter().any(|r| matches!(r.data, RData::A(_))), "{:?}", a.answers);
    sim.shutdown().await;
}

/// Writes a copy of `small` with the source certificate spoilt, and starts it from the file.
async fn with_certificate(problem: &str) -> (Simulator, tempfile::TempDir) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/scenarios/small.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["source"]["certificate"] = json!(problem);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let sim =
        Simulator::start(SimOptions { scenario: path.to_str().unwrap().into(), ..Default::default() }).await.unwrap();
    (sim, dir)
}

async fn peer_certificate(i: &SimInfo) -> Vec<u8> {
    let r = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .tls_info(true)
        .resolve(&i.source.host, SocketAddr::from(([127, 0, 0, 1], i.source.https_port)))
        .build()
        .unwrap()
        .get(format!("https://{}:{}/rpc/rpcproxy.dll", i.source.host, i.source.https_port))
        .send()
        .await
        .unwrap();
    r.extensions().get::<reqwest::tls::TlsInfo>().unwrap().peer_certificate().unwrap().to_vec()
}

#[tokio::test]
async fn spoilt_certificates_show_their_fault() {
    let (sim, _dir) = with_certificate("near_expiry").await;
    let der = peer_certificate(sim.info()).await;
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let left = cert.validity().time_to_expiration().unwrap().whole_days();
    assert!((1..=10).contains(&left), "{left}");
    sim.shutdown().await;

    let (sim, _dir) = with_certificate("missing_san").await;
    let i = sim.info().clone();
    let der = peer_certificate(&i).await;
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let names = format!("{:?}", cert.subject_alternative_name().unwrap().unwrap().value.general_names);
    assert!(names.contains(&i.source.host) && !names.contains("autodiscover."), "{names}");
    let url = format!("https://{}:{}/autodiscover/autodiscover.xml", i.source.autodiscover_host, i.source.https_port);
    assert!(tls_client(&i).post(&url).send().await.is_err(), "the autodiscover name is not covered");
    sim.shutdown().await;

    let (sim, _dir) = with_certificate("self_signed").await;
    let i = sim.info().clone();
    let der = peer_certificate(&i).await;
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    assert_eq!(cert.issuer(), cert.subject());
    let url = format!("https://{}:{}/EWS/Exchange.asmx", i.source.host, i.source.https_port);
    assert!(tls_client(&i).post(&url).send().await.is_err(), "not issued by the simulator's CA");
    sim.shutdown().await;
}

#[tokio::test]
async fn source_faults_on_demand() {
    let sim = start("small").await;
    let i = sim.info().clone();
    let control = reqwest::Client::new();
    for rule in [
        json!({"service": "source", "path_contains": "/EWS", "kind": {"type": "throttle", "retry_after": 42}, "times": 1}),
        json!({"service": "source", "path_contains": "/rpc", "kind": {"type": "slow", "millis": 400}, "times": 1}),
    ] {
        let r = control.post(format!("{}/faults", i.control_url)).json(&rule).send().await.unwrap();
        assert_eq!(r.status(), 201);
    }
    let c = tls_client(&i);
    let ews = format!("https://{}:{}/EWS/Exchange.asmx", i.source.host, i.source.https_port);
    let r = c.post(&ews).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "42");
    assert_eq!(c.post(&ews).send().await.unwrap().status(), 401, "the fault fired once");
    let started = Instant::now();
    let r = c.get(format!("https://{}:{}/rpc/rpcproxy.dll", i.source.host, i.source.https_port)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(started.elapsed() >= Duration::from_millis(400));
    let rules: serde_json::Value =
        control.get(format!("{}/faults", i.control_url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(rules["faults"][0]["served"], 1);
    let bad = control
        .post(format!("{}/faults", i.control_url))
        .json(&json!({"service": "nope", "kind": {"type": "drop"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    sim.shutdown().await;
}

/// Runs `cutover sim` with these arguments and reads its one JSON document.
fn spawn_sim(args: &[&str]) -> (std::process::Child, serde_json::Value) {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
                let _ = tx.send(text.clone());
            }
        }
        let _ = tx.send(text);
    });
    let text = rx.recv_timeout(Duration::from_secs(30)).expect("the JSON document within 30 s");
    let v: serde_json::Value = serde_json::from_str(&text).expect("exactly one JSON document");
    (child, v)
}

/// Stops a `cutover sim` child with SIGTERM and waits (bounded) for a clean exit.
fn stop_sim(mut child: std::process::Child) {
    // SAFETY: kill(2) with our own child's pid and a valid signal number.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "cutover sim did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
}

#[test]
fn cutover_sim_json_prints_one_document_and_stops_on_sigterm() {
    let (child, v) = spawn_sim(&["sim", "--scenario", "small", "--json", "--speed", "60"]);
    for f in [
        "tenant_id",
        "tenant_domain",
        "login_url",
        "graph_url",
        "exo_url",
        "control_url",
        "client_id",
        "app_id",
        "app_secret",
    ] {
        assert!(v[f].is_string(), "{f} in {v}");
    }
    assert_eq!(v["speed"], 60.0);
    assert!(v["source"]["https_port"].as_u64().unwrap() > 0);
    assert!(v["dns"][0]["addr"].as_str().unwrap().starts_with("127.0.0.1:"));
    let ca = std::path::PathBuf::from(v["source"]["ca_cert_path"].as_str().unwrap());
    assert!(ca.exists());
    // The inventory as the script would write it on the server, ready for `cutover import inventory`.
    let inventory = std::path::PathBuf::from(v["inventory_csv"].as_str().unwrap());
    let csv = std::fs::read_to_string(&inventory).unwrap();
    assert!(csv.starts_with("\"DisplayName\",\"PrimarySmtpAddress\""), "{csv}");
    assert_eq!(csv.lines().count(), 11, "a header and the small scenario's ten mailboxes: {csv}");
    stop_sim(child);
    assert!(!ca.exists(), "the temporary CA file is removed on exit");
    assert!(!inventory.exists(), "so is the inventory");
}

#[test]
fn cutover_sim_token_lifetime_sets_expires_in() {
    let (child, v) = spawn_sim(&["sim", "--scenario", "small", "--json", "--token-lifetime", "5"]);
    let url = format!("{}/{}/oauth2/v2.0/token", v["login_url"].as_str().unwrap(), v["tenant_id"].as_str().unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let token: serde_json::Value = runtime.block_on(async {
        reqwest::Client::new()
            .post(url)
            .timeout(Duration::from_secs(10))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", v["app_id"].as_str().unwrap()),
                ("client_secret", v["app_secret"].as_str().unwrap()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(token["expires_in"], 5, "{token}");
    stop_sim(child);
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["sim", "--token-lifetime", "0"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--token-lifetime"));
}

/// The inventory the simulated server gives looks like a real server's: shared mailboxes typed as such, the
/// people logged on lately and only the scanner never, plain names.
#[tokio::test]
async fn the_inventory_looks_like_a_real_servers() {
    use cutover::inventory::RecipientType;
    let sim = start("typical").await;
    let csv = reqwest::get(format!("{}/inventory.csv", sim.info().control_url))
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("inventory")
        .bytes()
        .await
        .expect("body");
    let parsed = cutover::inventory::csv::parse(&csv).expect("the script's format");
    let by = |address: &str| {
        parsed.mailboxes.iter().find(|m| m.primary_smtp == address).unwrap_or_else(|| panic!("{address} in the CSV"))
    };
    for shared in ["support@fabrikam-eng.com", "sales@fabrikam-eng.com"] {
        assert_eq!(by(shared).recipient_type, RecipientType::SharedMailbox, "{shared}");
    }
    assert_eq!(by("ceo@fabrikam-eng.com").recipient_type, RecipientType::UserMailbox);
    let now = chrono::Utc::now();
    let ceo = by("ceo@fabrikam-eng.com").last_logon.expect("the CEO logged on");
    assert!(ceo <= now && now - ceo < chrono::Duration::days(15), "{ceo}");
    assert_eq!(by("scanner@fabrikam-eng.com").last_logon, None, "no one opens the scanner's mailbox");
    let never = parsed.mailboxes.iter().filter(|m| m.last_logon.is_none()).count();
    assert!(never < parsed.mailboxes.len() / 10, "{never} of {} never logged on", parsed.mailboxes.len());
    assert!(
        parsed.mailboxes.iter().all(|m| !m.display_name.chars().any(|c| c.is_ascii_digit())),
        "names without numbers"
    );
    sim.shutdown().await;
}
