//! Stage 9's service-health rule: Exchange Online's `serviceHealth` status and its open `serviceHealthIssue`s
//! (Graph service announcements). An open incident, or a status that is not healthy, fails: mail may not flow
//! for reasons no setting of this project can fix, and the customer must hear it before sign-off. Open
//! advisories warn. Each issue is shown with its id, title and impact. Pure.

use crate::m365::graph::{HealthStatus, IssueClassification, ServiceHealth, ServiceHealthIssue};
use crate::plan::{CheckResult, Outcome};
use chrono::{DateTime, Utc};

/// The service name Graph's service announcements give Exchange Online.
pub const EXCHANGE_ONLINE: &str = "Exchange Online";

/// Exchange Online's overview among all of them: by its service name, or its id `Exchange`.
pub fn exchange(overviews: &[ServiceHealth]) -> Option<&ServiceHealth> {
    overviews.iter().find(|h| h.service.eq_ignore_ascii_case(EXCHANGE_ONLINE) || h.id.eq_ignore_ascii_case("Exchange"))
}

/// The status in words for the evidence (Graph's own value, as the admin center's filter names it).
fn word(status: &HealthStatus) -> String {
    match status {
        HealthStatus::Unknown(s) => format!("{s} (a status cutover does not know)"),
        other => {
            let debug = format!("{other:?}");
            let mut chars = debug.chars();
            chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
        }
    }
}

/// service-health over the overview and the open issues.
pub fn check(overview: Option<&ServiceHealth>, issues: &[ServiceHealthIssue], now: DateTime<Utc>) -> CheckResult {
    let open: Vec<&ServiceHealthIssue> = issues.iter().filter(|i| !i.is_resolved).collect();
    let incidents: Vec<&&ServiceHealthIssue> =
        open.iter().filter(|i| !matches!(i.classification, IssueClassification::Advisory)).collect();
    let mut parts = Vec::new();
    let healthy = match overview {
        Some(h) => {
            parts.push(format!("Exchange Online: {}.", word(&h.status)));
            h.status.is_healthy()
        }
        None => {
            parts.push("Graph lists no Exchange Online service health for this tenant.".to_owned());
            false
        }
    };
    if open.is_empty() {
        parts.push("No open incident or advisory.".to_owned());
    }
    for i in &open {
        let kind = match &i.classification {
            IssueClassification::Incident => "Incident".to_owned(),
            IssueClassification::Advisory => "Advisory".to_owned(),
            IssueClassification::Unknown(s) => format!("Issue ({s})"),
        };
        let mut line = format!("{kind} {}: {} ({})", i.id, i.title.trim(), word(&i.status));
        if !i.impact_description.trim().is_empty() {
            line.push_str(&format!(" — {}", i.impact_description.trim()));
        }
        parts.push(format!("{line}."));
    }
    let outcome = if !healthy || !incidents.is_empty() {
        Outcome::Fail
    } else if open.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Warn
    };
    CheckResult::new(outcome, parts.join(" "), now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overview(status: &str) -> ServiceHealth {
        serde_json::from_value(serde_json::json!({"id": "Exchange", "service": "Exchange Online", "status": status}))
            .expect("overview")
    }

    fn issue(id: &str, classification: &str, resolved: bool) -> ServiceHealthIssue {
        serde_json::from_value(
            serde_json::json!({"id": id, "title": "Delays receiving mail", "classification": classification,
            "status": "investigating", "isResolved": resolved, "impactDescription": "Users may see delays.",
            "service": "Exchange Online"}),
        )
        .expect("issue")
    }

    #[test]
    fn an_open_incident_or_an_unhealthy_status_fails_with_its_title_and_impact() {
        let now = Utc::now();
        let ok = overview("serviceOperational");
        assert_eq!(check(Some(&ok), &[], now).outcome, Outcome::Pass);
        let r = check(Some(&ok), &[issue("EX1", "incident", false)], now);
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.evidence.contains("Incident EX1: Delays receiving mail (investigating) — Users may see delays."),
            "{}",
            r.evidence
        );
        assert_eq!(check(Some(&ok), &[issue("EX2", "advisory", false)], now).outcome, Outcome::Warn);
        assert_eq!(check(Some(&ok), &[issue("EX3", "incident", true)], now).outcome, Outcome::Pass);
        let degraded = check(Some(&overview("serviceDegradation")), &[], now);
        assert_eq!(degraded.outcome, Outcome::Fail);
        assert!(degraded.evidence.starts_with("Exchange Online: serviceDegradation."), "{}", degraded.evidence);
        let unknown = check(Some(&overview("somethingNew")), &[], now);
        assert_eq!(unknown.outcome, Outcome::Fail, "a status cutover cannot read is not taken for healthy");
        assert_eq!(check(None, &[], now).outcome, Outcome::Fail);
        assert_eq!(check(Some(&ok), &[issue("EX4", "unknownFutureValue", false)], now).outcome, Outcome::Fail);
    }

    #[test]
    fn exchange_is_found_by_name_or_id() {
        let list = [overview("serviceOperational")];
        assert!(exchange(&list).is_some());
        assert!(exchange(&[]).is_none());
    }
}
