//! Stage 9 against the simulator, over real HTTP on 127.0.0.1. On `typical`: the source's rules come from the
//! export the simulator writes as the inventory script would; those that map are created once (a second run
//! writes nothing), the one with an on-premises-only action is listed with why, and transport-rules-enabled
//! fails once a rule is disabled in the tenant. On `trouble`: a rule of the same name already in Exchange Online
//! with other settings is shown as a diff and not overwritten, and service-health fails on the open incident,
//! naming it. On `small`: the batch provisions the users without licences, licences-assigned fails with the
//! days left, licences-final assigns each once and the check passes; the test mails go through Graph and are
//! found in the message trace, Pending then Delivered, and the inbound one only once the MX points to Exchange
//! Online. On `typical` again: the protection policies are brought to the baseline and DKIM is enabled only once
//! both CNAMEs resolve. App-only tokens: no keyring.

use chrono::{Duration as ChronoDuration, Utc};
use cutover::m365::exo::{BatchAction, BatchStatus, OutlookAnywhere};
use cutover::m365::graph::DnsRecordData;
use cutover::plan::post::Check;
use cutover::plan::{CheckId, CheckResult, Outcome, TaskId, TaskRecord, TaskStatus};
use cutover::project::{AuditLog, Phase, ProjectState};
use cutover::runner::Event;
use cutover::runner::jobs::JobContext;
use cutover::runner::stages::post::{licences, mailflow, rules, tenant_checks};
use cutover::secrets::Secret;
use cutover::sim::SimInfo;
use serde_json::{Map, Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

#[path = "support/app_tokens.rs"]
mod app_tokens;

#[path = "support/sim_clients.rs"]
mod sim_clients;
use sim_clients::{Clients, start_waiting};

/// The clients wait a minute at most: message traces and health reads come after long simulated jobs.
async fn start(scenario: &str) -> (cutover::sim::Simulator, Clients) {
    start_waiting(scenario, Duration::from_secs(60)).await
}

async fn control(info: &SimInfo, path: &str, body: Value) -> u16 {
    let r = reqwest::Client::new().post(format!("{}{path}", info.control_url)).json(&body).send().await;
    r.expect("control call").status().as_u16()
}

fn context(dir: &Path) -> (JobContext, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (JobContext::new(1, tx, AuditLog::new(dir.join("audit.jsonl"))), rx)
}

/// Every write has its "about to" and outcome records; returns the actions with their detail, in order.
fn audited(dir: &Path) -> Vec<(String, Value)> {
    let path = dir.join("audit.jsonl");
    if !path.exists() {
        return Vec::new();
    }
    let (records, bad) = AuditLog::new(path).read().expect("audit log");
    assert!(bad.is_empty(), "unreadable audit lines: {bad:?}");
    records
        .chunks(2)
        .map(|pair| {
            assert_eq!(pair[0].phase, Phase::AboutTo);
            assert_eq!(pair[1].phase, Phase::Done);
            (pair[0].action.clone(), pair[0].detail.clone())
        })
        .collect()
}

/// The resolver that sees registrar changes first.
fn resolver(info: &SimInfo) -> cutover::dns::Resolver {
    let fastest = info.dns.iter().min_by(|a, b| a.delay_seconds.total_cmp(&b.delay_seconds)).expect("a resolver");
    cutover::dns::Resolver::at_addr(fastest.addr).expect("resolver")
}

/// A project whose inventory is the simulator's and whose stage 9 setting names its rule export.
fn project(info: &SimInfo) -> ProjectState {
    let mut state = ProjectState::new("post", Utc::now(), false);
    let bytes = std::fs::read(&info.inventory_csv).expect("inventory CSV");
    let parsed = cutover::inventory::csv::parse(&bytes).expect("parses");
    state.inventory = Some(Arc::new(cutover::inventory::Inventory {
        imported_at: Utc::now(),
        file_name: "inventory.csv".into(),
        mailboxes: parsed.mailboxes,
    }));
    state.post.rules_file = Some(info.transport_rules_json.display().to_string());
    state
}

fn result(results: &[(CheckId, CheckResult)], check: Check) -> CheckResult {
    results.iter().find(|(id, _)| *id == CheckId::Post(check)).map(|(_, r)| r.clone()).expect("the check ran")
}

async fn tenant_rule(c: &Clients, name: &str) -> Map<String, Value> {
    let rules = c.exo.get_transport_rules().await.expect("rules").items;
    let rule = rules.into_iter().find(|r| r.name == name).expect("the rule is there");
    rule.raw.as_object().cloned().expect("an object")
}

#[tokio::test]
async fn the_rules_that_map_are_created_once_and_the_check_reads_the_tenant() {
    let (_sim, c) = start("typical").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let state = project(&c.info);
    let (ctx, _rx) = context(dir.path());

    let before = tenant_checks(&c.exo, &c.graph, Some(&resolver(&c.info)), &state).await.expect("checks");
    let r = result(&before, Check::TransportRulesEnabled);
    assert_eq!(r.outcome, Outcome::Fail, "{}", r.evidence);
    assert!(r.evidence.contains("Not in Exchange Online: External disclaimer, Tag external mail"), "{}", r.evidence);

    let first = rules::create_rules(&ctx, &c.exo, &state).await.expect("transport-rules");
    assert_eq!(first.done.len(), 4, "{first:?}");
    assert!(first.summary.starts_with("4 transport rule(s) created, 0 in place already, of 5"), "{}", first.summary);
    assert!(
        first.summary.contains("Not migrated (recreate by hand, see the details): Log CEO mail."),
        "{}",
        first.summary
    );
    assert!(
        first
            .skipped
            .iter()
            .any(|s| s.starts_with("Log CEO mail: not migrated (LogEventText: writes to the Application event log")),
        "{:?}",
        first.skipped
    );
    let writes = audited(dir.path());
    assert_eq!(writes.len(), 4);
    assert!(writes.iter().all(|(a, _)| a == "new-transport-rule"));
    assert_eq!(writes[0].1["name"], "External disclaimer", "created in the source's priority order");

    let disclaimer = tenant_rule(&c, "External disclaimer").await;
    assert_eq!(disclaimer["ApplyHtmlDisclaimerLocation"], "Append");
    assert_eq!(disclaimer["FromScope"], "InOrganization");
    assert_eq!(tenant_rule(&c, "Copy finance to audit").await["State"], "Disabled", "disabled as the source had it");
    assert_eq!(
        tenant_rule(&c, "Block executables").await["AttachmentExtensionMatchesWords"],
        json!(["exe", "js", "vbs"])
    );

    let second = rules::create_rules(&ctx, &c.exo, &state).await.expect("again");
    assert!(second.done.is_empty(), "{second:?}");
    assert!(second.summary.starts_with("0 transport rule(s) created, 4 in place already"), "{}", second.summary);
    assert_eq!(audited(dir.path()).len(), 4, "a second run writes nothing");

    let after = tenant_checks(&c.exo, &c.graph, Some(&resolver(&c.info)), &state).await.expect("checks");
    let r = result(&after, Check::TransportRulesEnabled);
    assert_eq!(r.outcome, Outcome::Warn, "the rule not migrated is named: {}", r.evidence);
    assert!(r.evidence.contains("4 of 5 source rules in Exchange Online"), "{}", r.evidence);
    assert!(r.evidence.contains("Log CEO mail (LogEventText)"), "{}", r.evidence);

    let mut off = Map::new();
    off.insert("Enabled".into(), json!(false));
    c.exo.set_transport_rule("Tag external mail", off).await.expect("disable");
    let r = result(
        &tenant_checks(&c.exo, &c.graph, Some(&resolver(&c.info)), &state).await.expect("checks"),
        Check::TransportRulesEnabled,
    );
    assert_eq!(r.outcome, Outcome::Fail);
    assert!(
        r.evidence.contains("Disabled in Exchange Online but enabled at the source: Tag external mail"),
        "{}",
        r.evidence
    );

    let healthy = result(&after, Check::ServiceHealth);
    assert_eq!(healthy.outcome, Outcome::Pass, "{}", healthy.evidence);
    let r = result(&after, Check::MailFlow);
    assert_eq!(r.outcome, Outcome::Fail, "no test mail was sent: {}", r.evidence);
}

#[tokio::test]
async fn a_rule_that_differs_is_shown_not_overwritten_and_an_open_incident_fails_service_health() {
    let (_sim, c) = start("trouble").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let state = project(&c.info);
    let (ctx, _rx) = context(dir.path());
    let out = rules::create_rules(&ctx, &c.exo, &state).await.expect("transport-rules");
    assert!(out.done.is_empty(), "{out:?}");
    assert!(audited(dir.path()).is_empty(), "nothing written");
    let shown = out.skipped.iter().find(|s| s.starts_with("Tag external mail:")).expect("the diff");
    assert!(shown.contains("PrependSubject wanted [EXTERNAL]  found [Ext] "), "{shown}");
    assert_eq!(tenant_rule(&c, "Tag external mail").await["PrependSubject"], "[Ext] ", "left as it is");
    assert!(
        out.summary.contains("With other settings in Exchange Online, not overwritten: Tag external mail."),
        "{}",
        out.summary
    );
    assert!(out.summary.contains("Protect board mail, Route to smarthost"), "{}", out.summary);
    assert!(
        out.skipped.iter().any(|s| s.contains("ApplyRightsProtectionTemplate: names an AD RMS template")),
        "{:?}",
        out.skipped
    );

    let results = tenant_checks(&c.exo, &c.graph, Some(&resolver(&c.info)), &state).await.expect("checks");
    let health = result(&results, Check::ServiceHealth);
    assert_eq!(health.outcome, Outcome::Fail);
    assert!(health.evidence.contains("Exchange Online: serviceDegradation."), "{}", health.evidence);
    assert!(
        health.evidence.contains(
            "Incident EX812345: Some users may experience delays receiving email from external senders (serviceDegradation) — Users may see delays"
        ),
        "{}",
        health.evidence
    );
    assert!(health.evidence.contains("Advisory EX812399: Message trace results may be delayed"), "{}", health.evidence);
}

/// Stage 4's verification of the primary domain, the registrar played by the test.
async fn verify_primary(c: &Clients) {
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
    assert_eq!(control(&c.info, "/dns/records", body).await, 200);
    assert!(c.graph.verify_domain(&domain).await.expect("verify").is_verified);
}

/// Stages 4 and 5 as far as the licences need them: the domain verified, the batch started and synced, so
/// the batch has provisioned the cloud users (without licences, as a cutover batch does).
async fn synced_batch(c: &Clients) {
    verify_primary(c).await;
    let domain = c.info.email_domains[0].clone();
    let oa = OutlookAnywhere {
        exchange_server: c.info.source.host.clone(),
        rpc_proxy_server: c.info.source.host.clone(),
        authentication: "Basic".into(),
        email_address: format!("administrator@{domain}"),
        user_name: c.info.source.admin_user.clone(),
        password: Secret::new(c.info.source.admin_password.clone()),
        mailbox_permission: Some("FullAccess".into()),
    };
    c.exo.new_migration_endpoint("Cutover endpoint", &oa, Some(100)).await.expect("endpoint");
    c.exo.new_cutover_batch("cutover-post", "Cutover endpoint", &[], false).await.expect("batch");
    c.exo.batch_action(BatchAction::Start, "cutover-post").await.expect("start");
    for _ in 0..40 {
        let status = c.exo.get_migration_batch("cutover-post").await.expect("batch").expect("there").status;
        if matches!(status, BatchStatus::Synced | BatchStatus::SyncedWithErrors) {
            return;
        }
        assert_eq!(control(&c.info, "/clock/advance", json!({ "seconds": 6.0 * 3600.0 })).await, 200);
    }
    panic!("the batch did not sync");
}

#[tokio::test]
async fn the_missing_licences_are_assigned_once_and_the_days_left_are_shown_until_then() {
    let (_sim, c) = start("small").await;
    synced_batch(&c).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut state = project(&c.info);
    let moved =
        TaskRecord { status: TaskStatus::Done, detail: String::new(), at: Utc::now() - ChronoDuration::days(2) };
    state
        .stage_mut(cutover::plan::migrate::STAGE)
        .record_task(TaskId::Migrate(cutover::plan::migrate::Task::CreateBatch), moved);

    let r = result(
        &tenant_checks(&c.exo, &c.graph, Some(&resolver(&c.info)), &state).await.expect("checks"),
        Check::LicencesAssigned,
    );
    assert_eq!(r.outcome, Outcome::Fail, "{}", r.evidence);
    assert!(
        r.evidence.contains("27 of the 30 days left before Exchange Online disables their mailboxes"),
        "{}",
        r.evidence
    );

    let (ctx, _rx) = context(dir.path());
    let refused = licences::assign(&ctx, &c.graph, &state).await.expect_err("no usage location");
    assert!(refused.to_string().contains("set the stage 3 setting Usage location"), "{refused}");
    assert!(audited(dir.path()).is_empty(), "nothing written before the refusal");
    state.users.usage_location = Some("us".into());

    let first = licences::assign(&ctx, &c.graph, &state).await.expect("licences-final");
    let assigned = first.done.iter().filter(|d| d.ends_with("EXCHANGESTANDARD assigned")).count();
    assert!(assigned > 0, "{first:?}");
    assert!(
        first.summary.starts_with(&format!("Assigned EXCHANGESTANDARD to {assigned} user(s)")),
        "{}",
        first.summary
    );
    let writes = audited(dir.path());
    assert_eq!(writes.len(), first.done.len());
    let licences: Vec<&(String, Value)> = writes.iter().filter(|(a, _)| a == "assign-license").collect();
    assert_eq!(licences.len(), assigned);
    assert!(licences.iter().all(|(_, d)| d["sku"] == "EXCHANGESTANDARD"));
    assert!(writes.iter().any(|(a, d)| a == "set-usage-location" && d["usageLocation"] == "US"));

    let second = licences::assign(&ctx, &c.graph, &state).await.expect("licences-final again");
    assert!(second.done.is_empty(), "{second:?}");
    assert!(second.summary.starts_with("Nothing to assign"), "{}", second.summary);
    assert_eq!(audited(dir.path()).len(), writes.len(), "a second run writes nothing");

    let r = result(
        &tenant_checks(&c.exo, &c.graph, Some(&resolver(&c.info)), &state).await.expect("checks"),
        Check::LicencesAssigned,
    );
    assert_eq!(r.outcome, Outcome::Pass, "{}", r.evidence);
}

/// Publishes a record set at the simulated registrar, as the customer's DNS host would.
async fn publish(c: &Clients, name: &str, kind: &str, values: &[&str]) {
    let body = json!({ "name": name, "type": kind, "ttl": 300, "values": values });
    assert_eq!(control(&c.info, "/dns/records", body).await, 200, "{name} {kind}");
}

#[tokio::test]
async fn eop_settings_bring_the_policies_to_the_baseline_and_sign_with_dkim_only_once_its_cnames_resolve() {
    let (_sim, c) = start("typical").await;
    verify_primary(&c).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut state = project(&c.info);
    let domain = c.info.email_domains[0].clone();
    state.kickoff.domains = vec![domain.clone()];
    state.kickoff.client.email = format!("it@{domain}");
    let dns = resolver(&c.info);
    let eop_result = |results: &[(CheckId, CheckResult)]| result(results, Check::EopPolicies);

    let before = eop_result(&tenant_checks(&c.exo, &c.graph, Some(&dns), &state).await.expect("checks"));
    assert_eq!(before.outcome, Outcome::Fail);
    for says in [
        "BulkThreshold is 7, baseline 6",
        "EnableFileFilter is false, baseline true",
        "no DKIM signing config",
        // The test's registrar call for the verification replaced the TXT set, SPF with it.
        "no SPF record (publish v=spf1 include:spf.protection.outlook.com -all)",
    ] {
        assert!(before.evidence.contains(says), "{says}: {}", before.evidence);
    }
    assert!(
        before.evidence.contains(&format!("_dmarc.{domain} TXT \"v=DMARC1; p=none; rua=mailto:it@{domain}\"")),
        "{}",
        before.evidence
    );

    let (ctx, _rx) = context(dir.path());
    let first = cutover::runner::stages::post::eop::apply(&ctx, &c.exo, &dns, &state).await.expect("eop-settings");
    let actions: Vec<String> = audited(dir.path()).into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["set-content-filter-policy", "set-malware-filter-policy", "new-dkim-signing-config"]);
    assert!(first.summary.contains(&format!("DKIM signing stays off until the customer publishes, then run this again: selector1._domainkey.{domain} CNAME selector1-")), "{}", first.summary);
    let configs = c.exo.get_dkim_signing_configs().await.expect("configs").items;
    let config = configs.iter().find(|x| x.name.eq_ignore_ascii_case(&domain)).expect("the new config");
    assert_eq!(config.enabled, Some(false));
    let spam = c.exo.get_content_filter_policies().await.expect("policy").items;
    assert_eq!(spam[0].raw["BulkThreshold"], json!(6));
    assert_eq!(spam[0].raw["QuarantineRetentionPeriod"], json!(30));

    // The customer publishes only the first CNAME: signing stays off.
    let target = |k: &str| config.raw[k].as_str().expect("a selector").to_owned();
    publish(&c, &format!("selector1._domainkey.{domain}"), "CNAME", &[&target("Selector1CNAME")]).await;
    let second = cutover::runner::stages::post::eop::apply(&ctx, &c.exo, &dns, &state).await.expect("again");
    assert!(second.done.is_empty(), "{second:?}");
    publish(&c, &format!("selector2._domainkey.{domain}"), "CNAME", &[&target("Selector2CNAME")]).await;
    let third = cutover::runner::stages::post::eop::apply(&ctx, &c.exo, &dns, &state).await.expect("once both resolve");
    assert_eq!(third.done.len(), 1, "{third:?}");
    assert!(third.done[0].contains("Set-DkimSigningConfig -Enabled $true"), "{third:?}");
    let fourth = cutover::runner::stages::post::eop::apply(&ctx, &c.exo, &dns, &state).await.expect("a fourth run");
    assert!(fourth.done.is_empty() && fourth.summary.starts_with("Nothing to change"), "{fourth:?}");
    assert_eq!(audited(dir.path()).len(), 4, "four writes in all");

    // SPF and DMARC are the customer's DNS: the check follows what is published.
    let verification: Vec<String> = cutover::dns::query(&dns, &domain, cutover::dns::RecordKind::Txt)
        .await
        .expect("TXT")
        .into_iter()
        .filter_map(|r| match r.value {
            cutover::dns::RecordValue::Txt(t) if t.starts_with("MS=") => Some(t),
            _ => None,
        })
        .collect();
    let mut txt: Vec<&str> = verification.iter().map(String::as_str).collect();
    txt.push("v=spf1 include:spf.protection.outlook.com -all");
    publish(&c, &domain, "TXT", &txt).await;
    let r = eop_result(&tenant_checks(&c.exo, &c.graph, Some(&dns), &state).await.expect("checks"));
    assert_eq!(r.outcome, Outcome::Warn, "only DMARC is missing: {}", r.evidence);
    publish(&c, &format!("_dmarc.{domain}"), "TXT", &["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.net"]).await;
    let r = eop_result(&tenant_checks(&c.exo, &c.graph, Some(&dns), &state).await.expect("checks"));
    assert_eq!(r.outcome, Outcome::Pass, "{}", r.evidence);
    assert!(r.evidence.contains("DKIM signing on; SPF"), "{}", r.evidence);
    assert!(r.evidence.contains("DMARC policy quarantine"), "{}", r.evidence);
}

