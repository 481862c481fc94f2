//! Stage 5's watch at the 2,000-mailbox cutover limit: one poll cycle of the project's own `watch::cycle` over
//! HTTP against the simulator's `large` scenario (at MaxConcurrentMigrations 20 and 100), merging one poll of
//! 2,000 mailboxes into the view (`apply_poll`), and drawing the live table of 2,000 rows. Figures go in
//! BENCHMARKS.md; the request count of a cycle is asserted in tests/sim_migration.rs.

use chrono::{DateTime, Duration, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use cutover::inventory::{Inventory, csv};
use cutover::m365::exo::{
    BatchStatus, ExSize, ExoClient, MigrationBatch, MigrationUser, MigrationUserStatistics, OutlookAnywhere, UserStatus,
};
use cutover::m365::graph::{DnsRecordData, GraphClient};
use cutover::m365::{Cloud, HttpClient, Resource, RetryPolicy, Session};
use cutover::plan::migrate::view::{BatchView, PollFacts, PollResult, apply_poll};
use cutover::project::ProjectState;
use cutover::runner::stages::migrate::watch;
use cutover::secrets::Secret;
use cutover::sim::{SimOptions, Simulator};
use cutover::tui::app::{Action, Focus, Msg, View};
use cutover::tui::{App, Theme, draw};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use std::fmt::Write;
use std::sync::Arc;

#[path = "../tests/support/app_tokens.rs"]
mod app_tokens;
use app_tokens::AppTokens;

/// The `large` scenario with its batch two hours in at `concurrent` moves at a time, and a view that has seen
/// one cycle: what the watch polls every 30 seconds from then on.
async fn batch_under_way(concurrent: u32) -> (Simulator, ExoClient, BatchView) {
    let sim = Simulator::start(SimOptions { scenario: "large".into(), ..Default::default() }).await.expect("sim");
    let info = sim.info().clone();
    let http = HttpClient::new(RetryPolicy::default(), None).expect("client");
    let cloud = Cloud::custom(&info.login_url, &info.graph_url, &info.exo_url).expect("loopback cloud");
    let tokens = Arc::new(AppTokens::new(&info.login_url, &info.tenant_id, &info.app_id, &info.app_secret));
    let session = |resource| Session { http: http.clone(), tokens: tokens.clone(), resource };
    let exo = ExoClient::new(session(Resource::ExchangeOnline), &cloud.exo(), &info.tenant_id).expect("exo");
    let graph = GraphClient::new(session(Resource::Graph), &cloud.graph()).expect("graph");
    let control = reqwest::Client::new();
    // The primary domain verified (else every move fails at provisioning), as stage 4 leaves it.
    let domain = info.email_domains[0].clone();
    graph.add_domain(&domain).await.expect("add domain");
    let txt = graph
        .verification_records(&domain)
        .await
        .expect("records")
        .into_iter()
        .find_map(|r| match r.data {
            DnsRecordData::Txt { text } => Some(text),
            _ => None,
        })
        .expect("TXT");
    let record = json!({ "name": domain, "type": "TXT", "ttl": 300, "values": [txt] });
    control.post(format!("{}/dns/records", info.control_url)).json(&record).send().await.expect("registrar");
    graph.verify_domain(&domain).await.expect("verify");
    let source = OutlookAnywhere {
        exchange_server: info.source.host.clone(),
        rpc_proxy_server: info.source.host.clone(),
        authentication: "Basic".into(),
        email_address: format!("administrator@{domain}"),
        user_name: info.source.admin_user.clone(),
        password: Secret::new(info.source.admin_password.clone()),
        mailbox_permission: Some("FullAccess".into()),
    };
    exo.new_migration_endpoint("CutoverEndpoint", &source, Some(concurrent)).await.expect("endpoint");
    exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], true).await.expect("batch");
    let advance = json!({ "seconds": 2 * 3600 });
    control.post(format!("{}/clock/advance", info.control_url)).json(&advance).send().await.expect("clock");
    let mut view = BatchView::default();
    watch::cycle(&exo, "CutoverBatch", &mut view).await.expect("cycle");
    assert_eq!(view.mailboxes.len(), 2000);
    (sim, exo, view)
}

fn poll_cycle(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for concurrent in [20, 100] {
        let (sim, exo, mut view) = rt.block_on(batch_under_way(concurrent));
        let name = format!("watch cycle over HTTP, 2,000 mailboxes, MaxConcurrentMigrations {concurrent}");
        c.bench_function(&name, |b| {
            b.iter(|| {
                rt.block_on(watch::cycle(&exo, "CutoverBatch", &mut view)).expect("cycle");
                assert!(view.last_error.is_none(), "{:?}", view.last_error);
            })
        });
        rt.block_on(sim.shutdown());
    }
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).expect("valid")
}

fn address(i: usize) -> String {
    format!("user{i}@contoso.com")
}

