//! The Exchange Online client against the simulator's migration engine, over real HTTP on 127.0.0.1: identities
//! that name nothing, several endpoints, Start-MigrationUser on stalled and poisoned moves, skipped items one by
//! one, a 2,000-mailbox batch to the end, and what one poll cycle costs in requests (the control API's counts).
//! App-only tokens come from the simulator's client-credentials grant, so no keyring is needed.

use cutover::m365::M365Error;
use cutover::m365::exo::{BatchAction, MigrationUser, OutlookAnywhere, SkippedItemKind, UserStatus};
use cutover::m365::graph::DnsRecordData;
use cutover::secrets::Secret;
use cutover::sim::SimInfo;
use serde_json::{Value, json};

#[path = "support/app_tokens.rs"]
mod app_tokens;

#[path = "support/sim_clients.rs"]
mod sim_clients;
use sim_clients::{Clients, control, start};

async fn advance(info: &SimInfo, seconds: f64) {
    let (s, _) = control(info, reqwest::Method::POST, "/clock/advance", Some(json!({ "seconds": seconds }))).await;
    assert_eq!(s, 200);
}

/// Adds and verifies the primary domain through Graph and the simulated registrar, as stage 4 does.
async fn verify_primary_domain(c: &Clients) {
    let domain = c.info.email_domains[0].clone();
    c.graph.add_domain(&domain).await.expect("add domain");
    let txt = c
        .graph
        .verification_records(&domain)
        .await
        .expect("records")
        .into_iter()
        .find_map(|r| match r.data {
            DnsRecordData::Txt { text } => Some(text),
            _ => None,
        })
        .expect("TXT");
    let body = json!({ "name": domain, "type": "TXT", "ttl": 300, "values": [txt] });
    let (s, _) = control(&c.info, reqwest::Method::POST, "/dns/records", Some(body)).await;
    assert_eq!(s, 200);
    assert!(c.graph.verify_domain(&domain).await.expect("verify").is_verified);
}

fn source(info: &SimInfo) -> OutlookAnywhere {
    OutlookAnywhere {
        exchange_server: info.source.host.clone(),
        rpc_proxy_server: info.source.host.clone(),
        authentication: "Basic".into(),
        email_address: format!("administrator@{}", info.email_domains[0]),
        user_name: info.source.admin_user.clone(),
        password: Secret::new(info.source.admin_password.clone()),
        mailbox_permission: Some("FullAccess".into()),
    }
}

fn address(info: &SimInfo, alias: &str) -> String {
    format!("{alias}@{}", info.email_domains[0])
}

/// The error is Exchange's not-found one, naming `id` as the service words it.
fn assert_not_found<T: std::fmt::Debug>(r: Result<T, M365Error>, id: &str) {
    let err = r.expect_err("an identity that names nothing is refused");
    let api = err.api().unwrap_or_else(|| panic!("an Exchange error: {err}"));
    assert_eq!(api.exception_type(), Some("ManagementObjectNotFoundException"), "{err}");
    let text = &api.exceptions[0].text;
    assert!(
        text.starts_with(&format!("The operation couldn't be performed because object '{id}' couldn't be found on '")),
        "{text}"
    );
}

async fn user(c: &Clients, alias: &str) -> MigrationUser {
    let all = c.exo.get_migration_users(None).await.expect("migration users");
    all.items.into_iter().find(|u| u.identity == address(&c.info, alias)).unwrap_or_else(|| panic!("{alias}"))
}

