//! The device code sign-in as a job: it asks the identity platform for a code, hands the code to the wizard to
//! show, polls until the engineer signs in (or declines, or the code expires, or the wizard cancels), and keeps
//! the sign-in in the OS keyring through the authenticator.

use super::Event;
use super::jobs::{Apply, Job};
use crate::m365::{M365, M365Error, Poll};
use crate::project::{AuditRecord, Phase, audit};
use chrono::Utc;

/// Starts a device code sign-in with `m365`'s authenticator.
pub fn job(m365: M365) -> Job {
    Job::new("Signing in to Microsoft 365", move |ctx| async move {
        let result = async {
            // Asking for a code retries on a bad network; the engineer may give up meanwhile.
            let mut prompt = tokio::select! {
                prompt = m365.auth.start_device_code() => prompt?,
                () = ctx.cancel.cancelled() => return Err(M365Error::Cancelled),
            };
            ctx.send(Event::DeviceCode {
                job: ctx.id,
                user_code: prompt.user_code.clone(),
                verification_uri: prompt.verification_uri.clone(),
                expires_in_secs: prompt.expires_in.as_secs(),
            });
            m365.auth
                .wait_for_device_code(&mut prompt, &ctx.cancel, |poll, prompt| {
                    if *poll == Poll::SlowDown {
                        let every = prompt.interval.as_secs();
                        ctx.progress(
                            format!("The identity platform asked to poll more slowly: every {every} s"),
                            0,
                            None,
                        );
                    }
                })
                .await
        }
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
