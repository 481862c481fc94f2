//! What every stage's live checks share: the error that stops a whole run, the results' shape, and how a
//! Microsoft 365 problem becomes a check's Fail. The checks themselves live in their stage's file under
//! `runner/stages/`; the rules stay in `plan/`. A check the network keeps from running becomes a Fail whose
//! evidence carries the error; only "not signed in" stops the whole run, so the wizard can start the sign-in.

use super::connect::{ConnectError, Connections};
use crate::m365::M365Error;
use crate::m365::error::AuthError;
use crate::plan::{CheckId, CheckResult, Outcome};
use chrono::Utc;

/// Why a stage's checks did not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The tenant needs a sign-in first (or again); the message names the command.
    #[error("{0}")]
    NotSignedIn(String),
    #[error("the checks were cancelled")]
    Cancelled,
    #[error("this stage has no live checks yet: they come with that stage's work")]
    NotBuilt,
}

/// The results of one stage's checks, in the plan's order.
pub type Results = Vec<(CheckId, CheckResult)>;

/// The tenant's clients, or the reason they are missing: a sign-in problem stops the run; a missing setting
/// fails every check of the stage with the fix.
pub(crate) fn m365<'a>(
    conn: &'a Connections,
    ids: &[CheckId],
) -> Result<Result<&'a crate::m365::M365, Results>, CheckError> {
    match &conn.m365 {
        Ok(m) => Ok(Ok(m)),
        Err(e @ ConnectError::NoClientId { .. }) => Err(CheckError::NotSignedIn(e.to_string())),
        Err(e) => Ok(Err(all(ids, Outcome::NotRun, &format!("Not run: {e}.")))),
    }
}

/// A Microsoft 365 error as a check's Fail, unless it is a sign-in problem, which stops the run.
pub(crate) fn m365_failure(what: &str, e: M365Error) -> Result<CheckResult, CheckError> {
    match e {
        M365Error::Auth(
            a @ (AuthError::NotSignedIn { .. } | AuthError::SignInExpired { .. } | AuthError::NoClientId),
        ) => Err(CheckError::NotSignedIn(a.to_string())),
        M365Error::Cancelled => Err(CheckError::Cancelled),
        // No answer, or none that says anything of the tenant: the check could not run, and says why.
        e @ (M365Error::Network { .. } | M365Error::Throttled { .. }) => not_run(what, &e),
        M365Error::Api(a) if a.status >= 500 => not_run(what, &M365Error::Api(a)),
        other => Ok(CheckResult::new(Outcome::Fail, format!("{what} failed: {other}"), Utc::now())),
    }
}

fn not_run(what: &str, e: &M365Error) -> Result<CheckResult, CheckError> {
    Ok(CheckResult::new(Outcome::NotRun, format!("Not run: {what} failed: {e}"), Utc::now()))
}

pub(crate) fn all(ids: &[CheckId], outcome: Outcome, evidence: &str) -> Results {
    ids.iter().map(|id| (*id, CheckResult::new(outcome, evidence, Utc::now()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_error_is_a_failed_check_with_its_text_but_a_lost_sign_in_stops_the_run() {
        let network = M365Error::Network {
            host: "graph.microsoft.com".into(),
            detail: "connection reset".into(),
            advice: "Check the proxy.".into(),
        };
        let r = m365_failure("GET /subscribedSkus", network).expect("a result");
        assert_eq!(r.outcome, Outcome::NotRun, "no connection says nothing of the tenant");
        assert!(
            r.evidence.starts_with("Not run: GET /subscribedSkus failed: could not reach graph.microsoft.com"),
            "{}",
            r.evidence
        );
        let signed_out = M365Error::Auth(AuthError::NotSignedIn { project: "acme".into() });
        let err = m365_failure("GET /users", signed_out).expect_err("stops");
        assert!(matches!(&err, CheckError::NotSignedIn(m) if m.contains("cutover auth login --project acme")), "{err}");
    }
}
