//! Stage 2's Autodiscover check: the verdict on the lookups the source client made in Exchange's order, the
//! settings they found, and the fix for what kept the migration service from them. The facts come from
//! `source::autodiscover`.

use chrono::{DateTime, Utc};

use super::server::{list_schemes, package_accepted, transport_fix};
use crate::plan::{CheckResult, Outcome};
use crate::source::autodiscover::{AttemptResult, AutodiscoverReport, PoxErrorCode, PoxSettings};
use crate::source::{AuthScheme, TLS_FAILED};

/// Stage 2's `autodiscover` check ("Autodiscover answers"): every lookup in Exchange's order, the settings found,
/// and the fix for what kept the migration service from them.
pub fn check(report: &AutodiscoverReport, now: DateTime<Utc>) -> CheckResult {
    let mut lines = Vec::new();
    let steps = report
        .attempts
        .iter()
        .map(|a| format!("  {}. {} {}: {}", a.step.number(), a.method, a.url, describe_attempt(&a.result)))
        .collect::<Vec<_>>();
    let (outcome, headline, advice) = verdict(report);
    lines.push(headline);
    lines.push(format!("Lookups, in Exchange's order, for {}:", report.email));
    lines.extend(steps);
    if let Some(answer) = &report.answer {
        lines.extend(describe_settings(&answer.settings));
    }
    lines.extend(advice);
    lines.push(
        "Not checked: the Active Directory SCP lookup that domain-joined Outlook tries first; the migration \
             service comes from the internet, as these lookups do."
            .to_owned(),
    );
    CheckResult::new(outcome, lines.join("\n"), now)
}

