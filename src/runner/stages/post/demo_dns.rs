//! Demo only: stage 9 publishes, at the simulator's registrar, what the customer would at their DNS host: each
//! kickoff domain's two DKIM selector CNAMEs, with the targets `Get-DkimSigningConfig` names (never built by
//! hand), and the starting DMARC record where DNS has none. Through stage 4's registrar path, with its guards
//! (a demo project, a loopback control URL) and an audited write for each record not there yet.

use super::eop;
use crate::dns::{RecordKind, Resolver};
use crate::m365::exo::ExoClient;
use crate::plan::post::STAGE;
use crate::plan::post::eop::{Dmarc, dmarc, dmarc_suggestion};
use crate::project::ProjectState;
use crate::runner::jobs::JobContext;
use crate::runner::stages::prepare::registrar::{Record, RegistrarError, Target, publish};
use crate::runner::tasks::{TaskError, TaskOutcome};
use serde_json::Value;

pub async fn publish_dkim_dmarc(
    ctx: &JobContext,
    exo: &ExoClient,
    resolver: &Resolver,
    state: &ProjectState,
) -> Result<TaskOutcome, TaskError> {
    let Some(link) = &state.simulator else { return Err(RegistrarError::NotDemo.into()) };
    let url = url::Url::parse(&link.control_url).map_err(|e| TaskError::BadInput {
        what: format!("the simulator's control URL {}", link.control_url),
        fix: e.to_string(),
    })?;
    let at = Target { demo: state.demo, control_url: &url, stage: STAGE, action: "publish-dns-demo" };
    let configs = exo.get_dkim_signing_configs().await?.items;
    let mut outcome = TaskOutcome::default();
    let mut no_config = Vec::new();
    for domain in eop::domains(state) {
        let config = configs.iter().find(|c| c.name.eq_ignore_ascii_case(&domain));
        match config {
            None => no_config.push(domain.clone()),
            Some(c) => {
                for n in 1..=2 {
                    let Some(target) = c.raw.get(format!("Selector{n}CNAME")).and_then(Value::as_str) else { continue };
                    let name = format!("selector{n}._domainkey.{domain}");
                    let record = Record { name: &name, rtype: "CNAME", value: target, keep_others: false };
                    let line = format!("{name} CNAME {target}");
                    if publish(ctx, &at, &record).await? { outcome.done.push(line) } else { outcome.skipped.push(line) }
                }
            }
        }
        let found = resolver.query(&format!("_dmarc.{domain}"), RecordKind::Txt).await;
        let texts: Vec<String> = found
            .map(|r| {
                r.into_iter()
                    .filter_map(|r| match r.value {
                        crate::dns::RecordValue::Txt(t) => Some(t),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        if dmarc(&texts) == Dmarc::Missing {
            let (name, text) = dmarc_suggestion(&domain, &eop::reports_to(state, &domain));
            let record = Record { name: &name, rtype: "TXT", value: &text, keep_others: true };
            if publish(ctx, &at, &record).await? {
                outcome.done.push(format!("{name} TXT \"{text}\""));
            }
        } else {
            outcome.skipped.push(format!("_dmarc.{domain}: a DMARC record is there already"));
        }
    }
    outcome.summary = format!(
        "Demo: {} record(s) published at the simulated registrar; run Apply Exchange Online Protection settings again to enable DKIM signing.",
        outcome.done.len()
    );
    if !no_config.is_empty() {
        outcome.summary.push_str(&format!(
            " No DKIM config yet for {} (Apply Exchange Online Protection settings creates it).",
            no_config.join(", ")
        ));
    }
    Ok(outcome)
}
