//! Stage 7's DNS propagation watch, read-only: every round asks each watched resolver, for each email domain,
//! the MX, the Autodiscover CNAME and the TXT (SPF); the view goes to `live/dns.json`, the check and the
//! resolvers' first switch times to `state.json`, and the view to the screen. It starts from the stored view, so
//! a restart continues, and ends once every resolver returns the new records (or the engineer stops it).

use crate::dns::{DnsError, DnsRecord, RecordKind, Resolver};
use crate::plan::mx::propagation::{Asked, CellChange, DnsView, propagation_check};
use crate::plan::mx::records::{DomainRecords, Slot};
use crate::plan::mx::{Check, STAGE};
use crate::project::ProjectState;
use crate::project::live::LiveName;
use crate::protocol::Event;
use crate::runner::connect::Connections;
use crate::runner::jobs::JobContext;
use crate::runner::stages::prepare::registrar;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;

/// Where the watch keeps what each resolver last answered.
pub const DNS_LIVE: LiveName = LiveName::new("dns");

/// A round a minute: TTLs are minutes to hours, and a public resolver should not be hammered.
const INTERVAL: Duration = Duration::from_secs(60);
/// The demo's simulated clock runs fast.
const DEMO_INTERVAL: Duration = Duration::from_secs(3);

/// How a watch ended.
pub enum End {
    /// Every resolver returns the new records.
    Propagated,
    Stopped,
}

/// The resolvers to watch: in a demo, the simulator's (each with its delay); else each domain's authoritative
/// servers (found via NS), the system's resolver and the public ones of the stage's setting.
pub async fn resolvers(state: &ProjectState, conn: &Connections) -> Result<Vec<Resolver>, String> {
    if let Some(link) = &state.simulator {
        let url = url::Url::parse(&link.control_url).map_err(|e| format!("the simulator's control URL: {e}"))?;
        let found = registrar::simulator_resolvers(state.demo, &url).await.map_err(|e| e.to_string())?;
        return found
            .iter()
            .map(|r| Resolver::at(format!("sim {} (+{} s)", r.addr, r.delay_seconds), &[r.addr]))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string());
    }
    let mut all: Vec<Resolver> = Vec::new();
    for domain in &state.kickoff.domains {
        // A domain whose servers cannot be found is still watched through the other resolvers.
        if let Ok(found) = conn.mx_resolvers(domain).await {
            for r in found {
                if !all.iter().any(|a| a.label() == r.label()) {
                    all.push(r);
                }
            }
        }
    }
    all.push(Resolver::system().map_err(|e| e.to_string())?);
    for name in state.dns.public() {
        let resolver = match crate::dns::PublicResolver::named(&name) {
            Some(which) => Resolver::public(which),
            None => match name.parse::<std::net::IpAddr>() {
                Ok(ip) => Resolver::at_addr(std::net::SocketAddr::new(ip, 53)),
                Err(_) => {
                    tracing::warn!(%name, "a public resolver of the setting is neither a name nor an address; skipped");
                    continue;
                }
            },
        };
        all.push(resolver.map_err(|e| e.to_string())?);
    }
    Ok(all)
}

/// Asks every resolver once for every domain's three records, all resolvers at the same time.
pub async fn round(resolvers: &[Resolver], records: &[DomainRecords]) -> Vec<Asked> {
    let asks = resolvers.iter().map(|resolver| async move {
        let mut out = Vec::new();
        for d in records {
            for slot in Slot::ALL {
                let answer = ask(resolver, &d.domain, slot).await.map_err(|e| e.to_string());
                out.push(Asked { resolver: resolver.label().to_owned(), domain: d.domain.clone(), slot, answer });
            }
        }
        out
    });
    futures::future::join_all(asks).await.into_iter().flatten().collect()
}

async fn ask(resolver: &Resolver, domain: &str, slot: Slot) -> Result<Vec<DnsRecord>, DnsError> {
    let none_if_missing = |r: Result<Vec<DnsRecord>, DnsError>| match r {
        Err(DnsError::NxDomain { .. }) => Ok(Vec::new()),
        other => other,
    };
    match slot {
        Slot::Mx => none_if_missing(resolver.query(domain, RecordKind::Mx).await),
        Slot::Spf => none_if_missing(resolver.query(domain, RecordKind::Txt).await),
        Slot::Autodiscover => {
            let name = format!("autodiscover.{domain}");
            let cname = none_if_missing(resolver.query(&name, RecordKind::Cname).await)?;
            if !cname.is_empty() {
                return Ok(cname);
            }
            // No CNAME yet: show the old A records the name still has.
            let a = none_if_missing(resolver.query(&name, RecordKind::A).await)?;
            Ok(a.into_iter().filter(|r| r.name.eq_ignore_ascii_case(&name)).collect())
        }
    }
}

