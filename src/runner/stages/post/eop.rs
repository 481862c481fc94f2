//! Stage 9's eop-settings and the eop-policies check: reads the Default anti-spam and anti-malware policies,
//! the DKIM signing configs (`Get-DkimSigningConfig`) and, through DNS, each domain's SPF, DMARC and DKIM
//! selector CNAMEs; `plan::post::eop` judges them. The task sets only the policy values that differ from the
//! baseline (`Set-HostedContentFilterPolicy`, `Set-MalwareFilterPolicy`), creates a disabled DKIM config for
//! each domain without one (`New-DkimSigningConfig -Enabled $false`), and enables signing
//! (`Set-DkimSigningConfig -Enabled $true`) only for a domain whose two CNAMEs resolve to the targets Exchange
//! Online names; every write audited, a second run writes nothing. SPF and DMARC are the customer's DNS: shown,
//! never written.

use crate::dns::{DnsError, RecordKind, RecordValue, Resolver};
use crate::m365::M365Error;
use crate::m365::exo::{ExoClient, NamedSetting};
use crate::plan::post::STAGE;
use crate::plan::post::eop::{self, Dkim, DomainAuth, Policy, PolicyDiff};
use crate::project::ProjectState;
use crate::runner::jobs::JobContext;
use crate::runner::resume::{ReadBack, field};
use crate::runner::tasks::{TaskError, TaskOutcome, write};
use serde_json::{Map, Value, json};

/// The customer's email domains, as the kickoff recorded them.
pub fn domains(state: &ProjectState) -> Vec<String> {
    state.kickoff.domains.iter().map(|d| d.trim().to_ascii_lowercase()).filter(|d| !d.is_empty()).collect()
}

/// Where the suggested DMARC record sends its reports: the customer's contact, else postmaster.
pub fn reports_to(state: &ProjectState, domain: &str) -> String {
    let email = state.kickoff.client.email.trim();
    if email.contains('@') { email.to_owned() } else { format!("postmaster@{domain}") }
}