#[tokio::test]
async fn identities_name_one_object_and_an_unknown_one_is_not_found() {
    let (sim, c) = start("small").await;
    verify_primary_domain(&c).await;
    let oa = source(&c.info);
    c.exo.new_migration_endpoint("CutoverEndpoint", &oa, Some(20)).await.expect("endpoint");
    c.exo.new_migration_endpoint("Spare", &oa, Some(5)).await.expect("a second endpoint");
    let endpoints = c.exo.get_migration_endpoints().await.expect("endpoints").items;
    let names: Vec<&str> = endpoints.iter().map(|e| e.identity.as_str()).collect();
    assert_eq!(names, ["CutoverEndpoint", "Spare"]);
    assert_not_found(c.exo.invoke("Get-MigrationEndpoint", json!({"Identity": "Nope"}), true).await, "Nope");
    let one = c.exo.invoke("Get-MigrationEndpoint", json!({"Identity": "spare"}), true).await.expect("by name");
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0]["MaxConcurrentMigrations"], 5);
    assert_not_found(c.exo.set_max_concurrent_migrations("Nope", 10).await, "Nope");

    assert_eq!(c.exo.get_migration_batch("CutoverBatch").await.expect("no batch yet"), None);
    c.exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], false).await.expect("batch");
    assert_eq!(c.exo.get_migration_batch("OtherBatch").await.expect("another name"), None, "not the one batch");
    assert!(c.exo.get_migration_batch("CutoverBatch").await.expect("batch").is_some());
    assert_not_found(c.exo.batch_action(BatchAction::Start, "OtherBatch").await, "OtherBatch");
    let nobody = address(&c.info, "nobody");
    assert_not_found(c.exo.get_migration_user_statistics(&nobody).await, &nobody);
    assert_not_found(c.exo.start_migration_user(&nobody).await, &nobody);
    assert_not_found(c.exo.approve_user_skipped_items(&nobody).await, &nobody);

    // Remove by identity: the spare goes, the batch's endpoint stays, a missing one is not found.
    c.exo.remove_migration_endpoint("Spare").await.expect("remove the spare");
    let left = c.exo.get_migration_endpoints().await.expect("endpoints").items;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].identity, "CutoverEndpoint");
    let in_use = c.exo.remove_migration_endpoint("CutoverEndpoint").await.expect_err("the batch uses it");
    assert_eq!(in_use.api().and_then(|e| e.exception_type()), Some("MigrationPermanentException"), "{in_use}");
    assert_not_found(c.exo.remove_migration_endpoint("Spare").await, "Spare");
    sim.shutdown().await;
}

