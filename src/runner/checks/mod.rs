//! The read-only checks of stages 1 to 4, live where they must be: stage 1 is pure (the kickoff form), stage 2
//! asks the source server (and reads the inventory), stages 3 and 4 ask Microsoft Graph, Exchange Online and
//! DNS. The rules stay in `plan/`; here the answers are fetched and handed to them. A check the network keeps
//! from running becomes a Fail whose evidence carries the error; only "not signed in" stops the whole run, so
//! the wizard can start the sign-in.

mod prepare;
mod source;
mod users;

use super::connect::{ConnectError, Connections};
use crate::m365::M365Error;
use crate::m365::error::AuthError;
use crate::plan::{CheckResult, Outcome, StageId};
use crate::project::ProjectState;
use chrono::Utc;
use tokio_util::sync::CancellationToken;

/// Why a stage's checks did not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The tenant needs a sign-in first (or again); the message names the command.
    #[error("{0}")]
    NotSignedIn(String),
    #[error("the checks were cancelled")]
    Cancelled,
    #[error("stage {0} has no live checks yet: they come with that stage's work")]
    NotYet(StageId),
}

/// The results of one stage's checks, in the plan's order.
pub type Results = Vec<(&'static str, CheckResult)>;

/// Whether a stage's checks go on the network (stages 2 to 4), so they run as a job rather than in place.
pub fn is_live(stage: StageId) -> bool {
    stage != StageId::KICKOFF && stage <= StageId::PREPARE
}

/// Runs the read-only checks of `stage` (1 to 4) and returns their results; nothing is written anywhere.
pub async fn run(
    stage: StageId,
    state: &ProjectState,
    conn: &Connections,
    cancel: &CancellationToken,
) -> Result<Results, CheckError> {
    let work = async {
        match stage {
            StageId::KICKOFF => Ok(crate::plan::kickoff::run_checks(&state.kickoff, Utc::now())),
            StageId::SOURCE => Ok(source::run(state, conn).await),
            StageId::USERS => users::run(state, conn).await,
            StageId::PREPARE => prepare::run(state, conn).await,
            other => Err(CheckError::NotYet(other)),
        }
    };
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(CheckError::Cancelled),
        result = work => result,
    }
}

/// The tenant's clients, or the reason they are missing: a sign-in problem stops the run; a missing setting
/// fails every check of the stage with the fix.
fn m365<'a>(conn: &'a Connections, ids: &[&'static str]) -> Result<Result<&'a crate::m365::M365, Results>, CheckError> {
    match &conn.m365 {
        Ok(m) => Ok(Ok(m)),
        Err(e @ ConnectError::NoClientId { .. }) => Err(CheckError::NotSignedIn(e.to_string())),
        Err(e) => Ok(Err(all(ids, Outcome::Fail, &format!("Not run: {e}.")))),
    }
}

/// A Microsoft 365 error as a check's Fail, unless it is a sign-in problem, which stops the run.
fn m365_failure(what: &str, e: M365Error) -> Result<CheckResult, CheckError> {
    match e {
        M365Error::Auth(
            a @ (AuthError::NotSignedIn { .. } | AuthError::SignInExpired { .. } | AuthError::NoClientId),
        ) => Err(CheckError::NotSignedIn(a.to_string())),
        M365Error::Cancelled => Err(CheckError::Cancelled),
        other => Ok(CheckResult::new(Outcome::Fail, format!("{what} failed: {other}"), Utc::now())),
    }
}

fn all(ids: &[&'static str], outcome: Outcome, evidence: &str) -> Results {
    ids.iter().map(|id| (*id, CheckResult::new(outcome, evidence, Utc::now()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secrets;

    #[tokio::test]
    async fn stages_without_live_checks_say_so_and_a_cancelled_run_stops() {
        let state = ProjectState::new("acme", Utc::now(), false);
        let conn = Connections::new("acme", &state, Secrets::mock());
        let cancel = CancellationToken::new();
        let err = run(StageId::MIGRATE, &state, &conn, &cancel).await.expect_err("not yet");
        assert!(err.to_string().contains("stage 5 has no live checks yet"), "{err}");
        let kickoff = run(StageId::KICKOFF, &state, &conn, &cancel).await.expect("pure");
        assert_eq!(kickoff.len(), 2);
        // Without a tenant the stage-3 checks fail with the fix rather than asking for a sign-in.
        let users = run(StageId::USERS, &state, &conn, &cancel).await.expect("fails with the fix");
        assert!(users.iter().all(|(_, r)| r.outcome == Outcome::Fail && r.evidence.contains("kickoff form")));
        cancel.cancel();
        assert!(matches!(run(StageId::SOURCE, &state, &conn, &cancel).await, Err(CheckError::Cancelled)));
    }

    #[test]
    fn a_network_error_is_a_failed_check_with_its_text_but_a_lost_sign_in_stops_the_run() {
        let network = M365Error::Network {
            host: "graph.microsoft.com".into(),
            detail: "connection reset".into(),
            advice: "Check the proxy.".into(),
        };
        let r = m365_failure("GET /subscribedSkus", network).expect("a result");
        assert_eq!(r.outcome, Outcome::Fail);
        assert!(
            r.evidence.starts_with("GET /subscribedSkus failed: could not reach graph.microsoft.com"),
            "{}",
            r.evidence
        );
        let signed_out = M365Error::Auth(AuthError::NotSignedIn { project: "acme".into() });
        let err = m365_failure("GET /users", signed_out).expect_err("stops");
        assert!(matches!(&err, CheckError::NotSignedIn(m) if m.contains("cutover auth login --project acme")), "{err}");
    }
}
