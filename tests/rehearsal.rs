//! A rehearsal reads the customer's own inventory CSV (the stage 2 format) into the simulated world: the
//! simulated server then knows exactly those mailboxes, with their sizes, item counts, hidden and shared flags, on
//! the customer's domains, and its link runs at the given bandwidth. Through the library entry and through
//! `cutover sim --inventory FILE --bandwidth MBIT --json`; and the simulated initial sync that stage 2 puts beside
//! its estimate follows the link, read over HTTP with stage 5's own poll cycle.

use cutover::inventory::RecipientType;
use cutover::sim::{SimOptions, Simulator};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

const GIB: u64 = 1024 * 1024 * 1024;

/// A customer's inventory as assets/Get-CutoverInventory.ps1 writes it: a large mailbox, a hidden one, a shared
/// one and a plain one, on two domains.
fn customer_csv() -> String {
    let header = "\"DisplayName\",\"PrimarySmtpAddress\",\"UserPrincipalName\",\"EmailAddresses\",\"RecipientTypeDetails\",\
                  \"TotalItemSizeBytes\",\"ItemCount\",\"TotalDeletedItemSizeBytes\",\"ArchiveState\",\
                  \"HiddenFromAddressListsEnabled\",\"ForwardingSmtpAddress\",\"LastLogonTime\",\"Database\",\"LegacyExchangeDN\"";
    let row = |name: &str, address: &str, kind: &str, bytes: u64, items: u64, hidden: bool| {
        format!(
            "\"{name}\",\"{address}\",\"{address}\",\"SMTP:{address}\",\"{kind}\",\"{bytes}\",\"{items}\",\"{}\",\"None\",\
             \"{}\",\"\",\"2026-11-20T08:00:00.0000000Z\",\"DB01\",\"/o=Northwind/ou=Exchange/cn=Recipients/cn={name}\"",
            bytes / 20,
            if hidden { "True" } else { "False" }
        )
    };
    [
        header.to_owned(),
        row("Nancy Davolio", "nancy@northwind.example", "UserMailbox", 62 * GIB, 410_000, false),
        row("Audit Archive", "audit@northwind.example", "UserMailbox", 3 * GIB, 20_000, true),
        row("Orders", "orders@northwind.example", "SharedMailbox", 9 * GIB, 75_000, false),
        row("Andrew Fuller", "andrew@northwind-sales.example", "UserMailbox", GIB / 2, 4_000, false),
    ]
    .join("\r\n")
        + "\r\n"
}

#[tokio::test]
async fn the_simulated_world_is_the_customers_inventory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("northwind.csv");
    std::fs::write(&file, customer_csv()).expect("write");
    let sim = Simulator::start(SimOptions {
        scenario: "small".into(),
        inventory: Some(file.clone()),
        bandwidth_mbit: Some(50.0),
        ..SimOptions::default()
    })
    .await
    .expect("a rehearsal world");
    let info = sim.info();
    assert_eq!(info.email_domains, ["northwind.example", "northwind-sales.example"], "the most common domain first");
    assert_eq!(info.bandwidth_mbit, 50);
    assert!(info.scenario.contains("rehearsal"), "{}", info.scenario);
    let csv = reqwest::get(format!("{}/inventory.csv", info.control_url))
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the simulated server's inventory")
        .bytes()
        .await
        .expect("body");
    let parsed = cutover::inventory::csv::parse(&csv).expect("the script's format");
    let given = cutover::inventory::csv::parse(customer_csv().as_bytes()).expect("the customer's file");
    assert_eq!(parsed.mailboxes.len(), 4);
    for (sim, theirs) in parsed.mailboxes.iter().zip(&given.mailboxes) {
        let local = |a: &str| a.split('@').next().unwrap_or_default().to_owned();
        assert_eq!(local(&sim.primary_smtp), local(&theirs.primary_smtp));
        assert_eq!(sim.display_name, theirs.display_name);
        assert_eq!(sim.item_count, theirs.item_count, "{}", sim.primary_smtp);
        assert!(sim.total_item_size.abs_diff(theirs.total_item_size) <= 1, "{}", sim.primary_smtp);
        assert!(sim.deleted_item_size.abs_diff(theirs.deleted_item_size) <= 1, "{}", sim.primary_smtp);
        assert_eq!((sim.hidden, &sim.recipient_type), (theirs.hidden, &theirs.recipient_type));
    }
    assert_eq!(parsed.mailboxes[2].recipient_type, RecipientType::SharedMailbox);
    assert!(parsed.mailboxes[1].hidden);
    sim.shutdown().await;
}

#[test]
fn cutover_sim_takes_the_inventory_and_the_bandwidth_on_its_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("northwind.csv");
    std::fs::write(&file, customer_csv()).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["sim", "--json", "--inventory", file.to_str().expect("path"), "--bandwidth", "80"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cutover sim");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                let _ = tx.send(v);
            }
        }
    });
    let info = rx.recv_timeout(Duration::from_secs(30));
    // SIGTERM, so the simulator removes its temporary files.
    // SAFETY: kill(2) with our own child's pid and a valid signal number.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    let info = info.expect("cutover sim prints its JSON");
    assert_eq!(info["bandwidth_mbit"], 80, "{info}");
    assert_eq!(info["email_domains"][0], "northwind.example", "{info}");
    let rules = info["transport_rules_json"].as_str().expect("the rules export named beside the inventory");
    let inventory = info["inventory_csv"].as_str().expect("the inventory");
    assert_eq!(std::path::Path::new(rules).parent(), std::path::Path::new(inventory).parent(), "{info}");

    let bad = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["sim", "--json", "--inventory", dir.path().join("none.csv").to_str().expect("path")])
        .output()
        .expect("cutover sim");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--inventory") && err.contains("none.csv") && err.contains("cannot be opened"), "{err}");
}