#[tokio::test]
async fn the_test_mails_are_found_in_the_message_trace_and_the_inbound_one_only_once_the_mx_points_to_exchange_online()
{
    let (_sim, c) = start("small").await;
    synced_batch(&c).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut state = project(&c.info);
    let domain = c.info.email_domains[0].clone();
    state.kickoff.domains = vec![domain.clone()];
    let dns = resolver(&c.info);
    let mail = |results: &[(CheckId, CheckResult)]| result(results, Check::MailFlow);
    let r = mail(&tenant_checks(&c.exo, &c.graph, Some(&dns), &state).await.expect("checks"));
    assert_eq!(r.outcome, Outcome::Fail);
    assert!(r.evidence.contains("No test mail sent yet"), "{}", r.evidence);

    let (ctx, _rx) = context(dir.path());
    let refused = mailflow::sends(&state).err().expect("no test address");
    assert!(refused.to_string().contains("cutover set test-mail-address"), "{refused}");
    state.post.test_address = Some("engineer@partner.example".into());
    let sends = mailflow::sends(&state).expect("two mails to send");
    let (outcome, sent) = mailflow::send(&ctx, &c.graph, &sends).await.expect("send-test-mail");
    assert_eq!(sent.len(), 2, "{outcome:?}");
    let from = sent[0].from.clone();
    assert_eq!(sent[0].to, "engineer@partner.example");
    assert!(sent[1].to.ends_with(&format!("@{domain}")) && sent[1].to != from);
    let writes = audited(dir.path());
    assert_eq!(writes.len(), 2);
    assert!(writes.iter().all(|(a, _)| a == "send-test-mail"));
    state.post.test_mails = sent;

    let r = mail(&tenant_checks(&c.exo, &c.graph, Some(&dns), &state).await.expect("checks"));
    assert_eq!(r.outcome, Outcome::Fail);
    assert!(r.evidence.contains("Pending; run the checks again"), "{}", r.evidence);
    assert_eq!(control(&c.info, "/clock/advance", json!({ "seconds": 60 })).await, 200);
    let r = mail(&tenant_checks(&c.exo, &c.graph, Some(&dns), &state).await.expect("checks"));
    assert_eq!(r.outcome, Outcome::Fail, "the inbound test is missing: {}", r.evidence);
    assert!(
        r.evidence.contains(&format!("outbound test {from} → engineer@partner.example: Delivered.")),
        "{}",
        r.evidence
    );
    assert!(
        r.evidence.contains("internal test") && r.evidence.contains("send one from an outside mailbox"),
        "{}",
        r.evidence
    );

    let inbound = json!({ "from": "friend@fabrikam.example", "to": from, "subject": "hello" });
    assert_eq!(control(&c.info, "/mail/inbound", inbound.clone()).await, 409, "the MX still points to the source");
    let mx = format!("0 {}.mail.protection.outlook.com", domain.replace('.', "-"));
    publish(&c, &domain, "MX", &[&mx]).await;
    assert_eq!(control(&c.info, "/mail/inbound", inbound).await, 200);
    assert_eq!(control(&c.info, "/clock/advance", json!({ "seconds": 60 })).await, 200);
    let r = mail(&tenant_checks(&c.exo, &c.graph, Some(&dns), &state).await.expect("checks"));
    assert_eq!(r.outcome, Outcome::Pass, "{}", r.evidence);
    assert!(
        r.evidence.contains(&format!("inbound from friend@fabrikam.example → {from}: Delivered.")),
        "{}",
        r.evidence
    );
}