fn verdict(report: &AutodiscoverReport) -> (Outcome, String, Vec<String>) {
    if let Some(answer) = &report.answer {
        let head = format!(
            "Autodiscover answered at step {} ({}: {}).",
            answer.step.number(),
            answer.step.describe(),
            answer.url
        );
        let Some(expr) = answer.settings.outlook_anywhere() else {
            return (
                Outcome::Fail,
                head,
                vec![
                    "Its answer has no Outlook Anywhere (EXPR) settings, so the migration service cannot find \
                         the RPC proxy. Fix: publish Outlook Anywhere with an external host name, e.g. \
                         Set-OutlookAnywhere -Identity \"<server>\\Rpc (Default Web Site)\" -ExternalHostname \
                         mail.<domain> -ExternalClientsRequireSsl $true -ExternalClientAuthenticationMethod Ntlm \
                         (Exchange 2010: Enable-OutlookAnywhere), or give the settings by hand when creating the \
                         migration endpoint in stage 4."
                        .to_owned(),
                ],
            );
        };
        let mut advice = Vec::new();
        let mut outcome = Outcome::Pass;
        if let Some(auth) = &expr.auth_package
            && !package_accepted(auth)
        {
            outcome = Outcome::Warn;
            advice.push(format!(
                "Outlook Anywhere's external authentication is {auth}; the migration service signs in with \
                     Basic or NTLM. Fix: Set-OutlookAnywhere -ExternalClientAuthenticationMethod Ntlm (or Basic) \
                     and -IISAuthenticationMethods Basic,Ntlm,Negotiate."
            ));
        }
        if expr.ssl == Some(false) {
            outcome = Outcome::Warn;
            advice.push(
                "Outlook Anywhere is published without SSL; the migration service connects over HTTPS only. \
                     Fix: Set-OutlookAnywhere -ExternalClientsRequireSsl $true."
                    .to_owned(),
            );
        }
        if expr.server.is_none() {
            outcome = Outcome::Warn;
            advice.push(
                "The EXPR settings name no server; give the RPC proxy server by hand in stage 2's manual settings."
                    .to_owned(),
            );
        }
        return (outcome, head, advice);
    }
    let last = report.attempts.last().map(|a| &a.result);
    if let Some(AttemptResult::PoxError(e)) = last {
        return (
            Outcome::Fail,
            format!("Autodiscover answered with error {} for {}.", e.code, report.email),
            vec![format!("Fix: {}.", pox_advice(&e.code))],
        );
    }
    let first_auth = report.attempts.iter().find_map(|a| match &a.result {
        AttemptResult::AuthRequired { schemes, with_credentials } => Some((a, schemes, *with_credentials)),
        _ => None,
    });
    if let Some((first, schemes, with_credentials)) = first_auth {
        if !with_credentials && !report.credentials_given {
            return (
                Outcome::Warn,
                format!("Autodiscover answers at {} but needs credentials to give its settings.", first.url),
                vec!["Give the source administrator's credentials to read the settings.".to_owned()],
            );
        }
        let advice = if schemes.contains(&AuthScheme::Basic) {
            "Fix: check the user name (DOMAIN\\user or the UPN) and the password of the migration account, and \
                 that the account is not locked out."
                .to_owned()
        } else {
            format!(
                "The Autodiscover virtual directory offers {} but not Basic, which this check signs in with. \
                     Fix: Set-AutodiscoverVirtualDirectory -BasicAuthentication $true, or verify with \
                     Test-MigrationServerAvailability (NTLM) in stage 4.",
                list_schemes(schemes)
            )
        };
        let headline = if with_credentials {
            format!("Autodiscover at {} refused the credentials of the migration account.", first.url)
        } else {
            format!("Autodiscover at {} does not offer Basic authentication.", first.url)
        };
        return (Outcome::Fail, headline, vec![advice]);
    }
    let tls_refused =
        report.attempts.iter().any(|a| matches!(&a.result, AttemptResult::Transport(t) if t.starts_with(TLS_FAILED)));
    if tls_refused {
        return (
            Outcome::Fail,
            "Autodiscover did not answer on any of Exchange's lookups; a server answered but its certificate \
                 was refused."
                .to_owned(),
            vec![transport_fix(TLS_FAILED, "autodiscover")],
        );
    }
    (
        Outcome::Fail,
        "Autodiscover did not answer on any of Exchange's lookups.".to_owned(),
        vec![format!(
            "Fix: publish autodiscover.{domain} (an A record, or a CNAME to the Exchange server) reachable from \
                 the internet on port 443 with a certificate from a public CA that covers it, or an \
                 _autodiscover._tcp.{domain} SRV record; otherwise give the Outlook Anywhere settings by hand when \
                 creating the migration endpoint in stage 4.",
            domain = report.email.rsplit('@').next().unwrap_or_default()
        )],
    )
}

fn describe_settings(s: &PoxSettings) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(name) = &s.display_name {
        lines.push(format!("Mailbox: {name}"));
    }
    if let Some(expr) = s.outlook_anywhere() {
        lines.push(format!(
            "Outlook Anywhere (EXPR): server {}, SSL {}, authentication {}",
            expr.server.as_deref().unwrap_or("not given"),
            match expr.ssl {
                Some(true) => "on",
                Some(false) => "off",
                None => "not stated",
            },
            expr.auth_package
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "not stated (Kerberos or NTLM)".to_owned())
        ));
    }
    if let Some(ews) = s.ews_url() {
        lines.push(format!("EWS: {ews}"));
    }
    if let Some(version) = s.server_version() {
        lines.push(format!("Mailbox server: {} ({version})", version.product()));
    }
    lines
}

