//! Outlook Anywhere (RPC over HTTP) reachability: an unauthenticated `RPC_IN_DATA` (then `GET` if the method is
//! refused) to `/rpc/rpcproxy.dll`, which a working RPC proxy answers with 401 and the authentication methods it
//! accepts. The migration service signs in with Basic or NTLM; Negotiate alone is not enough.

use chrono::Utc;
use reqwest::{Method, StatusCode};

use super::net::{self, AuthScheme, list_schemes};
use super::{SourceError, SourceTarget, valid_host};
use crate::plan::{CheckResult, Outcome};

const PATH: &str = "/rpc/rpcproxy.dll";

/// What one probe got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeResult {
    Status { status: u16, schemes: Vec<AuthScheme> },
    Transport(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub method: String,
    pub result: ProbeResult,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlookAnywhereReport {
    pub host: String,
    pub url: String,
    pub probes: Vec<Probe>,
}

/// Probes the RPC proxy on `host` (the Outlook Anywhere external host name, from Autodiscover's EXPR settings or
/// given by the engineer).
pub async fn outlook_anywhere(target: &SourceTarget, host: &str) -> Result<OutlookAnywhereReport, SourceError> {
    let host = valid_host(host)?;
    let client = net::http_client(target)?;
    let url = target.https_url(&host, PATH);
    let mut probes = Vec::new();
    let rpc_in_data = Method::from_bytes(b"RPC_IN_DATA").map_err(|e| SourceError::HttpClient(e.to_string()))?;
    for method in [rpc_in_data, Method::GET] {
        let result =
            match client.request(method.clone(), &url).header(reqwest::header::CONTENT_LENGTH, "0").send().await {
                Ok(response) => ProbeResult::Status {
                    status: response.status().as_u16(),
                    schemes: net::auth_schemes(response.headers()),
                },
                Err(e) => ProbeResult::Transport(net::describe_error(&e)),
            };
        tracing::debug!(%method, %url, result = ?result, "outlook anywhere probe");
        // Only a refused method is worth a second try; a transport failure or an answer is the finding.
        let retry = matches!(result, ProbeResult::Status { status: 400 | 405 | 501, .. });
        probes.push(Probe { method: method.to_string(), result });
        if !retry {
            break;
        }
    }
    Ok(OutlookAnywhereReport { host, url, probes })
}

impl OutlookAnywhereReport {
    /// The check of stage 2 ("Outlook Anywhere reachable with an auth method the migration service accepts").
    pub fn to_check(&self) -> CheckResult {
        let mut lines: Vec<String> = self
            .probes
            .iter()
            .map(|p| match &p.result {
                ProbeResult::Status { status, schemes } => format!(
                    "{} {}: HTTP {status}{}",
                    p.method,
                    self.url,
                    if schemes.is_empty() { String::new() } else { format!(", offers {}", list_schemes(schemes)) }
                ),
                ProbeResult::Transport(e) => format!("{} {}: {e}", p.method, self.url),
            })
            .collect();
        let fix_auth = "Fix: Set-OutlookAnywhere -Identity \"<server>\\Rpc (Default Web Site)\" \
                        -ExternalClientAuthenticationMethod Ntlm -IISAuthenticationMethods Basic,Ntlm,Negotiate \
                        (Exchange 2010: -ClientAuthenticationMethod Ntlm -IISAuthenticationMethods Basic,NTLM), \
                        then restart IIS.";
        let (outcome, verdict) = match self.probes.last().map(|p| &p.result) {
            None => (Outcome::NotRun, "Outlook Anywhere was not probed.".to_owned()),
            Some(ProbeResult::Transport(e)) => (
                Outcome::Fail,
                format!(
                    "Outlook Anywhere at {} cannot be reached: {e}. {}",
                    self.host,
                    net::transport_fix(e, &self.host)
                ),
            ),
            Some(ProbeResult::Status { status, schemes }) => match StatusCode::from_u16(*status) {
                Ok(StatusCode::UNAUTHORIZED) => {
                    let usable: Vec<AuthScheme> =
                        schemes.iter().filter(|s| s.accepted_by_migration_service()).cloned().collect();
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
                Ok(StatusCode::NOT_FOUND) => (
                    Outcome::Fail,
                    "The RPC proxy is not published (404): Outlook Anywhere is disabled or the RPC over HTTP Proxy \
                     feature is missing. Fix: install the RPC over HTTP Proxy Windows feature (Exchange 2010) and \
                     enable Outlook Anywhere with an external host name (Enable-OutlookAnywhere on 2010, \
                     Set-OutlookAnywhere -ExternalHostname on 2013 and later)."
                        .to_owned(),
                ),
                Ok(StatusCode::FORBIDDEN) => (
                    Outcome::Fail,
                    "The RPC proxy refuses the connection (403): check the IP restrictions and the SSL settings of \
                     the /rpc virtual directory in IIS."
                        .to_owned(),
                ),
                Ok(s) if s.is_success() => (
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
        CheckResult::new(outcome, lines.join("\n"), Utc::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: u16, schemes: Vec<AuthScheme>) -> OutlookAnywhereReport {
        OutlookAnywhereReport {
            host: "mail.contoso.com".into(),
            url: "https://mail.contoso.com/rpc/rpcproxy.dll".into(),
            probes: vec![Probe { method: "RPC_IN_DATA".into(), result: ProbeResult::Status { status, schemes } }],
        }
    }

    #[test]
    fn verdicts() {
        let ok = report(401, vec![AuthScheme::Negotiate, AuthScheme::Ntlm]).to_check();
        assert_eq!(ok.outcome, Outcome::Pass, "{}", ok.evidence);
        assert!(ok.evidence.contains("offers Negotiate, NTLM"), "{}", ok.evidence);
        let nego = report(401, vec![AuthScheme::Negotiate]).to_check();
        assert_eq!(nego.outcome, Outcome::Fail);
        assert!(nego.evidence.contains("-ExternalClientAuthenticationMethod Ntlm"), "{}", nego.evidence);
        assert_eq!(report(404, vec![]).to_check().outcome, Outcome::Fail);
        assert_eq!(report(200, vec![]).to_check().outcome, Outcome::Warn);
        let down = OutlookAnywhereReport {
            probes: vec![Probe {
                method: "RPC_IN_DATA".into(),
                result: ProbeResult::Transport("TLS handshake failed".into()),
            }],
            ..report(0, vec![])
        }
        .to_check();
        assert_eq!(down.outcome, Outcome::Fail);
        assert!(down.evidence.contains("TLS handshake failed"), "{}", down.evidence);
    }
}
