//! Stage 4: add the email domains to the tenant and verify them. Adding reads `/domains/{id}` first and posts
//! only the missing ones; the verification watch posts `/domains/{id}/verify` for the unverified ones each round
//! until all verify or the engineer stops it. Graph answers 400 while the TXT record is not visible to it: that
//! is "not yet", not a failure.

use crate::m365::graph::GraphClient;
use crate::m365::{M365Error, Service};
use crate::plan::prepare::STAGE;
use crate::plan::prepare::{DomainState, txt_instruction};
use crate::runner::jobs::JobContext;
use crate::runner::resume::{ReadBack, field};
use crate::runner::tasks::{TaskError, TaskOutcome, plural, write};
use serde_json::json;
use std::time::Duration;

/// The TTL Microsoft suggests for the verification record when Graph names none.
const DEFAULT_TXT_TTL: u32 = 3_600;

/// One domain after the task: its state in the tenant and the record that proves ownership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainReport {
    pub state: DomainState,
    /// The verification TXT record's TTL, as Graph gives it.
    pub txt_ttl: Option<u32>,
    /// Added by this run (not there before).
    pub added: bool,
}

impl DomainReport {
    /// The record to publish, ready to copy; `None` once verified or when Graph named no TXT record.
    pub fn instruction(&self) -> Option<String> {
        if self.state.verified {
            return None;
        }
        let txt = self.state.txt.as_deref()?;
        Some(txt_instruction(&self.state.name, txt, self.txt_ttl.unwrap_or(DEFAULT_TXT_TTL)))
    }
}

/// What [`add_domains`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainsOutcome {
    pub outcome: TaskOutcome,
    pub domains: Vec<DomainReport>,
}

/// Adds each domain the tenant does not have yet and reads every domain's verification TXT record.
pub async fn add_domains(
    ctx: &JobContext,
    graph: &GraphClient,
    domains: &[String],
) -> Result<DomainsOutcome, TaskError> {
    let names = clean(domains)?;
    let total = names.len() as u64;
    let mut outcome = TaskOutcome::default();
    let mut reports = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if ctx.cancel.is_cancelled() {
            outcome.cancelled = true;
            break;
        }
        ctx.progress(format!("domains: {name}"), i as u64, Some(total));
        let (domain, added) = match graph.domain(name).await? {
            Some(d) => {
                outcome.skipped.push(format!("{name}: already in the tenant"));
                (d, false)
            }
            None => {
                let d = write(ctx, STAGE, "add-domain", json!({ "domain": name }), graph.add_domain(name)).await?;
                outcome.done.push(format!("{name}: added to the tenant"));
                (d, true)
            }
        };
        let (txt, txt_ttl) = if domain.is_verified { (None, None) } else { verification_txt(graph, name).await? };
        reports.push(DomainReport {
            state: DomainState { name: name.clone(), in_tenant: true, verified: domain.is_verified, txt },
            txt_ttl,
            added,
        });
    }
    ctx.progress("domains", reports.len() as u64, Some(total));
    let added = reports.iter().filter(|r| r.added).count();
    let unverified = reports.iter().filter(|r| !r.state.verified).count();
    outcome.summary = match (added, outcome.cancelled) {
        (_, true) => format!("Stopped: {} added before the stop.", plural(added, "domain", "domains")),
        (0, false) => format!(
            "Nothing to add: every domain is in the tenant already; {} to verify.",
            plural(unverified, "domain", "domains")
        ),
        (n, false) => format!(
            "Added {} to the tenant; {} to verify: publish the TXT records shown.",
            plural(n, "domain", "domains"),
            plural(unverified, "domain", "domains")
        ),
    };
    Ok(DomainsOutcome { outcome, domains: reports })
}

/// The `MS=ms…` text of the domain's TXT verification record and its TTL.
async fn verification_txt(graph: &GraphClient, name: &str) -> Result<(Option<String>, Option<u32>), M365Error> {
    let records = graph.verification_records(name).await?;
    Ok(crate::m365::graph::verification_txt(&records).map_or((None, None), |t| (Some(t.text), t.ttl)))
}

/// What [`verify_domains_watch`] ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOutcome {
    pub outcome: TaskOutcome,
    pub verified: Vec<String>,
    /// The domains still unverified, each with Graph's last word on why.
    pub pending: Vec<(String, String)>,
    /// Rounds of verification attempts made.
    pub rounds: u32,
}

