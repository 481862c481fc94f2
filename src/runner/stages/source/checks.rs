//! Stage 2: the source server's four checks through `source::health_checks` (Autodiscover, certificate,
//! Outlook Anywhere, EWS), judged by `plan::source::server`, with the migration account from the project and its
//! password from the keyring, and the inventory checks of `plan::source`.

use crate::plan::CheckId;
use crate::plan::source::Check;
use crate::plan::source::server::{self, CHECK_IDS};
use crate::plan::{CheckResult, Outcome};
use crate::project::ProjectState;
use crate::runner::checks::{self, Results};
use crate::runner::connect::Connections;
use crate::source::{Credentials, health_checks};
use chrono::Utc;

pub(super) async fn run(state: &ProjectState, conn: &Connections) -> Results {
    let mut results = server_checks(state, conn).await;
    results.extend(crate::plan::source::run_inventory_checks(
        state.inventory.as_deref(),
        &state.vips,
        &state.source,
        state.kickoff.mailboxes,
        Utc::now(),
    ));
    results
}

async fn server_checks(state: &ProjectState, conn: &Connections) -> Results {
    let target = match &conn.source {
        Ok(t) => t,
        Err(e) => return checks::all(&CHECK_IDS, Outcome::NotRun, &format!("Not run: {e}.")),
    };
    let access = &state.source_access;
    let Some(mailbox) = access.autodiscover_address(state.inventory.as_deref()) else {
        return checks::all(
            &CHECK_IDS,
            Outcome::NotRun,
            "Not run: no mailbox to ask Autodiscover for. Import the inventory (its first mailbox is used), or give \
             the migration account as a UPN, or set the Autodiscover address in the source settings.",
        );
    };
    // Without the account or its password the checks still run (Autodiscover and EWS then answer 401, which
    // says the server is there), and the evidence of those that needed them says what is missing.
    let password = conn.source_password().await;
    let missing = match (&access.admin_user, &password) {
        (None, _) => {
            Some("no migration account is set: enter it (DOMAIN\\user or a UPN) in the source settings, or run `cutover source --admin-user`".to_owned())
        }
        (Some(_), Ok(None)) => Some(format!(
            "the migration account's password is not in the OS keyring: enter it in the source settings, or pipe it to `cutover source --password-stdin` (it is kept as {}/source-password)",
            conn.keyring_scope()
        )),
        (Some(_), Err(e)) => Some(format!("the migration account's password could not be read: {e}")),
        (Some(_), Ok(Some(_))) => None,
    };
    let credentials = match (&access.admin_user, &password) {
        (Some(user), Ok(Some(secret))) => Some(Credentials::new(user, secret.expose())),
        _ => None,
    };
    let manual = access.rpc_proxy_server.as_deref();
    match health_checks(target, &mailbox, credentials, manual).await {
        Ok(reports) => {
            let mut results = server::checks(&reports, Utc::now());
            if let Some(missing) = missing {
                let needs_credentials = [CheckId::Source(Check::Autodiscover), CheckId::Source(Check::Ews)];
                for (id, result) in &mut results {
                    if needs_credentials.contains(id) && result.outcome != Outcome::Pass {
                        result.evidence.push_str(&format!("\nCredentials: {missing}."));
                    }
                }
            }
            results
        }
        Err(e) => CHECK_IDS
            .iter()
            .map(|id| (*id, CheckResult::new(Outcome::NotRun, format!("Not run: {e}."), Utc::now())))
            .collect(),
    }
}
