//! `cutover auth login|status|logout`: sign a project in to its tenant (device code, or an app's client secret
//! read from stdin), show whether the stored sign-in still gives tokens, or forget it.

use super::out::outln;
use crate::m365::{Authenticator, HttpClient, M365Error, Poll, Resource, RetryPolicy, SignInConfig, SignInKind};
use crate::project::{AUDIT_FILE, AuditLog, DataHome, Project, STATE_FILE, state};
use crate::secrets::{Secret, Secrets};
use color_eyre::eyre::{WrapErr, eyre};
use std::io::BufRead;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum AuthAction {
    /// Sign in: device code for the engineer, or --client-secret-stdin for an app
    Login,
    /// Show the stored sign-in and whether it still gives tokens
    Status,
    /// Forget the stored sign-in (refresh token and client secret)
    Logout,
}

pub struct AuthArgs<'a> {
    pub action: AuthAction,
    pub project: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub client_secret_stdin: bool,
    pub json: bool,
}

pub fn run(args: AuthArgs<'_>) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, args.project)?;
    let dir = home.project(&name);
    if !dir.join(STATE_FILE).exists() {
        return Err(crate::project::missing(&home, &name).into());
    }
    let audit = AuditLog::new(dir.join(AUDIT_FILE));
    let mut st = state::load(&dir.join(STATE_FILE), &audit)?;
    let given = args.client_id.map(crate::m365::endpoints::parse_client_id).transpose()?;
    let new_id = given.as_deref().filter(|id| st.m365.client_id.as_deref() != Some(*id));
    // The keyring accounts are named by the project's id, which an older project gets on its first open.
    if new_id.is_some() || st.id.is_none() {
        // A change of the project: under the lock, after reading back what a crash cut short.
        let (mut project, _, _) = super::resume::open(&home, &name)?;
        if let Some(id) = new_id {
            // Remembering the client id is a change to the project: it goes through the audited path, under the lock.
            project
                .change(None, "set-client-id", serde_json::json!({ "client_id": id }), |s| {
                    s.m365.client_id = Some(id.to_owned());
                    Ok::<(), std::convert::Infallible>(())
                })?
                .map_err(|e| eyre!("{e}"))?;
        }
        st = project.state().clone();
    } else if args.action == AuthAction::Login {
        // Read back first what a crash cut short, unless the wizard has the project (it reads back itself, and
        // signing in from here beside it must work); what needs the sign-in is read again once signed in.
        super::resume::read_back_unless_open(&home, &name)?;
    } else {
        // Logout forgets the sign-in first and fast, whatever is left open; status only reads.
        super::resume::warn_unread(&audit);
    }
    let tenant = st.kickoff.tenant.as_ref().map(ToString::to_string).ok_or_else(|| {
        eyre!("project '{name}' has no tenant yet: set it in the kickoff stage, or create the project with --tenant")
    })?;
    let client_id = st.m365.client_id.clone().ok_or(crate::m365::AuthError::NoClientId)?;
    let http = HttpClient::with_ca_file(RetryPolicy::from_env()?, st.m365.ca_cert.as_deref())?;
    let secrets = Secrets::open()?;
    let store = secrets.kind();
    let config = SignInConfig {
        project: name.to_string(),
        keyring_scope: st.keyring_scope(),
        cloud: st.m365.cloud.clone(),
        tenant,
        client_id,
    };
    let auth = Authenticator::new(config, http, secrets)?;
    let secret = if args.client_secret_stdin { Some(read_secret_from_stdin()?) } else { None };
    let runtime = super::runtime()?;
    let (code, after) = runtime.block_on(crate::m365::observed(super::out::waits(), async move {
        match args.action {
            AuthAction::Login => {
                let (code, signed_in) = login(&auth, secret, args.json, &store.to_string()).await?;
                Ok((code, After::SignedIn(signed_in)))
            }
            AuthAction::Status => Ok((status(&auth, args.json, &store.to_string()).await?, After::Nothing)),
            AuthAction::Logout => {
                let had = auth.sign_out().await?;
                if args.json {
                    outln!("{}", serde_json::json!({ "project": auth.config().project, "signed_out": had }))?;
                } else if had {
                    outln!(
                        "Signed out of project {}: the stored sign-in was deleted from {store}.",
                        auth.config().project
                    )?;
                } else {
                    outln!("Project {} had no stored sign-in.", auth.config().project)?;
                }
                Ok::<_, color_eyre::Report>((ExitCode::SUCCESS, After::SignedOut))
            }
        }
    }))?;
    // Outside the runtime: reading back after a sign-in runs its own.
    match after {
        After::SignedIn(signed_in) => keep_account(&home, &name, true, crate::runner::remember_sign_in, &signed_in),
        After::SignedOut => {
            keep_account(&home, &name, false, |p, ()| crate::runner::forget_or_keep_account(p, None), &());
        }
        After::Nothing => {}
    }
    Ok(code)
}

/// What the project records once the sign-in command is through.
enum After {
    SignedIn(crate::m365::SignedIn),
    SignedOut,
    Nothing,
}

fn read_secret_from_stdin() -> color_eyre::Result<Secret> {
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line).wrap_err("reading the client secret from stdin")?;
    let secret = Secret::new(line.trim_end_matches(['\r', '\n']));
    if secret.is_empty() {
        return Err(eyre!("--client-secret-stdin: stdin gave an empty line; pipe the app's client secret in"));
    }
    Ok(secret)
}

