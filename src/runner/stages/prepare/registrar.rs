//! Demo only: publish a domain's verification TXT record at the simulator's registrar (its control API,
//! `POST {control_url}/dns/records`), so `cutover demo` can verify a domain without leaving the wizard; stage 7's
//! demo key sets the MX change's record sets the same way ([`set_record_set`]), and its watch asks which
//! resolvers the simulator runs ([`simulator_resolvers`]). This is the only place the wizard talks to the
//! control API, and it refuses unless the project is a demo project and the URL is on loopback. The domain's
//! other TXT values (SPF) are kept: a record set is replaced as a whole. Stage
//! 9's demo publishing of the DKIM CNAMEs and a starting DMARC record goes through [`publish`] too.

use crate::m365::endpoints::is_loopback;
use crate::runner::jobs::JobContext;
use crate::runner::tasks::{TaskError, TaskOutcome, write};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use url::Url;

/// The TTL of a TXT record set that did not exist yet.
const NEW_TXT_TTL: u32 = 3_600;

#[derive(Debug, thiserror::Error)]
pub enum RegistrarError {
    #[error(
        "publishing DNS records from cutover works only in a demo project (cutover demo); publish the TXT record at the domain's DNS host"
    )]
    NotDemo,
    #[error(
        "the simulator's control URL {0} is not on this machine (loopback); cutover publishes DNS records only at the local simulator"
    )]
    NotLoopback(String),
    #[error("the simulator's registrar at {url} could not be reached: {detail}. Is `cutover demo` still running?")]
    Unreachable { url: String, detail: String },
    #[error("the simulator's registrar refused the change (HTTP {status}): {reason}")]
    Refused { status: u16, reason: String },
    #[error("the simulator's registrar sent an answer cutover cannot read: {0}")]
    Malformed(String),
}

/// `GET /dns/records`: every record set with its history, oldest first.
#[derive(Debug, Deserialize)]
struct Records {
    records: Vec<RecordSet>,
}

#[derive(Debug, Deserialize)]
struct RecordSet {
    name: String,
    #[serde(rename = "type")]
    rtype: String,
    ttl: u32,
    history: Vec<(serde_json::Value, Vec<String>)>,
}

impl RecordSet {
    fn current(&self) -> &[String] {
        self.history.last().map(|(_, v)| v.as_slice()).unwrap_or(&[])
    }
}

/// Adds `txt` to the domain's TXT record set at the simulated registrar, keeping its other values; a record
/// already there is not published again.
pub async fn publish_verification_txt(
    ctx: &JobContext,
    demo: bool,
    control_url: &Url,
    domain: &str,
    txt: &str,
) -> Result<TaskOutcome, TaskError> {
    let name = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let txt = txt.trim();
    guard(demo, control_url)?;
    if name.is_empty() || txt.is_empty() || txt.contains('"') {
        return Err(TaskError::BadInput {
            what: format!("TXT record {txt:?} for {domain:?}"),
            fix: "give the domain and the MS=ms… text Microsoft Graph shows for it".into(),
        });
    }
    let record = Record { name: &name, rtype: "TXT", value: txt, keep_others: true };
    let at = Target { demo, control_url, stage: crate::plan::prepare::STAGE, action: "publish-verification-txt-demo" };
    if !publish(ctx, &at, &record).await? {
        return Ok(TaskOutcome {
            summary: format!("Nothing to publish: {name} has the TXT record {txt} already (demo registrar)."),
            skipped: vec![format!("{name}: TXT {txt} already published")],
            ..TaskOutcome::default()
        });
    }
    Ok(TaskOutcome {
        summary: format!("Published TXT {txt} for {name} at the demo registrar; verify the domain now."),
        done: vec![format!("{name}: TXT {txt} published (demo registrar)")],
        ..TaskOutcome::default()
    })
}

/// Where a demo record goes and how the write is audited.
pub struct Target<'a> {
    pub demo: bool,
    pub control_url: &'a Url,
    pub stage: crate::plan::StageId,
    pub action: &'a str,
}

/// One record to publish: `keep_others` adds the value to the set (TXT); otherwise the set becomes it (a
/// CNAME has one value).
pub struct Record<'a> {
    pub name: &'a str,
    pub rtype: &'a str,
    pub value: &'a str,
    pub keep_others: bool,
}

fn guard(demo: bool, control_url: &Url) -> Result<(), TaskError> {
    if !demo {
        return Err(RegistrarError::NotDemo.into());
    }
    if !is_loopback(control_url) {
        return Err(RegistrarError::NotLoopback(control_url.to_string()).into());
    }
    Ok(())
}

