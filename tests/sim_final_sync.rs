//! Stage 8 against the simulator, over real HTTP on 127.0.0.1: on `typical`, mail reaching the old MX while the
//! slowest resolver still answers it is picked up by the next incremental sync, and last-sync-after-mx fails,
//! naming the mailboxes still waiting (support, whose incremental sync comes late), until it has; completion
//! without the approval of skipped items ends CompletedWithErrors, stage 6's approval and a second completion
//! let the mailbox through, and the batch, CompletedWithErrors for the poisoned mailbox that never completes, is
//! removed; the X500 addresses are added once. On `small`, a clean completion ends Completed, the batch is
//! removed and then the endpoint, each once.
//!
//! The test plays stage 7's part at the library's level (`tests/stage7_mx.rs` and `tests/headless.rs` run the
//! real one): it changes the MX at the simulated registrar (`POST {control}/dns/records`) and builds the
//! `MxRecord` stage 7 would record, on the simulated clock. App-only tokens come from the client-credentials
//! grant: no keyring.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use cutover::inventory::Mailbox as SourceMailbox;
use cutover::m365::exo::{BatchAction, BatchStatus, OutlookAnywhere, UserStatus};
use cutover::m365::graph::DnsRecordData;
use cutover::plan::Outcome;
use cutover::plan::final_sync::completion::{self, Completion};
use cutover::plan::final_sync::last_sync::{self, INCREMENTAL_INTERVAL_HOURS};
use cutover::plan::final_sync::x500;
use cutover::plan::migrate::view::BatchView;
use cutover::plan::mx::MxRecord;
use cutover::project::{AuditLog, Phase};
use cutover::runner::Event;
use cutover::runner::jobs::JobContext;
use cutover::runner::stages::final_sync::{complete, remove, x500 as x500_task};
use cutover::runner::stages::migrate::watch;
use cutover::runner::stages::verify::approve_skipped;
use cutover::secrets::Secret;
use cutover::sim::SimInfo;
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

#[path = "support/app_tokens.rs"]
mod app_tokens;

const BATCH: &str = "cutover-final";
const ENDPOINT: &str = "Cutover endpoint";

#[path = "support/sim_clients.rs"]
mod sim_clients;
use sim_clients::{Clients, control, start};

/// Moves the simulated clock on; returns the simulated now.
async fn advance(info: &SimInfo, seconds: f64) -> DateTime<Utc> {
    let (s, v) = control(info, reqwest::Method::POST, "/clock/advance", Some(json!({ "seconds": seconds }))).await;
    assert_eq!(s, 200);
    serde_json::from_value(v["now"].clone()).expect("the simulated now")
}

async fn sim_now(info: &SimInfo) -> DateTime<Utc> {
    let (_, v) = control(info, reqwest::Method::GET, "/state", None).await;
    serde_json::from_value(v["now"].clone()).expect("the simulated now")
}

fn context(dir: &Path) -> (JobContext, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (JobContext::new(1, tx, AuditLog::new(dir.join("audit.jsonl"))), rx)
}

/// Every write has its "about to" and outcome records; returns the actions, in order.
fn audited_actions(dir: &Path) -> Vec<String> {
    let (records, bad) = AuditLog::new(dir.join("audit.jsonl")).read().expect("audit log");
    assert!(bad.is_empty(), "unreadable audit lines: {bad:?}");
    let mut done = Vec::new();
    for pair in records.chunks(2) {
        assert_eq!(pair[0].phase, Phase::AboutTo, "{}", pair[0].summary());
        assert_eq!(pair[1].phase, Phase::Done, "{}", pair[1].summary());
        done.push(pair[0].action.clone());
    }
    done
}

/// Stages 4 and 5 as far as stage 8 needs them: the primary domain verified, the endpoint, the batch started
/// and synced.
async fn synced_batch(c: &Clients) {
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
    assert_eq!(control(&c.info, reqwest::Method::POST, "/dns/records", Some(body)).await.0, 200);
    assert!(c.graph.verify_domain(&domain).await.expect("verify").is_verified);
    let oa = OutlookAnywhere {
        exchange_server: c.info.source.host.clone(),
        rpc_proxy_server: c.info.source.host.clone(),
        authentication: "Basic".into(),
        email_address: format!("administrator@{domain}"),
        user_name: c.info.source.admin_user.clone(),
        password: Secret::new(c.info.source.admin_password.clone()),
        mailbox_permission: Some("FullAccess".into()),
    };
    c.exo.new_migration_endpoint(ENDPOINT, &oa, Some(100)).await.expect("endpoint");
    c.exo.new_cutover_batch(BATCH, ENDPOINT, &[], false).await.expect("batch");
    c.exo.batch_action(BatchAction::Start, BATCH).await.expect("start");
    wait_for(c, 6.0 * 3600.0, |s| matches!(s, BatchStatus::Synced | BatchStatus::SyncedWithErrors)).await;
}