/// Records in the project who it is signed in as, so an override names them; the sign-in stands either way.
/// Just signed in (`read_back`), the project is opened as every changing command opens it: what a crash left
/// that only a sign-in can read (a write to the tenant) is read back now.
fn keep_account<T>(
    home: &DataHome,
    name: &crate::project::ProjectName,
    read_back: bool,
    record: impl FnOnce(&mut Project, &T) -> Result<(), crate::project::ProjectError>,
    what: &T,
) {
    let opened = if read_back {
        super::resume::open(home, name).map(|(p, ..)| p).map_err(|e| e.to_string())
    } else {
        Project::open(home, name).map(|(p, _)| p).map_err(|e| e.to_string())
    };
    let kept = opened.and_then(|mut p| record(&mut p, what).map_err(|e| e.to_string()));
    if let Err(e) = kept {
        super::out::warn(&format!("warning: project {name} could not record who is signed in ({e})"));
    }
}

async fn login(
    auth: &Authenticator,
    secret: Option<Secret>,
    json: bool,
    store: &str,
) -> color_eyre::Result<(ExitCode, crate::m365::SignedIn)> {
    let signed_in = match secret {
        Some(secret) => auth.sign_in_with_client_secret(secret).await?,
        None => {
            let mut prompt = auth.start_device_code().await?;
            // The prompt goes to stderr even with --json, whose stdout holds one document: the outcome.
            if prompt.message.is_empty() {
                super::out::warn(&format!(
                    "To sign in, open {} and enter the code {}",
                    prompt.verification_uri, prompt.user_code
                ));
            } else {
                // The identity platform's own words: text from the network, escaped like any input.
                super::out::warn(&prompt.message);
            }
            let cancel = CancellationToken::new();
            let on_ctrl_c = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    on_ctrl_c.cancel();
                }
            });
            let result = auth
                .wait_for_device_code(&mut prompt, &cancel, |poll, prompt| {
                    if *poll == Poll::SlowDown {
                        eprintln!(
                            "The identity platform asked to poll more slowly: every {} s now.",
                            prompt.interval.as_secs()
                        );
                    }
                })
                .await;
            cancel.cancel();
            result?
        }
    };
    // Prove the sign-in works for both services before calling it done.
    let mut tokens = Vec::new();
    for resource in Resource::ALL {
        tokens.push((resource, auth.access_token(resource).await.map(|_| ())));
    }
    let code = report(auth, Some(&signed_in), &tokens, json, store)?;
    Ok((code, signed_in))
}

async fn status(auth: &Authenticator, json: bool, store: &str) -> color_eyre::Result<ExitCode> {
    let kind = auth.stored_kind().await?;
    if kind.is_none() {
        if json {
            outln!("{}", serde_json::json!({ "project": auth.config().project, "signed_in": false, "store": store }))?;
        } else {
            outln!(
                "Project {} is not signed in. Run `cutover auth login --project {}`.",
                auth.config().project,
                auth.config().project
            )?;
        }
        return Ok(ExitCode::from(1));
    }
    let mut tokens = Vec::new();
    for resource in Resource::ALL {
        tokens.push((resource, auth.access_token(resource).await.map(|_| ())));
    }
    let kind = kind.unwrap_or(SignInKind::DeviceCode);
    // A user's name comes with the renewed tokens (their ID token); an app is named by its id.
    let account = match kind {
        SignInKind::DeviceCode => crate::m365::http::TokenSource::account(auth),
        SignInKind::ClientSecret => Some(auth.config().client_id.clone()),
    };
    let signed_in = crate::m365::SignedIn { kind, account, tenant_id: None };
    report(auth, Some(&signed_in), &tokens, json, store)
}

fn report(
    auth: &Authenticator,
    signed_in: Option<&crate::m365::SignedIn>,
    tokens: &[(Resource, Result<(), M365Error>)],
    json: bool,
    store: &str,
) -> color_eyre::Result<ExitCode> {
    let ok = tokens.iter().all(|(_, r)| r.is_ok());
    let config = auth.config();
    if json {
        let services: Vec<serde_json::Value> = tokens
            .iter()
            .map(|(r, res)| {
                serde_json::json!({
                    "service": r.label(),
                    "ok": res.is_ok(),
                    "error": res.as_ref().err().map(ToString::to_string),
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::json!({
                "project": config.project,
                "signed_in": true,
                "kind": signed_in.map(|s| s.kind),
                "account": signed_in.and_then(|s| s.account.clone()),
                "tenant": config.tenant,
                "cloud": config.cloud.name(),
                "store": store,
                "services": services,
            })
        )?;
    } else {
        let how = match signed_in.map(|s| s.kind) {
            Some(SignInKind::ClientSecret) => "as an app (client secret)",
            _ => "with a device code sign-in",
        };
        let who = signed_in.and_then(|s| s.account.clone()).map(|a| format!(" as {a}")).unwrap_or_default();
        outln!(
            "Project {} is signed in {how}{who} to tenant {} ({} cloud); kept in {store}.",
            config.project,
            config.tenant,
            config.cloud.name()
        )?;
        for (resource, result) in tokens {
            match result {
                Ok(()) => outln!("  {}: token OK", resource.label())?,
                Err(e) => outln!("  {}: {e}", resource.label())?,
            }
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