/// One lookup's result as the evidence lists it.
fn describe_attempt(result: &AttemptResult) -> String {
    match result {
        AttemptResult::Settings => "answered with settings".to_owned(),
        AttemptResult::Redirected { to } => format!("redirected to {to}"),
        AttemptResult::RedirectAddr { to } => format!("redirected to the address {to}"),
        AttemptResult::AuthRequired { schemes, with_credentials: true } => {
            format!("401: the credentials were refused (server offers {})", list_schemes(schemes))
        }
        AttemptResult::AuthRequired { schemes, with_credentials: false } if !schemes.contains(&AuthScheme::Basic) => {
            format!("401: credentials required, Basic not offered (server offers {})", list_schemes(schemes))
        }
        AttemptResult::AuthRequired { schemes, with_credentials: false } => {
            format!("401: credentials required (server offers {})", list_schemes(schemes))
        }
        AttemptResult::PoxError(e) => format!(
            "Autodiscover error {}{}",
            e.code,
            e.message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default()
        ),
        AttemptResult::NotAutodiscover { status, detail } => {
            format!("HTTP {status}, not an Autodiscover answer: {detail}")
        }
        AttemptResult::Transport(t) => t.clone(),
        AttemptResult::Refused(r) => r.clone(),
        AttemptResult::NoSrv(r) => r.clone(),
    }
}