/// Advances the clock by `step` until the batch's status is one `done` accepts (at most 40 steps).
async fn wait_for(c: &Clients, step: f64, done: impl Fn(&BatchStatus) -> bool) -> BatchStatus {
    for _ in 0..40 {
        let status = c.exo.get_migration_batch(BATCH).await.expect("batch").expect("there").status;
        if done(&status) {
            return status;
        }
        advance(&c.info, step).await;
    }
    panic!("the batch did not get there");
}

async fn view(c: &Clients) -> BatchView {
    let mut v = BatchView::default();
    watch::cycle(&c.exo, BATCH, &mut v).await.expect("a cycle");
    assert!(v.last_error.is_none(), "{:?}", v.last_error);
    v
}

fn address(c: &Clients, alias: &str) -> String {
    format!("{alias}@{}", c.info.email_domains[0])
}

/// The customer's MX change at the registrar, and what stage 7 records of it: the change's time and each
/// resolver's switch after its delay.
async fn change_mx(c: &Clients) -> MxRecord {
    let domain = &c.info.email_domains[0];
    let mx = format!("0 {}.mail.protection.outlook.com", domain.replace('.', "-"));
    let body = json!({ "name": domain, "type": "MX", "ttl": 300, "values": [mx] });
    assert_eq!(control(&c.info, reqwest::Method::POST, "/dns/records", Some(body)).await.0, 200);
    let changed_at = sim_now(&c.info).await;
    let switched = c
        .info
        .dns
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let after = ChronoDuration::milliseconds((r.delay_seconds * 1000.0) as i64);
            (format!("resolver {i} ({})", r.addr), changed_at + after)
        })
        .collect();
    MxRecord { changed_at: Some(changed_at), switched, ..MxRecord::default() }
}

/// The sim's inventory CSV, as stage 2 imports it.
fn inventory(info: &SimInfo) -> Vec<SourceMailbox> {
    let bytes = std::fs::read(&info.inventory_csv).expect("inventory CSV");
    cutover::inventory::csv::parse(&bytes).expect("parses").mailboxes
}

/// Runs complete-batch while the simulated clock moves on (30 simulated minutes every 100 ms), as it would
/// on its own.
async fn complete_while_time_passes(c: &Clients, ctx: &JobContext) -> cutover::runner::tasks::TaskOutcome {
    let info = c.info.clone();
    let ticking = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            advance(&info, 1800.0).await;
        }
    });
    let out = complete::complete_batch(ctx, &c.exo, BATCH, Duration::from_millis(50), |_| {}).await;
    ticking.abort();
    out.expect("complete-batch")
}