/// Watches until every resolver returns the new records or the job is stopped, starting from `view`. A round
/// that sees a resolver switch for the first time reads Microsoft 365's clock (`conn`), kept with the switch.
pub async fn watch(
    ctx: &JobContext,
    conn: &Connections,
    resolvers: &[Resolver],
    state: &ProjectState,
    mut view: DnsView,
) -> End {
    let records = &state.mx.records[..];
    let demo = state.demo;
    let mut known: std::collections::BTreeSet<String> = state.mx.switched.keys().cloned().collect();
    let labels: Vec<String> = resolvers.iter().map(|r| r.label().to_owned()).collect();
    let domains: Vec<String> = records.iter().map(|d| d.domain.clone()).collect();
    view.ensure_rows(&labels, &domains);
    let interval = if demo { DEMO_INTERVAL } else { INTERVAL };
    loop {
        let answers = tokio::select! {
            () = ctx.cancel.cancelled() => return End::Stopped,
            answers = round(resolvers, records) => answers,
        };
        // Every round is kept, so the screen's "polled … ago" and the live file tell when the resolvers were
        // last asked; the state is written only when the check or a switch time changed.
        let changes = view.apply(answers, records, Utc::now());
        let switched = view.switched();
        let ahead = if switched.keys().any(|k| !known.contains(k)) {
            known.extend(switched.into_keys());
            conn.service_ahead_ms().await
        } else {
            None
        };
        record_view(ctx, &view, changes, ahead);
        let (new, all) = view.counts();
        ctx.progress("DNS records new on the watched resolvers".to_owned(), new as u64, Some(all as u64));
        if view.all_new() {
            return End::Propagated;
        }
        ctx.note(format!("DNS: {new} of {all} records new; next round in {} s", interval.as_secs()));
        tokio::select! {
            () = ctx.cancel.cancelled() => return End::Stopped,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// The view the last watch kept in `live/dns.json`; empty when there is none or it cannot be read.
pub async fn stored_view(ctx: &JobContext) -> DnsView {
    let (tx, rx) = tokio::sync::oneshot::channel();
    ctx.record(Box::new(move |project| {
        let _ = tx.send(project.live().read::<DnsView>(DNS_LIVE).ok().flatten());
        None
    }));
    rx.await.ok().flatten().unwrap_or_default()
}

/// Keeps a round's view: `live/dns.json`, the check and the switch times in `state.json` (with `ahead`, the
/// service clock's lead when a switch is new), the view to the screen.
fn record_view(ctx: &JobContext, view: &DnsView, changes: Vec<CellChange>, ahead: Option<i64>) {
    let view = Arc::new(view.clone());
    ctx.record(Box::new(move |project| {
        if let Err(e) = project.live().write_if_changed(DNS_LIVE, view.as_ref()) {
            return Some(Event::Failed { what: "the DNS watch's live view".to_owned(), error: e.to_string() });
        }
        let check = propagation_check(&view, Utc::now());
        let switched = view.switched();
        let record = project.state().stage(STAGE).and_then(|r| r.result(Check::DnsPropagation));
        let same_check = record.is_some_and(|r| r.outcome == check.outcome && r.evidence == check.evidence);
        let known = switched.keys().all(|k| project.state().mx.switched.contains_key(k));
        if changes.is_empty() && same_check && known {
            return Some(Event::DnsWatched { state: project.snapshot(), view });
        }
        let detail = serde_json::json!({
            "checks": { Check::DnsPropagation.as_str(): check.outcome },
            "changed": changes.len(),
            "switched": switched,
        });
        let recorded = project.change(Some(STAGE), "record-checks", detail, |state| {
            state.stage_mut(STAGE).record_check(Check::DnsPropagation, check);
            // The first time each resolver was seen switched stays: a later round never moves it.
            for (label, at) in switched {
                if let std::collections::btree_map::Entry::Vacant(e) = state.mx.switched.entry(label) {
                    e.insert(at);
                    state.mx.switch_ahead_ms = ahead.or(state.mx.switch_ahead_ms);
                }
            }
            Ok::<(), std::convert::Infallible>(())
        });
        match recorded {
            Ok(_) => Some(Event::DnsWatched { state: project.snapshot(), view }),
            Err(e) => Some(Event::Failed { what: "the DNS watch's check".to_owned(), error: e.to_string() }),
        }
    }));
}