/// Tries to verify every unverified domain, once per `interval`, until all verify or `ctx.cancel` fires (what
/// was verified by then is returned; stopping is not an error). Any Graph answer but 400 ends the watch.
pub async fn verify_domains_watch(
    ctx: &JobContext,
    graph: &GraphClient,
    domains: &[String],
    interval: Duration,
    on_round: impl Fn(&std::collections::BTreeMap<String, String>),
) -> Result<WatchOutcome, TaskError> {
    let names = clean(domains)?;
    let total = names.len() as u64;
    let mut verified = Vec::new();
    let mut pending = Vec::new();
    for name in names {
        match graph.domain(&name).await? {
            None => return Err(TaskError::DomainNotAdded(name)),
            Some(d) if d.is_verified => verified.push(name),
            Some(_) => pending.push((name, "not tried yet".to_owned())),
        }
    }
    let mut outcome = TaskOutcome::default();
    for name in &verified {
        outcome.skipped.push(format!("{name}: verified already"));
    }
    let mut rounds = 0;
    if !pending.is_empty() {
        let detail = json!({ "domains": pending.iter().map(|(n, _)| n).collect::<Vec<_>>(), "interval_seconds": interval.as_secs() });
        // One record for the whole watch: "about to" before the first attempt, the outcome after the last, rather
        // than a pair for every round of a watch that may last hours.
        write(ctx, STAGE, "verify-domains", detail, async {
            loop {
                rounds += 1;
                let mut still = Vec::new();
                for (name, reason) in std::mem::take(&mut pending) {
                    if ctx.cancel.is_cancelled() {
                        still.push((name, reason));
                        continue;
                    }
                    match attempt(graph, &name).await? {
                        Attempt::Verified => {
                            outcome.done.push(format!("{name}: verified"));
                            verified.push(name);
                        }
                        Attempt::NotYet(why) => still.push((name, why)),
                    }
                }
                pending = still;
                let seen = verified
                    .iter()
                    .map(|n| (n.clone(), "verified".to_owned()))
                    .chain(pending.iter().cloned())
                    .collect();
                on_round(&seen);
                ctx.progress(
                    format!("verifying domains: {} of {total} verified (round {rounds})", verified.len()),
                    verified.len() as u64,
                    Some(total),
                );
                if pending.is_empty() || ctx.cancel.is_cancelled() {
                    break;
                }
                tokio::select! {
                    () = ctx.cancel.cancelled() => break,
                    () = tokio::time::sleep(interval) => {}
                }
            }
            Ok::<(), M365Error>(())
        })
        .await?;
    }
    outcome.cancelled = !pending.is_empty() && ctx.cancel.is_cancelled();
    outcome.summary = if pending.is_empty() && outcome.done.is_empty() {
        "Nothing to verify: every domain is verified already.".to_owned()
    } else if pending.is_empty() {
        format!("Every domain is verified ({} this time).", plural(outcome.done.len(), "domain", "domains"))
    } else {
        let names: Vec<&str> = pending.iter().map(|(n, _)| n.as_str()).collect();
        format!(
            "Stopped watching after {}: not verified yet: {} (publish the TXT record, then watch again).",
            plural(rounds as usize, "round", "rounds"),
            names.join(", ")
        )
    };
    Ok(WatchOutcome { outcome, verified, pending, rounds })
}

enum Attempt {
    Verified,
    NotYet(String),
}

async fn attempt(graph: &GraphClient, name: &str) -> Result<Attempt, M365Error> {
    match graph.verify_domain(name).await {
        Ok(d) if d.is_verified => Ok(Attempt::Verified),
        Ok(_) => Ok(Attempt::NotYet("Graph answered, but the domain is not verified yet".into())),
        Err(M365Error::Api(e)) if e.service == Service::Graph && e.status == 400 => Ok(Attempt::NotYet(e.message)),
        Err(e) => Err(e),
    }
}

/// Trimmed, lowercased, without duplicates or empties; a name that cannot be a domain is refused.
fn clean(domains: &[String]) -> Result<Vec<String>, TaskError> {
    let mut names: Vec<String> = Vec::new();
    for d in domains {
        let name = d.trim().trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let valid = name.contains('.')
            && name.split('.').all(|l| {
                !l.is_empty() && !l.starts_with('-') && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(TaskError::BadInput {
                what: format!("email domain {d:?}"),
                fix: "give a domain name such as contoso.com (letters, digits, hyphens, dots)".into(),
            });
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        return Err(TaskError::BadInput {
            what: "email domains".into(),
            fix: "no domain given: fill Email domains in the kickoff form".into(),
        });
    }
    Ok(names)
}

/// Reads back an `add-domain` a crash cut short: done when the tenant has the domain.
pub async fn read_back_added(graph: &GraphClient, detail: &serde_json::Value) -> Result<ReadBack, String> {
    let name = field(detail, "domain")?;
    let there = graph.domain(name).await.map_err(|e| e.to_string())?.is_some();
    Ok(ReadBack::from(there, format!("the tenant has the domain {name}"), format!("the tenant has no domain {name}")))
}

/// Reads back a `verify-domains` round a crash cut short: done when every domain it verified is verified now;
/// otherwise the watch goes on when it runs again.
pub async fn read_back_verified(graph: &GraphClient, detail: &serde_json::Value) -> Result<ReadBack, String> {
    let names =
        detail.get("domains").and_then(serde_json::Value::as_array).ok_or("its audit detail names no domains")?;
    let mut pending = Vec::new();
    for name in names.iter().filter_map(serde_json::Value::as_str) {
        if !graph.domain(name).await.map_err(|e| e.to_string())?.is_some_and(|d| d.is_verified) {
            pending.push(name.to_owned());
        }
    }
    Ok(ReadBack::from(
        pending.is_empty(),
        "every domain it verified is verified",
        format!("not verified yet: {}", pending.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_cleaned_and_bad_ones_refused() {
        let names =
            clean(&[" Contoso.com. ".into(), "contoso.com".into(), "".into(), "fabrikam.co.uk".into()]).expect("valid");
        assert_eq!(names, vec!["contoso.com", "fabrikam.co.uk"]);
        assert!(matches!(clean(&["contoso".into()]), Err(TaskError::BadInput { .. })));
        assert!(matches!(clean(&["con toso.com".into()]), Err(TaskError::BadInput { .. })));
        assert!(matches!(clean(&[]), Err(TaskError::BadInput { .. })));
    }

    #[test]
    fn the_instruction_is_shown_until_verified() {
        let mut report = DomainReport {
            state: DomainState {
                name: "contoso.com".into(),
                in_tenant: true,
                verified: false,
                txt: Some("MS=ms12345678".into()),
            },
            txt_ttl: None,
            added: true,
        };
        assert_eq!(
            report.instruction().as_deref(),
            Some("contoso.com  TXT  \"MS=ms12345678\"  (TTL 3600; at the zone apex, host @)")
        );
        report.state.verified = true;
        assert_eq!(report.instruction(), None);
    }
}