#[tokio::test]
async fn typical_mail_to_the_old_mx_arrives_with_the_next_sync_then_the_batch_completes_and_x500_is_added() {
    let (sim, c) = start("typical").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (ctx, _rx) = context(dir.path());
    synced_batch(&c).await;
    let interval = ChronoDuration::hours(INCREMENTAL_INTERVAL_HOURS);

    // No MX change recorded: stage 7 first.
    let before = view(&c).await;
    let r = last_sync::check(&before, &MxRecord::default(), interval, Utc::now());
    assert_eq!(r.outcome, Outcome::Fail);
    assert!(r.evidence.contains("stage 7"), "{}", r.evidence);

    // The customer changes the MX just after support's incremental sync, whose next one comes 10 h late (34 h).
    let ceo = address(&c, "ceo");
    let support = address(&c, "support");
    let last_of = |v: &BatchView, a: &str| v.mailbox(a).and_then(|m| m.last_successful_sync());
    let support_synced = last_of(&before, &support);
    for _ in 0..40 {
        advance(&c.info, 3600.0).await;
        if last_of(&view(&c).await, &support) != support_synced {
            break;
        }
    }
    let before = view(&c).await;
    assert_ne!(last_of(&before, &support), support_synced, "support's incremental sync came");
    // The change; mail goes on landing at the old server until the slowest resolver (30 min) switches.
    let items_before = before.mailbox(&ceo).expect("ceo").synced_items();
    let mx = change_mx(&c).await;
    let cutoff = last_sync::cutoff(&mx).expect("a cutoff");
    assert_eq!(cutoff - mx.changed_at.expect("changed"), ChronoDuration::seconds(1800));
    advance(&c.info, 3600.0).await;
    let after_change = view(&c).await;
    let r = last_sync::check(&after_change, &mx, interval, sim_now(&c.info).await);
    assert_eq!(r.outcome, Outcome::Fail, "{}", r.evidence);
    assert!(r.evidence.contains(&format!("{support} (Synced): last synced")), "{}", r.evidence);
    assert!(r.evidence.contains("next incremental sync due"), "{}", r.evidence);

    // A day on: every mailbox's next incremental sync ran but support's, which comes 10 h late.
    advance(&c.info, 24.0 * 3600.0).await;
    let day = view(&c).await;
    let m = day.mailbox(&ceo).expect("ceo");
    assert!(
        m.synced_items() > items_before,
        "the mail sent to the old MX arrived: {} > {items_before}",
        m.synced_items()
    );
    assert!(m.last_successful_sync().is_some_and(|t| t > cutoff));
    let r = last_sync::check(&day, &mx, interval, sim_now(&c.info).await);
    assert_eq!(r.outcome, Outcome::Fail, "{}", r.evidence);
    let LastSync::Measured { waiting, not_migrated, .. } = last_sync::judge(&day, &mx, interval) else {
        panic!("measured: {}", r.evidence)
    };
    assert_eq!(waiting.iter().map(|w| w.address.as_str()).collect::<Vec<_>>(), [support.as_str()], "{}", r.evidence);
    assert_eq!(not_migrated.len(), 2, "the poisoned and the hidden mailbox: {not_migrated:?}");

    // Support's late sync: now all the mail has arrived; the two that never migrated leave a warning.
    advance(&c.info, 11.0 * 3600.0).await;
    let all = view(&c).await;
    let r = last_sync::check(&all, &mx, interval, sim_now(&c.info).await);
    assert_eq!(r.outcome, Outcome::Warn, "{}", r.evidence);
    assert!(r.evidence.contains("never migrating"), "{}", r.evidence);

    // Complete without approving j.morrison's skipped items: CompletedWithErrors, naming him.
    wait_for(&c, 60.0, |s| matches!(s, BatchStatus::Synced | BatchStatus::SyncedWithErrors)).await;
    let first = complete_while_time_passes(&c, &ctx).await;
    assert_eq!(first.done.first().map(String::as_str), Some(&*format!("{BATCH}: Complete-MigrationBatch")));
    assert!(first.summary.contains("CompletedWithErrors"), "{}", first.summary);
    let morrison = address(&c, "j.morrison");
    assert!(first.summary.contains(&format!("{morrison} (CompletionFailed, 3 skipped item(s))")), "{}", first.summary);
    assert!(first.summary.contains("approve-skipped"), "{}", first.summary);
    let ended = view(&c).await;
    assert_eq!(Completion::of(ended.batch.as_ref()), Completion::CompletedWithErrors);
    assert_eq!(completion::completed_check(&ended, false, Utc::now()).outcome, Outcome::Fail);

    // Stage 6's approval, then a second completion gets him through.
    let approved = approve_skipped(&ctx, &c.exo, BATCH, &[]).await.expect("approve");
    assert_eq!(approved.done, [format!("{morrison}: Set-MigrationUser -ApproveSkippedItems")]);
    let second = complete_while_time_passes(&c, &ctx).await;
    assert!(second.summary.contains("again"), "{}", second.summary);
    let users = c.exo.get_migration_users(Some(BATCH)).await.expect("users").items;
    let status = |a: &str| users.iter().find(|u| u.identity == a).map(|u| u.status.clone());
    assert_eq!(status(&morrison), Some(UserStatus::CompletedWithWarnings));
    assert_eq!(status(&address(&c, "a.fischer")), Some(UserStatus::Failed), "a poisoned job stays failed");

    // X500: every migrated mailbox gets its source DN once; the second run writes nothing.
    let sources = inventory(&c.info);
    let cloud = c.exo.get_mailboxes().await.expect("mailboxes").items;
    let d = x500::diff(&sources, &cloud);
    assert_eq!(x500::check(&d, Utc::now()).outcome, Outcome::Fail);
    let added = x500_task::add_x500(&ctx, &c.exo, &sources).await.expect("x500");
    assert_eq!(added.done.len(), d.missing.len());
    assert!(added.done.len() >= 100, "{}", added.summary);
    let again = x500_task::add_x500(&ctx, &c.exo, &sources).await.expect("x500 again");
    assert!(again.done.is_empty(), "{}", again.summary);
    let cloud = c.exo.get_mailboxes().await.expect("mailboxes").items;
    let r = x500::check(&x500::diff(&sources, &cloud), Utc::now());
    assert_eq!(r.outcome, Outcome::Warn, "the two never migrated have no cloud mailbox: {}", r.evidence);
    let ceo_box = cloud.iter().find(|m| m.primary_smtp_address.as_deref() == Some(&*ceo)).expect("ceo's mailbox");
    let dn = &sources.iter().find(|s| s.primary_smtp.eq_ignore_ascii_case(&ceo)).expect("ceo").legacy_exchange_dn;
    assert!(x500::holds(&ceo_box.email_addresses, dn), "{:?}", ceo_box.email_addresses);
    assert!(ceo_box.email_addresses.iter().any(|a| a.starts_with("SMTP:")), "the primary address is kept");

    // The poisoned mailbox never completes: the batch stays CompletedWithErrors, and is removed all the same.
    assert_eq!(Completion::of(view(&c).await.batch.as_ref()), Completion::CompletedWithErrors);
    let removed = remove::remove_batch(&ctx, &c.exo, BATCH).await.expect("removed");
    assert!(removed.summary.contains("stay on the source server"), "{}", removed.summary);

    let actions = audited_actions(dir.path());
    assert_eq!(actions.iter().filter(|a| *a == "complete-migration-batch").count(), 2);
    assert_eq!(actions.iter().filter(|a| *a == "add-x500-address").count(), d.missing.len());
    assert_eq!(actions.iter().filter(|a| *a == "remove-migration-batch").count(), 1);
    sim.shutdown().await;
}

