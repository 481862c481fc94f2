//! A rehearsal reads the customer's own inventory CSV (the stage 2 format) into the simulated world: the
//! simulated server then knows exactly those mailboxes, with their sizes, item counts, hidden and shared flags, on
//! the customer's domains, and its link runs at the given bandwidth. Through the library entry and through
//! `cutover sim --inventory FILE --bandwidth MBIT --json`.

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
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("cannot read the inventory"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
