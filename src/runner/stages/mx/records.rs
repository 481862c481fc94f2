//! Stage 7's show-records task: per email domain, the tenant's service configuration records (Graph) and the
//! domain's live MX, TXT and Autodiscover from its DNS servers, made into the records to set and remove; the MX
//! TTL seen is kept for the pre-flight, which is judged here too, and the zone snippet goes to
//! `reports/dns-records.zone`. In a demo, [`apply_records`] sets them at the simulated registrar.

use crate::dns::{DnsError, DnsRecord, RecordKind, Resolver};
use crate::m365::exo::{BatchStatus, MigrationBatch};
use crate::m365::graph::GraphClient;
use crate::plan::migrate::view::BatchView;
use crate::plan::mx::preflight::{InitialSync, PreflightFacts, note_ttl, preflight_check};
use crate::plan::mx::records::{DomainRecords, LiveDns, Slot, domain_records, zone_snippet};
use crate::plan::mx::{Check, STAGE, Task};
use crate::plan::{TaskId, TaskRecord, TaskStatus};
use crate::project::Project;
use crate::protocol::Event;
use crate::runner::connect::Connections;
use crate::runner::jobs::JobContext;
use crate::runner::stages::prepare::registrar;
use crate::runner::tasks::{TaskError, TaskOutcome};
use crate::runner::work::Stop;
use chrono::Utc;

/// The zone snippet's file in the project's `reports/`.
pub const ZONE_FILE: &str = "dns-records.zone";

/// What one domain's DNS servers said, and the MX TTL among it.
struct Read {
    records: DomainRecords,
    mx_ttl: Option<u32>,
}

/// Reads every domain's records and records them with the pre-flight; the summary says what to do next.
pub async fn show_records(
    ctx: &JobContext,
    graph: &GraphClient,
    conn: &Connections,
    domains: &[String],
) -> Result<TaskOutcome, Stop> {
    let mut read = Vec::new();
    for domain in domains {
        ctx.progress(format!("Reading the records of {domain}"), read.len() as u64, Some(domains.len() as u64));
        let tenant = graph.service_configuration_records(domain).await?;
        let (live, mx_ttl) = live_dns(conn, domain).await?;
        let records = domain_records(domain, &tenant, &live).map_err(|e| Stop::Refused(e.to_string()))?;
        read.push(Read { records, mx_ttl });
    }
    let now = Utc::now();
    let ttl = read.iter().filter_map(|r| r.mx_ttl).max();
    let records: Vec<DomainRecords> = read.into_iter().map(|r| r.records).collect();
    let zone = zone_snippet(&records, now);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let kept = records.clone();
    ctx.record(Box::new(move |project| {
        let result = keep(project, kept, ttl, &zone, now);
        let event = match &result {
            Ok(_) => None,
            Err(e) => Some(Event::Failed { what: "the DNS records".to_owned(), error: e.clone() }),
        };
        let _ = tx.send(result);
        event
    }));
    let (path, preflight) = rx
        .await
        .map_err(|_| Stop::Refused("the wizard closed before the records were kept".into()))?
        .map_err(|e| Stop::Refused(format!("the records could not be kept: {e}")))?;
    let lines: Vec<String> =
        records.iter().flat_map(|d| d.set.iter().map(|r| format!("set {}", r.display()))).collect();
    let removes: usize = records.iter().map(|d| d.remove.len()).sum();
    let warnings: Vec<String> = records.iter().flat_map(|d| d.warnings.iter().cloned()).collect();
    let mut summary = format!(
        "{} record(s) to set, {removes} to remove, for {}; zone snippet in {path}. Pre-flight: {}.",
        lines.len(),
        domains.join(", "),
        preflight
    );
    if !warnings.is_empty() {
        summary.push_str(&format!(" Warning: {}.", warnings.join("; ")));
    }
    Ok(TaskOutcome { summary, done: lines, ..TaskOutcome::default() })
}

