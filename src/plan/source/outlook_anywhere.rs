//! Stage 2's Outlook Anywhere check: the verdict on what the RPC proxy answered an unauthenticated probe, and
//! the fix for each answer. The facts come from `source::outlook_anywhere`.

use chrono::{DateTime, Utc};

use super::server::{list_schemes, scheme_accepted, transport_fix};
use crate::plan::{CheckResult, Outcome};
use crate::source::AuthScheme;
use crate::source::outlook_anywhere::{OutlookAnywhereReport, ProbeResult};

/// Stage 2's `outlook-anywhere` check ("Outlook Anywhere reachable with an auth method the migration service
/// accepts"), judged on the last probe: a working RPC proxy asks for credentials (401).
pub fn check(report: &OutlookAnywhereReport, now: DateTime<Utc>) -> CheckResult {
    let mut lines: Vec<String> = report
        .probes
        .iter()
        .map(|p| match &p.result {
            ProbeResult::Status { status, schemes } => format!(
                "{} {}: HTTP {status}{}",
                p.method,
                report.url,
                if schemes.is_empty() { String::new() } else { format!(", offers {}", list_schemes(schemes)) }
            ),
            ProbeResult::Transport(e) => format!("{} {}: {e}", p.method, report.url),
        })
        .collect();
    let fix_auth = "Fix: Set-OutlookAnywhere -Identity \"<server>\\Rpc (Default Web Site)\" \
                    -ExternalClientAuthenticationMethod Ntlm -IISAuthenticationMethods Basic,Ntlm,Negotiate \
                    (Exchange 2010: -ClientAuthenticationMethod Ntlm -IISAuthenticationMethods Basic,NTLM), \
                    then restart IIS.";
    let (outcome, verdict) = match report.probes.last().map(|p| &p.result) {
        None => (Outcome::NotRun, "Outlook Anywhere was not probed.".to_owned()),
        Some(ProbeResult::Transport(e)) => (
            Outcome::Fail,
            format!("Outlook Anywhere at {} cannot be reached: {e}. {}", report.host, transport_fix(e, &report.host)),
        ),
        Some(ProbeResult::Status { status, schemes }) => match *status {
            401 => {
                let usable: Vec<AuthScheme> = schemes.iter().filter(|s| scheme_accepted(s)).cloned().collect();
                if usable.is_empty() {
                    (
                        Outcome::Fail,
                        format!(
                            "The RPC proxy answers but offers only {}; the migration service needs Basic or \
                             NTLM. {fix_auth}",
                            list_schemes(schemes)
                        ),
                    )
                } else {
                    (
                        Outcome::Pass,
                        format!(
                            "The RPC proxy answers and offers {}, which the migration service accepts.",
                            list_schemes(&usable)
                        ),
                    )
                }
            }
            404 => (
                Outcome::Fail,
                "The RPC proxy is not published (404): Outlook Anywhere is disabled or the RPC over HTTP Proxy \
                 feature is missing. Fix: install the RPC over HTTP Proxy Windows feature (Exchange 2010) and \
                 enable Outlook Anywhere with an external host name (Enable-OutlookAnywhere on 2010, \
                 Set-OutlookAnywhere -ExternalHostname on 2013 and later)."
                    .to_owned(),
            ),
            403 => (
                Outcome::Fail,
                "The RPC proxy refuses the connection (403): check the IP restrictions and the SSL settings of \
                 the /rpc virtual directory in IIS."
                    .to_owned(),
            ),
            200..=299 => (
                Outcome::Warn,
                format!(
                    "The RPC proxy answered {status} without asking for credentials; the migration service \
                     authenticates with Basic or NTLM. Check the authentication of the /rpc virtual directory. \
                     {fix_auth}"
                ),
            ),
            _ => (
                Outcome::Fail,
                format!(
                    "The RPC proxy answered HTTP {status} instead of asking for credentials (401). Check the \
                     /rpc virtual directory and the MSExchangeRpcProxyAppPool on the server."
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
    use crate::source::outlook_anywhere::Probe;

    fn report(status: u16, schemes: Vec<AuthScheme>) -> OutlookAnywhereReport {
        OutlookAnywhereReport {
            host: "mail.contoso.com".into(),
            url: "https://mail.contoso.com/rpc/rpcproxy.dll".into(),
            probes: vec![Probe { method: "RPC_IN_DATA".into(), result: ProbeResult::Status { status, schemes } }],
        }
    }

    #[test]
    fn verdicts() {
        let ok = check(&report(401, vec![AuthScheme::Negotiate, AuthScheme::Ntlm]), Utc::now());
        assert_eq!(ok.outcome, Outcome::Pass, "{}", ok.evidence);
        assert!(ok.evidence.contains("offers Negotiate, NTLM"), "{}", ok.evidence);
        let nego = check(&report(401, vec![AuthScheme::Negotiate]), Utc::now());
        assert_eq!(nego.outcome, Outcome::Fail);
        assert!(nego.evidence.contains("-ExternalClientAuthenticationMethod Ntlm"), "{}", nego.evidence);
        assert_eq!(check(&report(404, vec![]), Utc::now()).outcome, Outcome::Fail);
        assert_eq!(check(&report(200, vec![]), Utc::now()).outcome, Outcome::Warn);
        let down = OutlookAnywhereReport {
            probes: vec![Probe {
                method: "RPC_IN_DATA".into(),
                result: ProbeResult::Transport("TLS handshake failed".into()),
            }],
            ..report(0, vec![])
        };
        let down = check(&down, Utc::now());
        assert_eq!(down.outcome, Outcome::Fail);
        assert!(down.evidence.contains("TLS handshake failed"), "{}", down.evidence);
    }
}