#[tokio::test]
async fn trouble_stalls_and_poisons_and_start_migration_user_restarts_them() {
    let (sim, c) = start("trouble").await;
    // The engineer fixed the source and turned directory sync off; the scenario's throttling is not under test.
    let fix = json!({"directory_sync": false, "certificate": "none", "rpc_auth": ["Basic", "Ntlm"]});
    let (s, fixed) = control(&c.info, reqwest::Method::POST, "/fix", Some(fix)).await;
    assert_eq!(s, 200, "{fixed}");
    assert_eq!(fixed["directory_sync"], false);
    let (s, _) = control(&c.info, reqwest::Method::DELETE, "/faults", None).await;
    assert_eq!(s, 204);
    let (s, _) = control(&c.info, reqwest::Method::POST, "/fix", Some(json!({"colour": "blue"}))).await;
    assert_eq!(s, 400, "an unknown fix is refused");
    verify_primary_domain(&c).await;
    c.exo.new_migration_endpoint("CutoverEndpoint", &source(&c.info), Some(20)).await.expect("endpoint");
    c.exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], true).await.expect("batch");

    // The stall: counters stop while the status stays Syncing, until SyncTimeoutException fails the move.
    let warehouse = address(&c.info, "warehouse");
    let mut stalled_at = None;
    for _ in 0..16 {
        advance(&c.info, 1800.0).await;
        let a = c.exo.get_migration_user_statistics(&warehouse).await.expect("stats").expect("user");
        if a.status != UserStatus::Syncing || a.percentage_complete.unwrap_or(0) < 40 {
            continue;
        }
        advance(&c.info, 1800.0).await;
        let b = c.exo.get_migration_user_statistics(&warehouse).await.expect("stats").expect("user");
        assert_eq!(b.status, UserStatus::Syncing, "a stalled move still says Syncing");
        assert_eq!((b.synced_items, b.bytes_transferred), (a.synced_items, a.bytes_transferred), "counters stopped");
        stalled_at = Some(a.percentage_complete);
        break;
    }
    assert_eq!(stalled_at, Some(Some(40)), "warehouse stalled at 40 %");
    advance(&c.info, 2.0 * 3600.0).await;
    let w = user(&c, "warehouse").await;
    assert_eq!(w.status, UserStatus::Failed);
    assert!(w.error.as_deref().is_some_and(|e| e.contains("SyncTimeoutException")), "{w:?}");
    let k = user(&c, "k.brown").await;
    assert_eq!(k.status, UserStatus::Failed, "the poisoned job failed by now");
    assert!(k.error.as_deref().is_some_and(|e| e.contains("MigrationPermanentException")), "{k:?}");

    // A user that did not fail is left as it is.
    let lee_before = user(&c, "s.lee").await;
    c.exo.start_migration_user(&address(&c.info, "s.lee")).await.expect("start a user that did not fail");
    assert_eq!(user(&c, "s.lee").await.status, lee_before.status);

    // Restarts: the stalled move gets through, the poisoned one fails again.
    c.exo.start_migration_user(&warehouse).await.expect("restart the stalled move");
    c.exo.start_migration_user(&address(&c.info, "k.brown")).await.expect("restart the poisoned move");
    let restarted = user(&c, "warehouse").await;
    assert!(matches!(restarted.status, UserStatus::Queued | UserStatus::Provisioning), "{restarted:?}");
    assert_eq!(restarted.error, None, "the old error is gone");
    let mut w = user(&c, "warehouse").await;
    for _ in 0..12 {
        advance(&c.info, 3600.0).await;
        w = user(&c, "warehouse").await;
        if w.status != UserStatus::Syncing && w.status != UserStatus::Provisioning && w.status != UserStatus::Queued {
            break;
        }
    }
    assert_eq!(w.status, UserStatus::Synced, "{w:?}");
    let k = user(&c, "k.brown").await;
    assert_eq!(k.status, UserStatus::Failed, "a poisoned job fails again");
    assert!(k.error.as_deref().is_some_and(|e| e.contains("MigrationPermanentException")), "{k:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn skipped_items_come_one_by_one_when_asked_for() {
    let (sim, c) = start("typical").await;
    verify_primary_domain(&c).await;
    c.exo.new_migration_endpoint("CutoverEndpoint", &source(&c.info), Some(100)).await.expect("endpoint");
    c.exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], true).await.expect("batch");
    let morrison = address(&c.info, "j.morrison");
    let mut stats = None;
    for _ in 0..20 {
        advance(&c.info, 6.0 * 3600.0).await;
        let s = c.exo.get_migration_user_statistics(&morrison).await.expect("stats").expect("user");
        if s.status.is_synced() {
            stats = Some(s);
            break;
        }
    }
    let plain = stats.expect("j.morrison synced within 120 simulated hours");
    assert_eq!(plain.skipped_items, 3);
    assert_eq!(plain.skipped_item_details, None, "not asked for");
    let s = c.exo.get_migration_user_statistics_with_skipped(&morrison, None).await.expect("stats").expect("user");
    let items = s.skipped_item_details.expect("asked for");
    assert_eq!(items.len(), 3);
    for item in &items {
        assert_eq!(item.kind, SkippedItemKind::LargeItem);
        assert!(item.message_size.and_then(|b| b.bytes()).is_some_and(|b| b > 150 * 1024 * 1024), "{item:?}");
        assert!(item.subject.is_some() && item.folder_name.is_some() && item.date_received.is_some(), "{item:?}");
    }
    let again = c.exo.get_migration_user_statistics_with_skipped(&morrison, None).await.expect("again").expect("user");
    assert_eq!(again.skipped_item_details.as_deref(), Some(&items[..]), "the same items every time");
    let two = c.exo.get_migration_user_statistics_with_skipped(&morrison, Some(2)).await.expect("limit").expect("u");
    assert_eq!(two.skipped_item_details.map(|i| i.len()), Some(2));
    // A mailbox that skipped nothing lists nothing.
    let users = c.exo.get_migration_users(None).await.expect("users").items;
    let clean = users.iter().find(|u| u.status.is_synced() && u.skipped_items == Some(0)).expect("a clean mailbox");
    let s = c.exo.get_migration_user_statistics_with_skipped(&clean.identity, None).await.expect("stats").expect("u");
    assert_eq!(s.skipped_item_details, Some(vec![]));
    sim.shutdown().await;
}