/// Publishes `record` at the demo registrar unless it is there already (audited); whether it wrote.
pub async fn publish(ctx: &JobContext, at: &Target<'_>, record: &Record<'_>) -> Result<bool, TaskError> {
    guard(at.demo, at.control_url)?;
    let name = record.name.trim().trim_end_matches('.').to_ascii_lowercase();
    let url = format!("{}/dns/records", at.control_url.as_str().trim_end_matches('/'));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .map_err(|e| RegistrarError::Unreachable { url: url.clone(), detail: e.to_string() })?;
    let unreachable = |e: reqwest::Error| RegistrarError::Unreachable { url: url.clone(), detail: e.to_string() };
    let answer = http.get(&url).send().await.map_err(unreachable)?;
    if !answer.status().is_success() {
        let status = answer.status().as_u16();
        return Err(RegistrarError::Refused { status, reason: answer.text().await.unwrap_or_default() }.into());
    }
    let records: Records = answer.json().await.map_err(|e| RegistrarError::Malformed(e.to_string()))?;
    let existing = records.records.iter().find(|s| s.name == name && s.rtype.eq_ignore_ascii_case(record.rtype));
    let current: Vec<String> = existing.map(|s| s.current().to_vec()).unwrap_or_default();
    let same = |v: &String| v.trim_end_matches('.').eq_ignore_ascii_case(record.value.trim_end_matches('.'));
    if current.iter().any(same) && (record.keep_others || current.len() == 1) {
        return Ok(false);
    }
    let ttl = existing.map_or(NEW_TXT_TTL, |s| s.ttl);
    let mut values = if record.keep_others { current } else { Vec::new() };
    values.push(record.value.to_owned());
    let body = json!({ "name": name, "type": record.rtype, "ttl": ttl, "values": values });
    let post = async {
        let answer = http.post(&url).json(&body).send().await.map_err(unreachable)?;
        if answer.status().is_success() {
            Ok(())
        } else {
            let status = answer.status().as_u16();
            Err(RegistrarError::Refused { status, reason: answer.text().await.unwrap_or_default() })
        }
    };
    let detail = json!({ "name": name, "type": record.rtype, "value": record.value, "ttl": ttl });
    write(ctx, at.stage, at.action, detail, post).await?;
    Ok(true)
}

/// One record set at the simulated registrar, as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentSet {
    pub ttl: u32,
    pub values: Vec<String>,
}

fn demo_http(demo: bool, control_url: &Url) -> Result<(reqwest::Client, String), RegistrarError> {
    if !demo {
        return Err(RegistrarError::NotDemo);
    }
    if !is_loopback(control_url) {
        return Err(RegistrarError::NotLoopback(control_url.to_string()));
    }
    let base = control_url.as_str().trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .map_err(|e| RegistrarError::Unreachable { url: base.clone(), detail: e.to_string() })?;
    Ok((http, base))
}

async fn get_json<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: &str) -> Result<T, RegistrarError> {
    let unreachable = |e: reqwest::Error| RegistrarError::Unreachable { url: url.to_owned(), detail: e.to_string() };
    let answer = http.get(url).send().await.map_err(unreachable)?;
    if !answer.status().is_success() {
        let status = answer.status().as_u16();
        return Err(RegistrarError::Refused { status, reason: answer.text().await.unwrap_or_default() });
    }
    answer.json().await.map_err(|e| RegistrarError::Malformed(e.to_string()))
}

/// The record set `name`/`rtype` at the simulated registrar now, if there is one.
pub async fn current_set(
    demo: bool,
    control_url: &Url,
    name: &str,
    rtype: &str,
) -> Result<Option<CurrentSet>, RegistrarError> {
    let (http, base) = demo_http(demo, control_url)?;
    let records: Records = get_json(&http, &format!("{base}/dns/records")).await?;
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    Ok(records
        .records
        .iter()
        .find(|s| s.name == name && s.rtype.eq_ignore_ascii_case(rtype))
        .map(|s| CurrentSet { ttl: s.ttl, values: s.current().to_vec() })
        .filter(|s| !s.values.is_empty()))
}

/// Replaces the record set `name`/`rtype` at the simulated registrar (empty `values` removes it), through the
/// audit path as `action` of `stage`. The caller reads [`current_set`] first and calls this only for a difference.
#[allow(clippy::too_many_arguments)]
pub async fn set_record_set(
    ctx: &JobContext,
    demo: bool,
    control_url: &Url,
    stage: crate::plan::StageId,
    action: &str,
    name: &str,
    rtype: &str,
    ttl: u32,
    values: Vec<String>,
) -> Result<(), TaskError> {
    let (http, base) = demo_http(demo, control_url)?;
    let url = format!("{base}/dns/records");
    let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let body = json!({ "name": name, "type": rtype, "ttl": ttl, "values": values });
    let post = async {
        let unreachable = |e: reqwest::Error| RegistrarError::Unreachable { url: url.clone(), detail: e.to_string() };
        let answer = http.post(&url).json(&body).send().await.map_err(unreachable)?;
        if answer.status().is_success() {
            Ok(())
        } else {
            let status = answer.status().as_u16();
            Err(RegistrarError::Refused { status, reason: answer.text().await.unwrap_or_default() })
        }
    };
    write(ctx, stage, action, body.clone(), post).await
}

