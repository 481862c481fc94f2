//! Stage 2's EWS check: the verdict on how EWS answered without and with the migration account's credentials,
//! and the server version it gave. The facts come from `source::ews`.

use chrono::{DateTime, Utc};

use super::server::{list_schemes, transport_fix};
use crate::plan::{CheckResult, Outcome};
use crate::source::ews::{EwsProbe, EwsReport, ResponseCode, SignedIn};

/// Stage 2's `ews` check ("EWS reachable", with the server version): EWS must ask for credentials, then accept
/// the migration account's and say which Exchange build answers.
pub fn check(report: &EwsReport, now: DateTime<Utc>) -> CheckResult {
    let mut lines = Vec::new();
    let anonymous_ok = match &report.anonymous {
        EwsProbe::Transport(e) => {
            lines.push(format!("POST {} without credentials: {e}", report.url));
            false
        }
        EwsProbe::Status { status, schemes } => {
            lines.push(format!(
                "POST {} without credentials: HTTP {status}{}",
                report.url,
                if schemes.is_empty() { String::new() } else { format!(", offers {}", list_schemes(schemes)) }
            ));
            *status == 401
        }
    };
    let (outcome, verdict) = match (&report.anonymous, &report.signed_in) {
        (EwsProbe::Transport(e), _) => {
            (Outcome::Fail, format!("EWS cannot be reached: {e}. {}", transport_fix(e, "/EWS")))
        }
        (EwsProbe::Status { status: 404, .. }, _) => (
            Outcome::Fail,
            "EWS is not published at this URL (404). Fix: check Get-WebServicesVirtualDirectory | fl \
             ExternalUrl and set it (Set-WebServicesVirtualDirectory -ExternalUrl)."
                .to_owned(),
        ),
        (_, SignedIn::NotTried) if anonymous_ok => (
            Outcome::Pass,
            "EWS answers and asks for credentials; give the migration account's credentials to read the server \
             version."
                .to_owned(),
        ),
        (_, SignedIn::NotTried) => (
            Outcome::Warn,
            "EWS answered without asking for credentials, which Exchange does not do: check that this URL is \
             Exchange's EWS and not another web application."
                .to_owned(),
        ),
        (_, SignedIn::Transport(e)) => (Outcome::Fail, format!("EWS failed during sign-in: {e}.")),
        (_, SignedIn::Refused { .. }) => (
            Outcome::Fail,
            "EWS refused the migration account's credentials. Fix: check the user name (DOMAIN\\user or UPN) \
             and the password, and that the account is not locked out."
                .to_owned(),
        ),
        (_, SignedIn::NoBasic { schemes }) => (
            Outcome::Fail,
            format!(
                "EWS offers {} but not Basic, which this check signs in with, so the server version was not \
                 read. Fix: Set-WebServicesVirtualDirectory -BasicAuthentication $true, or rely on \
                 Test-MigrationServerAvailability (NTLM) in stage 4.",
                list_schemes(schemes)
            ),
        ),
        (_, SignedIn::Answered { status, answer: Err(e) }) => (
            Outcome::Warn,
            format!("EWS signed the account in but its answer (HTTP {status}) is not an EWS answer: {e}."),
        ),
        (_, SignedIn::Answered { status, answer: Ok(a) }) => match a.build {
            Some(build) => {
                let code = a
                    .response_code
                    .as_ref()
                    .map(ToString::to_string)
                    .or(a.fault.clone())
                    .map(|c| format!("; GetFolder answered {c}"))
                    .unwrap_or_default();
                let note = if a.response_code == Some(ResponseCode::ErrorNonExistentMailbox) {
                    " (the migration account has no mailbox; the migration uses its FullAccess rights, so this \
                     is fine)"
                } else {
                    ""
                };
                (
                    Outcome::Pass,
                    format!(
                        "EWS answers and the migration account signed in (HTTP {status}). Server: {} ({build}{}){code}{note}.",
                        build.product(),
                        a.schema_version.as_deref().map(|v| format!(", schema {v}")).unwrap_or_default()
                    ),
                )
            }
            None => (
                Outcome::Warn,
                format!(
                    "EWS signed the account in (HTTP {status}) but gave no ServerVersionInfo{}.",
                    a.fault.as_deref().map(|f| format!("; fault: {f}")).unwrap_or_default()
                ),
            ),
        },
    };
    lines.insert(0, verdict);
    CheckResult::new(outcome, lines.join("\n"), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::AuthScheme;
    use crate::source::ews::SoapAnswer;
    use crate::source::version::ExchangeBuild;

    fn report(signed_in: SignedIn) -> EwsReport {
        EwsReport {
            url: "https://mail.contoso.com/EWS/Exchange.asmx".into(),
            anonymous: EwsProbe::Status { status: 401, schemes: vec![AuthScheme::Ntlm, AuthScheme::Basic] },
            signed_in,
        }
    }

    /// What `source::ews::parse_soap` reads from an Exchange answer (its own tests parse the XML).
    fn answer(build: ExchangeBuild, schema: &str, code: ResponseCode) -> Result<SoapAnswer, String> {
        Ok(SoapAnswer {
            build: Some(build),
            schema_version: Some(schema.into()),
            response_code: Some(code),
            fault: None,
        })
    }

    #[test]
    fn verdicts() {
        let answer_2016 = answer(ExchangeBuild::new(15, 1, 2507, Some(6)), "V2017_07_11", ResponseCode::NoError);
        let ok = check(&report(SignedIn::Answered { status: 200, answer: answer_2016 }), Utc::now());
        assert_eq!(ok.outcome, Outcome::Pass, "{}", ok.evidence);
        assert!(ok.evidence.contains("Exchange Server 2016 (15.1.2507.6"), "{}", ok.evidence);
        let answer_2010 =
            answer(ExchangeBuild::new(14, 3, 123, Some(4)), "Exchange2010_SP2", ResponseCode::ErrorNonExistentMailbox);
        let no_mailbox = check(&report(SignedIn::Answered { status: 200, answer: answer_2010 }), Utc::now());
        assert_eq!(no_mailbox.outcome, Outcome::Pass);
        assert!(no_mailbox.evidence.contains("has no mailbox"), "{}", no_mailbox.evidence);
        let refused = check(&report(SignedIn::Refused { schemes: vec![AuthScheme::Basic] }), Utc::now());
        assert_eq!(refused.outcome, Outcome::Fail);
        assert!(refused.evidence.contains("refused"), "{}", refused.evidence);
        let no_basic = check(&report(SignedIn::NoBasic { schemes: vec![AuthScheme::Negotiate] }), Utc::now());
        assert_eq!(no_basic.outcome, Outcome::Fail);
        assert!(no_basic.evidence.contains("BasicAuthentication"), "{}", no_basic.evidence);
        assert_eq!(check(&report(SignedIn::NotTried), Utc::now()).outcome, Outcome::Pass);
    }
}