/// What to do about an Autodiscover error code, for the evidence's "Fix:".
fn pox_advice(code: &PoxErrorCode) -> &'static str {
    match code {
        PoxErrorCode::AddressNotFound => {
            "the address has no mailbox on this server: use the primary SMTP address of a mailbox on the source"
        }
        PoxErrorCode::NoConfiguration | PoxErrorCode::ConfigurationError => {
            "the mailbox's settings are incomplete on the server: check the Outlook Anywhere and virtual \
             directory settings (Get-OutlookAnywhere, Get-WebServicesVirtualDirectory)"
        }
        PoxErrorCode::InvalidRequest | PoxErrorCode::SchemaNotAvailable => {
            "the server did not accept Outlook's request format: check that the Autodiscover virtual directory \
             is Exchange's and not another web application"
        }
        PoxErrorCode::InternalError => {
            "the server failed: check the Exchange event log and the MSExchangeAutodiscoverAppPool"
        }
        PoxErrorCode::Unknown(_) => "check the Exchange event log on the server",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::autodiscover::{Answered, Attempt, AuthPackage, PoxError, PoxProtocol, ProtocolType, Step};

    /// The verdict now, so that the tests read as a report and what it is judged.
    trait Judged {
        fn judged(&self) -> CheckResult;
    }

    impl Judged for AutodiscoverReport {
        fn judged(&self) -> CheckResult {
            check(self, Utc::now())
        }
    }

    fn settings_with(expr: Option<PoxProtocol>) -> PoxSettings {
        PoxSettings { protocols: expr.into_iter().collect(), ..Default::default() }
    }

    fn expr(auth: Option<AuthPackage>, ssl: Option<bool>) -> PoxProtocol {
        PoxProtocol {
            kind: ProtocolType::Expr,
            server: Some("mail.contoso.com".into()),
            server_dn: None,
            server_version: None,
            auth_package: auth,
            ssl,
            ews_url: Some("https://mail.contoso.com/EWS/Exchange.asmx".into()),
            as_url: None,
            oab_url: None,
            cert_principal_name: None,
        }
    }

    fn report(attempts: Vec<Attempt>, answer: Option<PoxSettings>) -> AutodiscoverReport {
        AutodiscoverReport {
            email: "admin@contoso.com".into(),
            credentials_given: true,
            answer: answer.map(|settings| Answered {
                step: Step::AutodiscoverHost,
                url: "https://autodiscover.contoso.com/autodiscover/autodiscover.xml".into(),
                email: "admin@contoso.com".into(),
                settings,
            }),
            attempts,
        }
    }

    fn attempt(step: Step, result: AttemptResult) -> Attempt {
        Attempt { step, method: "POST", url: format!("https://step{}/", step.number()), result }
    }

    #[test]
    fn pass_names_the_answering_step_and_the_earlier_ones() {
        let r = report(
            vec![
                attempt(Step::Domain, AttemptResult::Transport("could not connect (connection refused)".into())),
                attempt(Step::AutodiscoverHost, AttemptResult::Settings),
            ],
            Some(settings_with(Some(expr(Some(AuthPackage::Ntlm), Some(true))))),
        );
        let check = r.judged();
        assert_eq!(check.outcome, Outcome::Pass, "{}", check.evidence);
        assert!(check.evidence.contains("answered at step 2"), "{}", check.evidence);
        assert!(check.evidence.contains("1. POST https://step1/: could not connect"), "{}", check.evidence);
        assert!(check.evidence.contains("server mail.contoso.com, SSL on, authentication NTLM"), "{}", check.evidence);
        assert!(check.evidence.contains("SCP"), "{}", check.evidence);
    }

    #[test]
    fn missing_expr_fails_and_negotiate_warns() {
        let check = report(vec![], Some(settings_with(None))).judged();
        assert_eq!(check.outcome, Outcome::Fail);
        assert!(check.evidence.contains("Set-OutlookAnywhere"), "{}", check.evidence);
        let check = report(vec![], Some(settings_with(Some(expr(Some(AuthPackage::Negotiate), Some(true)))))).judged();
        assert_eq!(check.outcome, Outcome::Warn);
        assert!(check.evidence.contains("Basic or NTLM"), "{}", check.evidence);
    }

    #[test]
    fn nothing_answering_fails_with_the_fix() {
        let r = report(
            vec![
                attempt(Step::Domain, AttemptResult::Transport("x".into())),
                attempt(Step::AutodiscoverHost, AttemptResult::Transport("y".into())),
                attempt(Step::HttpRedirect, AttemptResult::NotAutodiscover { status: 404, detail: "z".into() }),
                attempt(Step::SrvRecord, AttemptResult::NoSrv("no SRV record".into())),
            ],
            None,
        );
        let check = r.judged();
        assert_eq!(check.outcome, Outcome::Fail);
        assert!(check.evidence.contains("autodiscover.contoso.com"), "{}", check.evidence);
        assert!(check.evidence.contains("4. POST https://step4/: no SRV record"), "{}", check.evidence);
    }

    #[test]
    fn refused_credentials_and_missing_credentials() {
        let refused = report(
            vec![attempt(
                Step::Domain,
                AttemptResult::AuthRequired {
                    schemes: vec![AuthScheme::Negotiate, AuthScheme::Ntlm],
                    with_credentials: true,
                },
            )],
            None,
        )
        .judged();
        assert_eq!(refused.outcome, Outcome::Fail);
        assert!(refused.evidence.contains("BasicAuthentication"), "{}", refused.evidence);
        let mut missing = report(
            vec![attempt(
                Step::Domain,
                AttemptResult::AuthRequired { schemes: vec![AuthScheme::Basic], with_credentials: false },
            )],
            None,
        );
        missing.credentials_given = false;
        assert_eq!(missing.judged().outcome, Outcome::Warn);
        let ntlm_only = report(
            vec![attempt(
                Step::Domain,
                AttemptResult::AuthRequired { schemes: vec![AuthScheme::Ntlm], with_credentials: false },
            )],
            None,
        )
        .judged();
        assert_eq!(ntlm_only.outcome, Outcome::Fail);
        assert!(ntlm_only.evidence.contains("does not offer Basic"), "{}", ntlm_only.evidence);
    }

    #[test]
    fn an_autodiscover_error_names_its_fix() {
        let error = PoxError {
            code: PoxErrorCode::AddressNotFound,
            message: Some("The email address can't be found.".into()),
            debug_data: None,
        };
        let mut r = report(vec![attempt(Step::Domain, AttemptResult::PoxError(error))], None);
        r.email = "nobody@contoso.com".into();
        let c = check(&r, Utc::now());
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(c.evidence.contains("answered with error 500 for nobody@contoso.com"), "{}", c.evidence);
        assert!(c.evidence.contains("primary SMTP"), "{}", c.evidence);
    }
}