#[path = "support/app_tokens.rs"]
mod app_tokens;

/// One 4 GiB mailbox over a 2 Mbit/s link: the link, not the move's own rate, bounds it (4 GiB at 250,000 bytes a
/// second is about 4.8 hours), and the simulated time is measured on Exchange's clock.
#[tokio::test]
async fn the_simulated_initial_sync_follows_the_customers_bandwidth() {
    use cutover::m365::exo::{ExoClient, OutlookAnywhere};
    use cutover::m365::{Cloud, HttpClient, Resource, RetryPolicy, Session};
    use cutover::plan::migrate::view::BatchView;
    use cutover::plan::source::rehearsal::simulated_initial_sync;
    use cutover::runner::stages::migrate::watch;
    use std::sync::Arc;

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("one.csv");
    let csv: Vec<String> = customer_csv().lines().take(2).map(str::to_owned).collect();
    let csv = csv.join("\r\n").replace(&(62 * GIB).to_string(), &(4 * GIB).to_string()) + "\r\n";
    std::fs::write(&file, csv).expect("write");
    let sim = Simulator::start(SimOptions {
        scenario: "small".into(),
        inventory: Some(file),
        bandwidth_mbit: Some(2.0),
        ..SimOptions::default()
    })
    .await
    .expect("a rehearsal world");
    let info = sim.info().clone();
    let http = HttpClient::new(RetryPolicy::default(), None).expect("client");
    let cloud = Cloud::custom(&info.login_url, &info.graph_url, &info.exo_url).expect("loopback cloud");
    let tokens = Arc::new(app_tokens::AppTokens::new(&info.login_url, &info.tenant_id, &info.app_id, &info.app_secret));
    let session = |resource| Session { http: http.clone(), tokens: tokens.clone(), resource };
    let exo = ExoClient::new(session(Resource::ExchangeOnline), &cloud.exo(), &info.tenant_id).expect("exo");
    // The batch provisions accounts on a verified domain only: stage 4's add and verify, the registrar played.
    let graph = cutover::m365::graph::GraphClient::new(session(Resource::Graph), &cloud.graph()).expect("graph");
    let domain = info.email_domains[0].clone();
    graph.add_domain(&domain).await.expect("add domain");
    let txt = graph
        .verification_records(&domain)
        .await
        .expect("records")
        .into_iter()
        .find_map(|r| match r.data {
            cutover::m365::graph::DnsRecordData::Txt { text } => Some(text),
            _ => None,
        })
        .expect("TXT");
    let record = serde_json::json!({ "name": domain, "type": "TXT", "ttl": 300, "values": [txt] });
    let published = reqwest::Client::new()
        .post(format!("{}/dns/records", info.control_url))
        .json(&record)
        .send()
        .await
        .expect("the registrar");
    assert!(published.status().is_success());
    assert!(graph.verify_domain(&domain).await.expect("verify").is_verified);
    let oa = OutlookAnywhere {
        exchange_server: info.source.host.clone(),
        rpc_proxy_server: info.source.host.clone(),
        authentication: "Basic".into(),
        email_address: format!("nancy@{}", info.email_domains[0]),
        user_name: info.source.admin_user.clone(),
        password: cutover::secrets::Secret::new(info.source.admin_password.clone()),
        mailbox_permission: Some("FullAccess".into()),
    };
    exo.new_migration_endpoint("CutoverEndpoint", &oa, Some(20)).await.expect("endpoint");
    exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], true).await.expect("batch");
    let mut view = BatchView::default();
    let mut took = None;
    for _ in 0..40 {
        let advanced = reqwest::Client::new()
            .post(format!("{}/clock/advance", info.control_url))
            .json(&serde_json::json!({ "seconds": 900 }))
            .send()
            .await
            .expect("the clock");
        assert!(advanced.status().is_success());
        watch::cycle(&exo, "CutoverBatch", &mut view).await.expect("a cycle");
        took = simulated_initial_sync(&view);
        if took.is_some() {
            break;
        }
    }
    let statuses: Vec<String> = view
        .mailboxes
        .values()
        .map(|m| {
            format!("{:?} {:?} {:?}", m.user.status, m.user.last_successful_sync, view.batch.as_ref().map(|b| b.start))
        })
        .collect();
    let hours = took
        .unwrap_or_else(|| panic!("synced within ten simulated hours: {statuses:?} {:?}", view.last_error))
        .as_secs_f64()
        / 3600.0;
    let link_bound = (4 * GIB) as f64 / 250_000.0 / 3600.0;
    assert!((link_bound..link_bound + 0.5).contains(&hours), "{hours:.2} h, the link allows {link_bound:.2} h");
    sim.shutdown().await;
}