/// A poll of a 2,000-mailbox batch two hours in: 100 syncing, 400 synced, 8 failed, the rest queued; the
/// statistics of the syncing ones (what a cycle reads), or of every mailbox past the queue (`all_statistics`).
fn poll(minute: i64, all_statistics: bool) -> PollFacts {
    let status = |i: usize| match i {
        _ if i % 250 == 7 => UserStatus::Failed,
        0..100 => UserStatus::Syncing,
        100..500 => UserStatus::Synced,
        _ => UserStatus::Queued,
    };
    let moved = |i: usize| (i as u64 % 97 + 1) * 20_000_000 + minute as u64 * 1_000_000;
    let users = (0..2000)
        .map(|i| MigrationUser {
            identity: address(i),
            email: Some(address(i)),
            batch: Some("CutoverBatch".into()),
            status: status(i),
            synced_items: Some(moved(i) / 80_000),
            skipped_items: Some(0),
            last_successful_sync: (status(i) == UserStatus::Synced).then(at),
            error: (status(i) == UserStatus::Failed)
                .then(|| "MigrationPermanentException: The mailbox is hidden from address lists.".into()),
        })
        .collect::<Vec<_>>();
    let statistics = users
        .iter()
        .enumerate()
        .filter(|(i, u)| u.status == UserStatus::Syncing || (all_statistics && status(*i) != UserStatus::Queued))
        .map(|(i, u)| MigrationUserStatistics {
            identity: u.identity.clone(),
            status: u.status.clone(),
            synced_items: moved(i) / 80_000,
            skipped_items: 0,
            total_items_in_source: Some(40_000),
            bytes_transferred: Some(ExSize::Bytes(moved(i))),
            estimated_total: Some(ExSize::Bytes(3_000_000_000)),
            percentage_complete: Some(moved(i) * 100 / 3_000_000_000),
            last_successful_sync: u.last_successful_sync,
            error: u.error.clone(),
            skipped_item_details: None,
            skipped_items_approved: None,
        })
        .collect();
    let batch = MigrationBatch {
        identity: "CutoverBatch".into(),
        status: BatchStatus::Syncing,
        migration_type: Some("ExchangeOutlookAnywhere".into()),
        total_count: 2000,
        active_count: 100,
        stopped_count: 0,
        synced_count: 400,
        finalized_count: 0,
        failed_count: 8,
        failed_initial_sync_count: 8,
        failed_incremental_sync_count: 0,
        pending_count: 1492,
        provisioned_count: 508,
        creation: Some(at()),
        start: Some(at()),
        last_synced: None,
    };
    PollFacts { batch: Some(batch), users, statistics, service_ahead_ms: None }
}

/// A view of the 2,000 mailboxes after an hour of polls every minute.
fn watched_view() -> BatchView {
    let mut view = BatchView::default();
    for minute in 0..60 {
        apply_poll(&mut view, PollResult::Read(Box::new(poll(minute, minute == 0))), at() + Duration::minutes(minute));
    }
    view
}

fn merge(c: &mut Criterion) {
    let mut view = watched_view();
    let mut minute = 60;
    let facts = poll(60, false);
    c.bench_function("apply_poll, 2,000 mailboxes (100 statistics)", |b| {
        b.iter_batched(
            || PollResult::Read(Box::new(facts.clone())),
            |poll| {
                minute += 1;
                apply_poll(&mut view, poll, at() + Duration::minutes(minute));
            },
            BatchSize::SmallInput,
        )
    });
    let facts = poll(60, true);
    c.bench_function("apply_poll, 2,000 mailboxes (every statistics: a cold cycle)", |b| {
        b.iter_batched(
            || PollResult::Read(Box::new(facts.clone())),
            |poll| {
                minute += 1;
                apply_poll(&mut view, poll, at() + Duration::minutes(minute));
            },
            BatchSize::SmallInput,
        )
    });
}

/// The inventory of the same 2,000 mailboxes, as stage 2 imported it.
fn inventory() -> Inventory {
    let mut text = String::from(
        "\"DisplayName\",\"PrimarySmtpAddress\",\"UserPrincipalName\",\"EmailAddresses\",\"RecipientTypeDetails\",\
         \"TotalItemSizeBytes\",\"ItemCount\",\"TotalDeletedItemSizeBytes\",\"ArchiveState\",\
         \"HiddenFromAddressListsEnabled\",\"ForwardingSmtpAddress\",\"LastLogonTime\",\"Database\"\n",
    );
    for i in 0..2000usize {
        let size = (i as u64 * 7_919 % 6_000 + 100) * 1_048_576;
        writeln!(
            text,
            "\"User {i}\",\"{a}\",\"{a}\",\"SMTP:{a}\",\"UserMailbox\",\"{size}\",\"{}\",\"0\",\"None\",\"False\",\"\",\
             \"2026-11-01T08:00:00Z\",\"DB01\"",
            size / 90_000,
            a = address(i)
        )
        .expect("write to a string");
    }
    let mailboxes = csv::parse(text.as_bytes()).expect("parses").mailboxes;
    Inventory { imported_at: at(), file_name: "bench.csv".into(), mailboxes }
}

/// The wizard on stage 5's live table, the watch's view of 2,000 mailboxes set.
pub fn live_table_app() -> App {
    let mut state = ProjectState::new("bench", at(), false);
    state.inventory = Some(Arc::new(inventory()));
    state.source.upload_mbit_s = Some(200);
    let mut app = App::new(state, None);
    app.stage = cutover::plan::migrate::STAGE;
    app.view = View::Table;
    app.focus = Focus::Main;
    app.batch = Some(Arc::new(watched_view()));
    // As in the wizard, where each update ends by keeping the table's rows.
    app.update(Msg::Tick(at() + Duration::minutes(60)));
    app
}

fn live_table(c: &mut Criterion) {
    let mut app = live_table_app();
    let theme = Theme::new(true);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    terminal.draw(|frame| draw(frame, &app, &theme)).expect("draw");
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(screen.contains("of 2000"), "the live table is on screen");
    c.bench_function("live batch table, 2,000 mailboxes: draw at 200x50", |b| {
        b.iter(|| {
            terminal.draw(|frame| draw(frame, &app, &theme)).expect("draw");
        })
    });
    c.bench_function("live batch table, 2,000 mailboxes: move down and draw at 200x50", |b| {
        b.iter(|| {
            app.update(Msg::Action(Action::MoveDown));
            terminal.draw(|frame| draw(frame, &app, &theme)).expect("draw");
        })
    });
}

criterion_group!(benches, merge, live_table, poll_cycle);
criterion_main!(benches);