use cutover::plan::final_sync::last_sync::LastSync;

#[tokio::test]
async fn small_completes_then_the_batch_and_the_endpoint_are_removed_each_once() {
    let (sim, c) = start("small").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (ctx, _rx) = context(dir.path());
    synced_batch(&c).await;

    // Removing before completion is refused; so is the endpoint while the batch is there.
    let early = remove::remove_batch(&ctx, &c.exo, BATCH).await.expect_err("not completed");
    assert!(early.to_string().contains("not Completed"), "{early}");
    let busy = remove::remove_endpoint(&ctx, &c.exo, ENDPOINT).await.expect_err("batch still there");
    assert!(busy.to_string().contains(BATCH), "{busy}");

    let done = complete_while_time_passes(&c, &ctx).await;
    assert!(done.summary.contains("It is Completed"), "{}", done.summary);
    let v = view(&c).await;
    assert_eq!(completion::completed_check(&v, false, Utc::now()).outcome, Outcome::Pass);
    // A second run leaves a completed batch alone.
    let again = complete_while_time_passes(&c, &ctx).await;
    assert!(again.done.is_empty() && again.skipped[0].contains("Completed already"), "{again:?}");

    let removed = remove::remove_batch(&ctx, &c.exo, BATCH).await.expect("remove");
    assert_eq!(removed.done, [format!("{BATCH}: Remove-MigrationBatch")]);
    let listed = c.exo.get_migration_batches().await.expect("batches").items;
    assert_eq!(completion::removed_check(&listed, Utc::now()).outcome, Outcome::Fail, "Removing for a while");
    let twice = remove::remove_batch(&ctx, &c.exo, BATCH).await.expect("remove again");
    assert!(twice.done.is_empty(), "{twice:?}");
    advance(&c.info, 120.0).await;
    let listed = c.exo.get_migration_batches().await.expect("batches").items;
    assert_eq!(completion::removed_check(&listed, Utc::now()).outcome, Outcome::Pass);

    let gone = remove::remove_endpoint(&ctx, &c.exo, ENDPOINT).await.expect("remove endpoint");
    assert_eq!(gone.done, [format!("{ENDPOINT}: Remove-MigrationEndpoint")]);
    assert!(c.exo.get_migration_endpoints().await.expect("endpoints").items.is_empty());
    let none = remove::remove_endpoint(&ctx, &c.exo, ENDPOINT).await.expect("nothing to remove");
    assert!(none.done.is_empty() && none.summary.contains("nothing to remove"), "{none:?}");

    assert_eq!(
        audited_actions(dir.path()),
        ["complete-migration-batch", "remove-migration-batch", "remove-migration-endpoint"]
    );
    sim.shutdown().await;
}