/// Keeps the records, the TTL look and the pre-flight in the project, and writes the zone snippet; gives the
/// snippet's path and the pre-flight's outcome word.
fn keep(
    project: &mut Project,
    records: Vec<DomainRecords>,
    ttl: Option<u32>,
    zone: &str,
    now: chrono::DateTime<Utc>,
) -> Result<(String, String), String> {
    let dir = project.dir().join(crate::project::REPORTS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let path = dir.join(ZONE_FILE);
    crate::project::state::write_atomic(&path, zone.as_bytes()).map_err(|e| e.to_string())?;
    let initial_sync = initial_sync(project);
    let verified = project.state().status(crate::plan::verify::STAGE).is_done();
    let mut history = project.state().mx.ttl_seen.clone();
    if let Some(ttl) = ttl {
        note_ttl(&mut history, now, ttl);
    }
    let preflight = preflight_check(&PreflightFacts { initial_sync, verified, ttl: history.clone() }, now);
    let word = format!("{:?}", preflight.outcome).to_lowercase();
    let detail = serde_json::json!({
        "domains": records.iter().map(|d| d.domain.clone()).collect::<Vec<_>>(),
        "mx_ttl": ttl,
        "preflight": preflight.outcome,
    });
    let task = TaskId::Mx(Task::ShowRecords);
    let summary = format!("Records read for {} domain(s).", records.len());
    let changed = project.change(Some(STAGE), "show-records", detail, |state| {
        state.mx.records = records;
        state.mx.records_read_at = Some(now);
        state.mx.ttl_seen = history;
        let stage = state.stage_mut(STAGE);
        stage.record_check(Check::Preflight, preflight);
        stage.record_task(task, TaskRecord { status: TaskStatus::Done, detail: summary, at: now });
        Ok::<(), std::convert::Infallible>(())
    });
    if let Err(e) = changed {
        return Err(e.to_string());
    }
    Ok((path.display().to_string(), word))
}

/// The pre-flight judged again on what is known now: the batch as the tenant shows it (`None`: the tenant has
/// no batch `name`), stage 6's status, and the MX TTL as show-records last read it (a look of its own is kept
/// only by show-records, which records when it saw each TTL).
pub fn preflight_now(
    state: &crate::project::ProjectState,
    name: &str,
    batch: Option<&MigrationBatch>,
    now: chrono::DateTime<Utc>,
) -> crate::plan::CheckResult {
    let verified = state.status(crate::plan::verify::STAGE).is_done();
    let initial_sync = batch.map_or_else(|| InitialSync::NoBatch { name: name.to_owned() }, initial_sync_of);
    preflight_check(&PreflightFacts { initial_sync, verified, ttl: state.mx.ttl_seen.clone() }, now)
}

/// Where the batch stands, from stage 5's live view.
fn initial_sync(project: &Project) -> InitialSync {
    let view = project.live().read::<BatchView>(crate::runner::stages::migrate::BATCH_LIVE).ok().flatten();
    view.and_then(|v| v.batch).as_ref().map_or(InitialSync::Unknown, initial_sync_of)
}

fn initial_sync_of(batch: &MigrationBatch) -> InitialSync {
    match &batch.status {
        BatchStatus::Synced
        | BatchStatus::SyncedWithErrors
        | BatchStatus::IncrementalSyncing
        | BatchStatus::Completing
        | BatchStatus::Completed
        | BatchStatus::CompletedWithErrors => InitialSync::Finished { status: batch.status.name().to_owned() },
        status => InitialSync::NotYet(format!(
            "{}, {} of {} mailboxes synced",
            status.name(),
            batch.synced_count,
            batch.total_count
        )),
    }
}

/// The domain's MX, TXT and Autodiscover from its DNS servers (the first that answers), and the MX TTL.
async fn live_dns(conn: &Connections, domain: &str) -> Result<(LiveDns, Option<u32>), Stop> {
    let resolvers = conn.mx_resolvers(domain).await.map_err(|e| Stop::Refused(e.to_string()))?;
    let mut last = None;
    for resolver in &resolvers {
        match read_live(resolver, domain).await {
            Ok(live) => {
                let ttl = live.mx.iter().map(|r| r.ttl).max();
                return Ok((live, ttl));
            }
            Err(e) => last = Some(e),
        }
    }
    let why = last.map_or_else(|| "no DNS server to ask".to_owned(), |e| e.to_string());
    Err(Stop::Refused(format!("the live DNS records of {domain} could not be read: {why}")))
}

async fn read_live(resolver: &Resolver, domain: &str) -> Result<LiveDns, DnsError> {
    let none_if_missing = |r: Result<Vec<DnsRecord>, DnsError>| match r {
        Err(DnsError::NxDomain { .. }) => Ok(Vec::new()),
        other => other,
    };
    let mx = none_if_missing(resolver.query(domain, RecordKind::Mx).await)?;
    let txt = none_if_missing(resolver.query(domain, RecordKind::Txt).await)?;
    let autodiscover = format!("autodiscover.{domain}");
    let mut found = none_if_missing(resolver.query(&autodiscover, RecordKind::Cname).await)?;
    if found.is_empty() {
        found = none_if_missing(resolver.query(&autodiscover, RecordKind::A).await)?;
    }
    Ok(LiveDns { mx, txt, autodiscover: found })
}

/// Demo only: sets each domain's MX, Autodiscover CNAME and SPF as shown at the simulated registrar, reading
/// each record set first and writing only those that differ.
pub async fn apply_records(
    ctx: &JobContext,
    demo: bool,
    control_url: &url::Url,
    records: &[DomainRecords],
) -> Result<TaskOutcome, TaskError> {
    let mut out = TaskOutcome::default();
    for d in records {
        for slot in Slot::ALL {
            let Some(first) = d.to_set(slot) else { continue };
            let rtype = first.value.kind().to_string();
            let current = registrar::current_set(demo, control_url, &first.name, &rtype).await?;
            let mut values: Vec<String> = match slot {
                Slot::Spf => current
                    .iter()
                    .flat_map(|c| c.values.iter())
                    .filter(|v| !d.spf_replaces.contains(v))
                    .cloned()
                    .collect(),
                Slot::Mx | Slot::Autodiscover => Vec::new(),
            };
            for r in d.set.iter().filter(|r| r.slot == slot) {
                let value = registrar_value(&r.value);
                if !values.contains(&value) {
                    values.push(value);
                }
            }
            let unchanged = current
                .as_ref()
                .is_some_and(|c| c.values.len() == values.len() && values.iter().all(|v| c.values.contains(v)));
            let line = format!("{} {rtype} {}", first.name, values.join(", "));
            if unchanged {
                out.skipped.push(format!("{line}: already set (demo registrar)"));
                continue;
            }
            registrar::set_record_set(
                ctx,
                demo,
                control_url,
                STAGE,
                "apply-dns-records-demo",
                &first.name,
                &rtype,
                first.ttl,
                values,
            )
            .await?;
            out.done.push(format!("{line} (demo registrar)"));
        }
    }
    out.summary = format!(
        "Demo: {} record set(s) set at the simulated registrar, {} already so; now record the MX change.",
        out.done.len(),
        out.skipped.len()
    );
    Ok(out)
}

/// A record's value as the simulated registrar takes it (`"0 host"`, `"host"`, the TXT text unquoted).
fn registrar_value(value: &crate::dns::RecordValue) -> String {
    match value {
        crate::dns::RecordValue::Txt(text) => text.clone(),
        other => other.to_string(),
    }
}
