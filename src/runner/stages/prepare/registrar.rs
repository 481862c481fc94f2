//! Demo only: publish a domain's verification TXT record at the simulator's registrar (its control API,
//! `POST {control_url}/dns/records`), so `cutover demo` can verify a domain without leaving the wizard. This is the
//! only place the wizard talks to the control API, and it refuses unless the project is a demo project and the
//! URL is on loopback. The domain's other TXT values (SPF) are kept: a record set is replaced as a whole. Stage
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
