//! Reading the audit log on open: the log a 2,000-mailbox cutover leaves, written record by record through
//! `AuditLog::append`, then read whole (`AuditLog::read`) and searched for writes a crash cut short
//! (`audit::interrupted`), as every open of the project does. Figures go in BENCHMARKS.md and RELIABILITY.md.

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use cutover::plan::StageId;
use cutover::project::audit::{self, AuditLog, AuditRecord, Phase, Touches};
use serde_json::{Value, json};

const MAILBOXES: usize = 2_000;

/// Appends one write's "about to" and "done", a second apart, as the audited paths record them.
struct Writer {
    log: AuditLog,
    at: DateTime<Utc>,
    records: usize,
}

impl Writer {
    fn write(&mut self, stage: Option<StageId>, action: &str, detail: Value, touches: Touches) {
        for phase in [Phase::AboutTo, Phase::Done] {
            self.at += Duration::milliseconds(400);
            let record = AuditRecord {
                time: self.at,
                actor: "pat".into(),
                stage,
                action: action.into(),
                phase,
                detail: detail.clone(),
                touches: Some(touches),
            };
            self.log.append(&record).expect("append to the audit log");
            self.records += 1;
        }
    }

    fn tenant(&mut self, stage: u8, action: &str, detail: Value) {
        self.write(StageId::new(stage), action, detail, Touches::Outside);
    }

    fn project(&mut self, stage: u8, action: &str, detail: Value) {
        self.write(StageId::new(stage), action, detail, Touches::Project);
    }
}

/// The log of a whole 2,000-mailbox cutover: the kickoff and the settings, every check run and task recorded,
/// and the per-mailbox writes of stages 3 (account, usage location, licence), 8 (X500 address) and 9 (the
/// licence again).
fn cutover_log(log: AuditLog) -> Writer {
    let start = DateTime::from_timestamp(1_790_000_000, 0).expect("valid");
    let mut w = Writer { log, at: start, records: 0 };
    w.write(None, "create-project", json!({ "name": "contoso", "demo": false }), Touches::Project);
    for field in ["Customer", "PartnerName", "PartnerEmail", "PartnerPhone", "ClientName", "ClientEmail"] {
        w.project(1, "set-kickoff-field", json!({ "field": field }));
    }
    for field in ["ClientPhone", "Tenant", "Domains", "Cutover", "Mailboxes"] {
        w.project(1, "set-kickoff-field", json!({ "field": field }));
    }
    for i in 0..24 {
        w.project(1 + i % 9, "set-setting", json!({ "setting": format!("setting-{i}"), "value": "on" }));
    }
    w.project(2, "set-source-access", Value::Null);
    w.project(2, "import-inventory", json!({ "file": "inventory.csv", "mailboxes": MAILBOXES }));
    let user = |i: usize| format!("user{i:04}@contoso.com");
    let sku = "05e9a617-0261-4cee-bb44-138d3ef5d965";
    for i in 0..MAILBOXES {
        let upn = user(i);
        let detail = json!({ "userPrincipalName": upn, "displayName": format!("User {i:04}"),
            "mailNickname": format!("user{i:04}"), "usageLocation": "US" });
        w.tenant(3, "create-user", detail);
        w.tenant(3, "set-usage-location", json!({ "user": upn, "usageLocation": "US", "was": null }));
        w.tenant(3, "assign-license", json!({ "user": upn, "skuId": sku }));
    }
    // Stages 5 and 6 are watched for weeks: their checks run and their tasks are recorded again and again.
    for round in 0..2_100 {
        let stage = 5 + u8::from(round % 3 == 0);
        w.project(stage, "run-checks", json!({ "stage": stage }));
        if round % 5 == 0 {
            let detail = json!({ "task": ["watch-batch"], "status": "Running", "detail": "1,214 of 2,000 synced" });
            w.project(stage, "record-task", detail);
        }
    }
    for i in 0..MAILBOXES {
        let detail = json!({ "identity": user(i), "add": format!("X500:/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=user{i:04}") });
        w.tenant(8, "add-x500-address", detail);
    }
    for i in 0..MAILBOXES {
        w.tenant(9, "assign-license", json!({ "user": user(i), "skuId": sku, "sku": "O365_BUSINESS_PREMIUM" }));
    }
    w
}

fn read(c: &mut Criterion) {
    // A RAM folder when there is one: 25,000 appends each synced to a disk would take minutes to set up, and the
    // read comes from the page cache either way.
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.expect("temp dir");
    let built = cutover_log(AuditLog::new(dir.path().join("audit.jsonl")));
    let bytes = std::fs::metadata(built.log.path()).expect("the log").len();
    eprintln!("audit log: {} records, {:.1} MiB", built.records, bytes as f64 / 1_048_576.0);
    let log = built.log;
    let (records, torn) = log.read().expect("read");
    assert_eq!((records.len(), torn.len()), (built.records, 0));
    assert!(audit::interrupted(&records).is_empty(), "every write has its outcome");

    let name = format!("read the audit log of a 2,000-mailbox cutover ({} records)", built.records);
    c.bench_function(&name, |b| b.iter(|| log.read().expect("read").0.len()));
    c.bench_function("find the writes cut short in it (audit::interrupted)", |b| {
        b.iter(|| audit::interrupted(&records).len())
    });
    c.bench_function("both, as an open does", |b| b.iter(|| audit::interrupted(&log.read().expect("read").0).len()));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = read
}
criterion_main!(benches);