#[tokio::test]
async fn the_demo_publishes_the_dkim_cnames_exchange_names_and_a_starting_dmarc_record_only_in_a_demo() {
    let (_sim, c) = start("small").await;
    verify_primary(&c).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut state = project(&c.info);
    let domain = c.info.email_domains[0].clone();
    state.kickoff.domains = vec![domain.clone()];
    let dns = resolver(&c.info);
    let (ctx, _rx) = context(dir.path());
    let demo_dns = cutover::runner::stages::post::demo_dns::publish_dkim_dmarc;
    let err = demo_dns(&ctx, &c.exo, &dns, &state).await.expect_err("not a demo");
    assert!(err.to_string().contains("only in a demo project"), "{err}");
    assert!(audited(dir.path()).is_empty());

    state.demo = true;
    state.simulator =
        Some(cutover::project::SimulatorLink { control_url: c.info.control_url.clone(), inventory: None });
    cutover::runner::stages::post::eop::apply(&ctx, &c.exo, &dns, &state).await.expect("eop-settings");
    let published = demo_dns(&ctx, &c.exo, &dns, &state).await.expect("publish");
    assert_eq!(published.done.len(), 3, "{published:?}");
    assert!(published.done[0].starts_with(&format!("selector1._domainkey.{domain} CNAME selector1-")), "{published:?}");
    assert!(published.done[2].starts_with(&format!("_dmarc.{domain} TXT \"v=DMARC1; p=none;")), "{published:?}");
    let again = demo_dns(&ctx, &c.exo, &dns, &state).await.expect("again");
    assert!(again.done.is_empty(), "{again:?}");
    let enabled = cutover::runner::stages::post::eop::apply(&ctx, &c.exo, &dns, &state).await.expect("enable");
    assert!(enabled.done.iter().any(|d| d.contains("Set-DkimSigningConfig -Enabled $true")), "{enabled:?}");
}
