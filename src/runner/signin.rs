//! The device code sign-in as a job: it asks the identity platform for a code, hands the code to the wizard to
//! show, polls until the engineer signs in (or declines, or the code expires, or the wizard cancels), and keeps
//! the sign-in in the OS keyring through the authenticator.

use super::Event;
use super::jobs::{Apply, Job, JobContext};
use super::resume::ReadBack;
use super::tasks::{TaskError, write};
use crate::m365::{AuthError, DeviceCodePrompt, M365, M365Error, Poll, Resource, SignedIn};
use crate::plan::StageId;
use crate::project::{AuditRecord, Phase, audit};
use chrono::Utc;

/// Asks for a device code for `resource`, hands it to the screen as `announce` makes it, and polls until the
/// engineer signs in (or declines, or the code expires, or the job is cancelled).
async fn device_code(
    ctx: &JobContext,
    m365: &M365,
    resource: Resource,
    announce: impl FnOnce(&DeviceCodePrompt) -> Event,
) -> Result<SignedIn, M365Error> {
    // Asking for a code retries on a bad network; the engineer may give up meanwhile.
    let mut prompt = tokio::select! {
        prompt = m365.auth.start_device_code_for(resource) => prompt?,
        () = ctx.cancel.cancelled() => return Err(M365Error::Cancelled),
    };
    ctx.send(announce(&prompt));
    m365.auth
        .wait_for_device_code(&mut prompt, &ctx.cancel, |poll, prompt| {
            if *poll == Poll::SlowDown {
                let every = prompt.interval.as_secs();
                ctx.progress(format!("The identity platform asked to poll more slowly: every {every} s"), 0, None);
            }
        })
        .await
}

/// Makes sure the sign-in holds `resource`'s permission, asking the engineer's consent by device code only if
/// the identity platform says it was never given (incremental consent). The consent is a grant in the tenant,
/// so it is audited as a write of `stage`. An app's sign-in (client secret) has the permission granted by an
/// administrator up front or not at all: Graph's refusal then says which to grant.
pub async fn consent(ctx: &JobContext, m365: &M365, stage: StageId, resource: Resource) -> Result<(), TaskError> {
    let permission = match m365.auth.access_token(resource).await {
        Ok(_) => return Ok(()),
        Err(M365Error::Auth(AuthError::ConsentNeeded { permission, .. })) => permission,
        Err(e) => return Err(e.into()),
    };
    ctx.note(format!("asking for consent to the Microsoft Graph permission {permission}"));
    let detail = serde_json::json!({ "permission": permission });
    let asked = async {
        device_code(ctx, m365, resource, |prompt| Event::ConsentCode {
            job: ctx.id,
            permission: permission.to_owned(),
            user_code: prompt.user_code.clone(),
            verification_uri: prompt.verification_uri.clone(),
            expires_in_secs: prompt.expires_in.as_secs(),
        })
        .await
        .map_err(|e| not_given(permission, e))
    };
    write(ctx, stage, "consent", detail, asked).await.map(|_| ())
}

/// A consent that did not come: a code expired or declined is fixed by running the task again, not by signing
/// in again (a sign-in asks for no permission by name).
fn not_given(permission: &str, e: M365Error) -> TaskError {
    match e {
        M365Error::Auth(AuthError::DeviceCodeExpired { .. } | AuthError::Declined) => TaskError::BadInput {
            what: format!(
                "the consent to {permission} was not given ({})",
                if matches!(e, M365Error::Auth(AuthError::Declined)) {
                    "declined at the code"
                } else {
                    "the code expired"
                }
            ),
            fix: format!(
                "run the task again and accept {permission} at its code, or have an administrator grant admin \
                 consent for {permission} to cutover's app"
            ),
        },
        other => other.into(),
    }
}

/// Reads back a consent a crash cut short: given when the sign-in now gets `resource`'s permission silently.
pub async fn read_back_consent(m365: &M365, resource: Resource) -> Result<ReadBack, String> {
    let permission = resource.permission().unwrap_or("the permission");
    match m365.auth.access_token(resource).await {
        Ok(_) => Ok(ReadBack::done(format!("the sign-in holds {permission}"))),
        Err(M365Error::Auth(AuthError::ConsentNeeded { .. })) => {
            Ok(ReadBack::not_done(format!("{permission} was never consented to; it is asked for again when needed")))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Starts a device code sign-in with `m365`'s authenticator.
pub fn job(m365: M365) -> Job {
    Job::new("Signing in to Microsoft 365", move |ctx| async move {
        let result = device_code(&ctx, &m365, Resource::Graph, |prompt| Event::DeviceCode {
            job: ctx.id,
            user_code: prompt.user_code.clone(),
            verification_uri: prompt.verification_uri.clone(),
            expires_in_secs: prompt.expires_in.as_secs(),
        })
        .await;
        let apply: Apply = Box::new(move |project| match result {
            Ok(signed_in) => {
                let record = AuditRecord {
                    time: Utc::now(),
                    actor: audit::current_actor(),
                    stage: None,
                    action: "sign-in".to_owned(),
                    phase: Phase::Done,
                    detail: serde_json::json!({ "kind": signed_in.kind, "account": signed_in.account }),
                    touches: None,
                };
                if let Err(e) = project.audit().append(&record) {
                    tracing::error!(error = %e, "could not record the sign-in");
                }
                if let Err(e) = super::remember_sign_in(project, &signed_in) {
                    tracing::error!(error = %e, "could not keep who signed in");
                }
                Event::SignedIn { account: signed_in.account }
            }
            Err(M365Error::Cancelled) => Event::SignInEnded { error: None },
            Err(e) => Event::SignInEnded { error: Some(e.to_string()) },
        });
        apply
    })
}