fn count(counts: &Value, service: &str, key: &str) -> u64 {
    counts[service][key].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn two_thousand_mailboxes_sync_to_the_end_and_a_poll_costs_three_plus_active_requests() {
    let (sim, c) = start("large").await;
    verify_primary_domain(&c).await;
    c.exo.new_migration_endpoint("CutoverEndpoint", &source(&c.info), Some(100)).await.expect("endpoint");
    c.exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], true).await.expect("batch");
    advance(&c.info, 6.0 * 3600.0).await;

    // One poll cycle, as the runner makes it: the batch, every user (two pages of 1,000), and the statistics of
    // each active one.
    let (s, _) = control(&c.info, reqwest::Method::DELETE, "/requests", None).await;
    assert_eq!(s, 204);
    let batch = c.exo.get_migration_batch("CutoverBatch").await.expect("batch").expect("exists");
    let users = c.exo.get_migration_users(Some("CutoverBatch")).await.expect("users").items;
    assert_eq!(users.len(), 2000);
    let active: Vec<&MigrationUser> = users
        .iter()
        .filter(|u| {
            matches!(
                u.status,
                UserStatus::Provisioning
                    | UserStatus::Syncing
                    | UserStatus::IncrementalSyncing
                    | UserStatus::Completing
            )
        })
        .collect();
    assert!(!active.is_empty() && active.len() <= 100, "{} active, MaxConcurrentMigrations 100", active.len());
    assert_eq!(active.len() as u64, batch.active_count);
    for u in &active {
        c.exo.get_migration_user_statistics(&u.identity).await.expect("stats").expect("user");
    }
    let (s, counts) = control(&c.info, reqwest::Method::GET, "/requests", None).await;
    assert_eq!(s, 200);
    assert_eq!(count(&counts, "exo", "Get-MigrationBatch"), 1, "{counts}");
    assert_eq!(count(&counts, "exo", "Get-MigrationUser"), 2, "two pages: {counts}");
    assert_eq!(count(&counts, "exo", "Get-MigrationUserStatistics"), active.len() as u64, "{counts}");
    let exo_total: u64 = counts["exo"].as_object().expect("exo counts").values().filter_map(Value::as_u64).sum();
    assert!(exo_total <= 3 + active.len() as u64, "{exo_total} requests for {} active: {counts}", active.len());
    assert!(counts["total"].as_u64().is_some_and(|t| t >= exo_total), "{counts}");

    // Bounded: 20 simulated days, 12 hours at a time, until no mailbox waits for its initial sync.
    let mut waiting = usize::MAX;
    for _ in 0..40 {
        advance(&c.info, 12.0 * 3600.0).await;
        let users = c.exo.get_migration_users(None).await.expect("users").items;
        waiting = users.iter().filter(|u| !(u.status.is_synced() || u.status.is_failed())).count();
        if waiting == 0 {
            let failed = users.iter().filter(|u| u.status.is_failed()).count();
            assert_eq!(failed, 4, "the generated poisoned moves");
            break;
        }
    }
    assert_eq!(waiting, 0, "every mailbox finished its initial sync");
    let batch = c.exo.get_migration_batch("CutoverBatch").await.expect("batch").expect("exists");
    assert_eq!(batch.failed_count, 4);
    assert_eq!(batch.pending_count, 0);
    sim.shutdown().await;
}

/// The batch's watch through a storm of 429s, a 503 and a dropped connection: a cycle that cannot read keeps the
/// last good view with its error, and the next one after the storm reads everything again; nothing is lost.
#[tokio::test]
async fn a_watch_cycle_keeps_the_last_view_through_throttling_and_a_dropped_connection() {
    use cutover::plan::migrate::view::BatchView;
    use cutover::runner::stages::migrate::watch::cycle;
    let (sim, c) = start("small").await;
    verify_primary_domain(&c).await;
    c.exo.new_migration_endpoint("CutoverEndpoint", &source(&c.info), Some(20)).await.expect("endpoint");
    c.exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], true).await.expect("batch");
    advance(&c.info, 600.0).await;
    let mut view = BatchView::default();
    cycle(&c.exo, "CutoverBatch", &mut view).await.expect("a cycle");
    assert!(view.last_error.is_none(), "{:?}", view.last_error);
    let seen = view.mailboxes.len();
    assert!(seen > 0, "the batch's users were read");
    let polled = view.polled_at;

    // Every Get-MigrationUser throttled: the client waits as told, then gives up within its bound.
    let storm = json!({ "service": "exo", "path_contains": "Get-MigrationUser", "kind": { "type": "throttle", "retry_after": 1 } });
    let (s, _) = control(&c.info, reqwest::Method::POST, "/faults", Some(storm)).await;
    assert!(s < 300, "fault added");
    cycle(&c.exo, "CutoverBatch", &mut view).await.expect("a failed cycle is not an error of the watch");
    let error = view.last_error.clone().expect("the throttled cycle is recorded");
    assert!(error.message.contains("429") || error.message.to_lowercase().contains("throttl"), "{}", error.message);
    assert_eq!(view.mailboxes.len(), seen, "the last good view stays");
    assert_eq!(view.polled_at, polled, "its age is the last good poll's");

    // A dropped connection, then recovery: the next cycle reads it all again.
    let (s, _) = control(&c.info, reqwest::Method::DELETE, "/faults", None).await;
    assert!(s < 300);
    let drop =
        json!({ "service": "exo", "path_contains": "Get-MigrationBatch", "kind": { "type": "drop" }, "times": 1 });
    control(&c.info, reqwest::Method::POST, "/faults", Some(drop)).await;
    cycle(&c.exo, "CutoverBatch", &mut view).await.expect("cycle");
    assert!(view.last_error.is_none(), "a read retried after a dropped connection: {:?}", view.last_error);
    assert_eq!(view.mailboxes.len(), seen);
    assert!(view.polled_at > polled);
    sim.shutdown().await;
}