/// Reads back a write to the simulated registrar that a crash cut short, from its audit detail: a value added
/// to a set (`value`) is done when the set holds it, a set replaced (`values`) when it is that set now.
pub async fn read_back(
    state: &crate::project::ProjectState,
    detail: &serde_json::Value,
) -> Result<crate::runner::resume::ReadBack, String> {
    use crate::runner::resume::{ReadBack, field};
    let link = state.simulator.as_ref().ok_or("the project has no simulator")?;
    let url = Url::parse(&link.control_url).map_err(|e| e.to_string())?;
    let (name, rtype) = (field(detail, "name")?, field(detail, "type")?);
    let now = current_set(state.demo, &url, name, rtype).await.map_err(|e| e.to_string())?;
    let now = now.map(|s| s.values).unwrap_or_default();
    let norm = |v: &str| v.trim_end_matches('.').to_ascii_lowercase();
    let mut have: Vec<String> = now.iter().map(|v| norm(v)).collect();
    have.sort();
    let shown = if now.is_empty() { "nothing".to_owned() } else { now.join(", ") };
    if let Some(value) = detail.get("value").and_then(serde_json::Value::as_str) {
        let there = have.contains(&norm(value));
        return Ok(ReadBack::from(
            there,
            format!("the registrar's {rtype} {name} holds {value}"),
            format!("the registrar's {rtype} {name} holds {shown}, not {value}"),
        ));
    }
    let wanted =
        detail.get("values").and_then(serde_json::Value::as_array).ok_or("its audit detail names no values")?;
    let mut want: Vec<String> = wanted.iter().filter_map(serde_json::Value::as_str).map(norm).collect();
    want.sort();
    Ok(ReadBack::from(
        have == want,
        format!("the registrar's {rtype} {name} is {shown}, as written"),
        format!("the registrar's {rtype} {name} is {shown}, not what was to be written"),
    ))
}

/// `POST {control_url}/clock/advance`: the demo's simulated clock moves `seconds` on at once (a day of
/// incremental syncs need not be waited for); the simulator's new time comes back.
pub async fn advance_clock(
    demo: bool,
    control_url: &Url,
    seconds: u64,
) -> Result<chrono::DateTime<chrono::Utc>, RegistrarError> {
    #[derive(Deserialize)]
    struct Now {
        now: chrono::DateTime<chrono::Utc>,
    }
    let (http, base) = demo_http(demo, control_url)?;
    let url = format!("{base}/clock/advance");
    let unreachable = |e: reqwest::Error| RegistrarError::Unreachable { url: url.clone(), detail: e.to_string() };
    let answer = http.post(&url).json(&json!({ "seconds": seconds })).send().await.map_err(unreachable)?;
    if !answer.status().is_success() {
        let status = answer.status().as_u16();
        return Err(RegistrarError::Refused { status, reason: answer.text().await.unwrap_or_default() });
    }
    let now: Now = answer.json().await.map_err(|e| RegistrarError::Malformed(e.to_string()))?;
    Ok(now.now)
}

/// One resolver the simulator runs, and how late it sees a registrar change (simulated seconds).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SimResolver {
    pub addr: std::net::SocketAddr,
    pub delay_seconds: f64,
}

/// `GET {control_url}/dns/resolvers`: the simulator's resolvers, for the demo's propagation watch.
pub async fn simulator_resolvers(demo: bool, control_url: &Url) -> Result<Vec<SimResolver>, RegistrarError> {
    let (http, base) = demo_http(demo, control_url)?;
    get_json(&http, &format!("{base}/dns/resolvers")).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::AuditLog;

    fn ctx(dir: &std::path::Path) -> JobContext {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        JobContext::new(1, tx, AuditLog::new(dir.join("audit.jsonl")))
    }

    #[tokio::test]
    async fn refused_outside_a_demo_or_off_loopback_without_a_write() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ctx = ctx(dir.path());
        let local = Url::parse("http://127.0.0.1:9/control").expect("url");
        let err = publish_verification_txt(&ctx, false, &local, "contoso.com", "MS=ms1").await.expect_err("not demo");
        assert!(matches!(err, TaskError::Registrar(RegistrarError::NotDemo)), "{err}");
        let far = Url::parse("http://registrar.example.com/control").expect("url");
        let err = publish_verification_txt(&ctx, true, &far, "contoso.com", "MS=ms1").await.expect_err("remote");
        assert!(matches!(err, TaskError::Registrar(RegistrarError::NotLoopback(_))), "{err}");
        assert!(!dir.path().join("audit.jsonl").exists(), "nothing was about to be written");
    }
}