/// A name's records of one kind; a name that does not exist has none.
async fn records(resolver: &Resolver, name: &str, kind: RecordKind) -> Result<Vec<RecordValue>, DnsError> {
    match resolver.query(name, kind).await {
        Ok(r) => Ok(r.into_iter().map(|r| r.value).collect()),
        Err(DnsError::NxDomain { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn texts(values: &[RecordValue]) -> Vec<String> {
    values
        .iter()
        .filter_map(|v| match v {
            RecordValue::Txt(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn objects(items: &[NamedSetting]) -> Vec<Map<String, Value>> {
    items.iter().filter_map(|i| i.raw.as_object().cloned()).collect()
}

/// The domain's DKIM as Exchange Online and DNS have it.
async fn dkim(configs: &[NamedSetting], domain: &str, resolver: &Resolver) -> Result<Dkim, DnsError> {
    let config = configs.iter().find(|c| {
        c.name.eq_ignore_ascii_case(domain)
            || c.raw.get("Domain").and_then(Value::as_str).is_some_and(|d| d.eq_ignore_ascii_case(domain))
    });
    let selectors: Vec<String> = config
        .map(|c| {
            ["Selector1CNAME", "Selector2CNAME"]
                .iter()
                .filter_map(|k| c.raw.get(*k).and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut published = Vec::new();
    for (i, target) in selectors.iter().enumerate() {
        let found = records(resolver, &format!("selector{}._domainkey.{domain}", i + 1), RecordKind::Cname).await?;
        published.push(found.contains(&RecordValue::cname(target)));
    }
    Ok(Dkim {
        domain: domain.to_owned(),
        configured: config.is_some(),
        enabled: config.and_then(|c| c.enabled).unwrap_or(false),
        selectors,
        published,
    })
}

/// Why the facts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    M365(#[from] M365Error),
    #[error(transparent)]
    Dns(#[from] DnsError),
}

/// The policies' differences and each domain's mail authentication, as they are now.
pub async fn read(
    exo: &ExoClient,
    resolver: &Resolver,
    domains: &[String],
) -> Result<(Vec<PolicyDiff>, Vec<DomainAuth>), ReadError> {
    let (spam, malware, configs) = tokio::join!(
        exo.get_content_filter_policies(),
        exo.get_malware_filter_policies(),
        exo.get_dkim_signing_configs()
    );
    let (spam, malware, configs) = (spam?.items, malware?.items, configs?.items);
    let policies: Vec<PolicyDiff> = [(Policy::AntiSpam, &spam), (Policy::AntiMalware, &malware)]
        .into_iter()
        .filter_map(|(p, listed)| eop::policy_diff(p, &objects(listed)))
        .collect();
    let mut auth = Vec::new();
    for d in domains {
        let spf = eop::spf(&texts(&records(resolver, d, RecordKind::Txt).await?));
        let dmarc = eop::dmarc(&texts(&records(resolver, &format!("_dmarc.{d}"), RecordKind::Txt).await?));
        auth.push(DomainAuth { dkim: dkim(&configs, d, resolver).await?, spf, dmarc });
    }
    Ok((policies, auth))
}

pub async fn apply(
    ctx: &JobContext,
    exo: &ExoClient,
    resolver: &Resolver,
    state: &ProjectState,
) -> Result<TaskOutcome, TaskError> {
    let domains = domains(state);
    let dns = |e: DnsError| TaskError::BadInput { what: "DNS could not be read".to_owned(), fix: e.to_string() };
    ctx.progress("reading the policies, the DKIM configs and DNS", 0, None);
    let (policies, auth) = read(exo, resolver, &domains).await.map_err(|e| match e {
        ReadError::M365(e) => TaskError::M365(e),
        ReadError::Dns(e) => dns(e),
    })?;
    let mut outcome = TaskOutcome::default();
    for p in &policies {
        let set = eop::fix(p);
        if set.is_empty() {
            outcome.skipped.push(format!("{}: at the baseline", p.policy.label()));
            continue;
        }
        let detail = json!({ "identity": p.identity, "set": Value::Object(set.clone()),
            "was": p.differences.iter().map(|d| (d.parameter.clone(), Value::String(d.found.clone()))).collect::<Map<_, _>>() });
        let action = match p.policy {
            Policy::AntiSpam => "set-content-filter-policy",
            Policy::AntiMalware => "set-malware-filter-policy",
        };
        let w = match p.policy {
            Policy::AntiSpam => {
                write(ctx, STAGE, action, detail, exo.set_content_filter_policy(&p.identity, set.clone())).await?
            }
            Policy::AntiMalware => {
                write(ctx, STAGE, action, detail, exo.set_malware_filter_policy(&p.identity, set.clone())).await?
            }
        };
        let names: Vec<String> = set.iter().map(|(k, v)| format!("-{k} {v}")).collect();
        outcome.done.push(format!(
            "{}: {} -Identity {} {}",
            p.policy.label(),
            p.policy.set_cmdlet(),
            p.identity,
            names.join(" ")
        ));
        outcome.skipped.extend(w.into_iter().map(|w| format!("Exchange says: {w}")));
    }
    let mut to_publish = Vec::new();
    for a in &auth {
        let domain = &a.dkim.domain;
        let mut d = a.dkim.clone();
        if !d.configured {
            let detail = json!({ "domain": domain, "enabled": false });
            write(ctx, STAGE, "new-dkim-signing-config", detail, exo.new_dkim_signing_config(domain, false)).await?;
            outcome.done.push(format!("{domain}: New-DkimSigningConfig -Enabled $false"));
            let configs = exo.get_dkim_signing_configs().await?.items;
            d = dkim(&configs, domain, resolver).await.map_err(dns)?;
        }
        if d.enabled {
            outcome.skipped.push(format!("{domain}: DKIM signing on already"));
        } else if d.ready() {
            let detail = json!({ "domain": domain, "enabled": true, "selectors": d.selectors });
            write(ctx, STAGE, "enable-dkim-signing", detail, exo.set_dkim_signing_config(domain, true)).await?;
            outcome.done.push(format!("{domain}: Set-DkimSigningConfig -Enabled $true (both CNAMEs resolve)"));
        } else {
            for (host, target) in d.records() {
                to_publish.push(format!("{host} CNAME {target}"));
            }
        }
    }
    let mut summary = match outcome.done.len() {
        0 => "Nothing to change: the policies are at the baseline and DKIM is as far as DNS allows.".to_owned(),
        n => format!("{n} change(s) made (see the details)."),
    };
    if !to_publish.is_empty() {
        summary.push_str(&format!(
            " DKIM signing stays off until the customer publishes, then run this again: {}.",
            to_publish.join(", ")
        ));
    }
    outcome.summary = summary;
    Ok(outcome)
}
/// Reads back a write of stage 9 on Exchange Online settings that a crash cut short: a transport rule or a
/// DKIM configuration made (it exists), DKIM signing enabled, or a protection policy set (each parameter written
/// has the value written).
pub async fn read_back(exo: &ExoClient, action: &str, detail: &Value) -> Result<ReadBack, String> {
    let read = |e: crate::m365::M365Error| e.to_string();
    let (settings, key) = match action {
        "new-transport-rule" => (exo.get_transport_rules().await.map_err(read)?.items, "name"),
        "new-dkim-signing-config" | "enable-dkim-signing" => {
            (exo.get_dkim_signing_configs().await.map_err(read)?.items, "domain")
        }
        "set-content-filter-policy" => (exo.get_content_filter_policies().await.map_err(read)?.items, "identity"),
        "set-malware-filter-policy" => (exo.get_malware_filter_policies().await.map_err(read)?.items, "identity"),
        other => return Err(format!("{other} is not a write of stage 9's settings")),
    };
    let name = field(detail, key)?;
    let Some(found) = settings.iter().find(|s| s.name.eq_ignore_ascii_case(name)) else {
        return Ok(ReadBack::not_done(format!("Exchange Online has no {name}")));
    };
    Ok(match action {
        "enable-dkim-signing" => ReadBack::from(
            found.enabled == Some(true),
            format!("DKIM signing of {name} is on"),
            format!("DKIM signing of {name} is off"),
        ),
        "set-content-filter-policy" | "set-malware-filter-policy" => {
            let set = detail.get("set").and_then(Value::as_object).ok_or("its audit detail names no set")?;
            let loose = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned).to_ascii_lowercase();
            let differ: Vec<&String> = set
                .iter()
                .filter(|(k, v)| found.raw.get(k.as_str()).map(loose) != Some(loose(v)))
                .map(|(k, _)| k)
                .collect();
            ReadBack::from(
                differ.is_empty(),
                format!("{name} has every value written"),
                format!("{name} differs in {}", differ.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")),
            )
        }
        _ => ReadBack::done(format!("Exchange Online has {name}")),
    })
}