/// A mailbox Exchange has a migration slot for: what `MaxConcurrentMigrations` caps.
fn is_active(status: &UserStatus) -> bool {
    matches!(
        status,
        UserStatus::Provisioning | UserStatus::Syncing | UserStatus::IncrementalSyncing | UserStatus::Completing
    )
}

/// Runs stage 5's own poll cycle (`watch::cycle`) on the 2,000 mailboxes of `large` with `concurrent` moves at a
/// time: a first cycle as the batch starts, a cold one two hours in (a watch started afresh reads the statistics
/// of every mailbox past the queue once), then the measured one 30 simulated seconds later, as the watch polls.
/// Returns (requests of the measured cycle, mailboxes active before or after it, active after it, requests of the
/// cold cycle).
async fn poll_cycle_cost(concurrent: u32) -> (u64, usize, usize, u64) {
    use cutover::plan::migrate::view::BatchView;
    use cutover::runner::stages::migrate::watch;
    let (sim, c) = start("large").await;
    verify_primary_domain(&c).await;
    c.exo.new_migration_endpoint("CutoverEndpoint", &source(&c.info), Some(concurrent)).await.expect("endpoint");
    c.exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], true).await.expect("batch");
    let exo_total = |counts: &Value| -> u64 {
        counts["exo"].as_object().expect("exo counts").values().filter_map(Value::as_u64).sum()
    };
    let active_in = |view: &BatchView| -> std::collections::BTreeSet<String> {
        view.mailboxes.iter().filter(|(_, m)| is_active(&m.user.status)).map(|(k, _)| k.clone()).collect()
    };

    let mut first = BatchView::default();
    watch::cycle(&c.exo, "CutoverBatch", &mut first).await.expect("first cycle");
    assert_eq!(first.mailboxes.len(), 2000);
    advance(&c.info, 2.0 * 3600.0).await;
    let (s, _) = control(&c.info, reqwest::Method::DELETE, "/requests", None).await;
    assert_eq!(s, 204);
    let mut view = BatchView::default();
    watch::cycle(&c.exo, "CutoverBatch", &mut view).await.expect("cold cycle");
    let (_, counts) = control(&c.info, reqwest::Method::GET, "/requests", None).await;
    let cold = exo_total(&counts);
    assert_eq!(view.last_error, None);

    let before = active_in(&view);
    advance(&c.info, 30.0).await;
    let (s, _) = control(&c.info, reqwest::Method::DELETE, "/requests", None).await;
    assert_eq!(s, 204);
    watch::cycle(&c.exo, "CutoverBatch", &mut view).await.expect("cycle");
    let (s, counts) = control(&c.info, reqwest::Method::GET, "/requests", None).await;
    assert_eq!(s, 200);
    assert_eq!(view.last_error, None);
    assert_eq!(view.mailboxes.len(), 2000);
    let after = active_in(&view);
    let either = before.union(&after).count();
    assert_eq!(count(&counts, "exo", "Get-MigrationBatch"), 1, "{counts}");
    assert_eq!(count(&counts, "exo", "Get-MigrationUser"), 2, "two pages of 1,000: {counts}");
    let n = exo_total(&counts);
    assert_eq!(counts["total"].as_u64(), Some(n), "no sign-in or Graph call within a cycle: {counts}");
    sim.shutdown().await;
    (n, either, after.len(), cold)
}

#[tokio::test]
async fn the_watch_cycle_at_two_thousand_mailboxes_costs_at_most_three_plus_the_active_ones() {
    for concurrent in [20, 100] {
        let (n, either, after, cold) = poll_cycle_cost(concurrent).await;
        eprintln!(
            "MaxConcurrentMigrations {concurrent}: {n} requests in one cycle; {either} active before or after it, \
             {after} after; a cold cycle (fresh view) {cold}"
        );
        // The active ones: those with a slot at either end of the 30 s (one that finished its sync meanwhile
        // had its counters change, so it is read once more).
        let active = either as u64;
        assert!(after > 0 && after <= concurrent as usize, "{after} active of {concurrent}");
        assert!(n <= 3 + active, "{n} requests for {active} active at MaxConcurrentMigrations {concurrent}");
        assert!(n < 2001, "never one request per mailbox");
    }
}
