//! Outlook Anywhere (RPC over HTTP) reachability: an unauthenticated `RPC_IN_DATA` (then `GET` if the method is
//! refused) to `/rpc/rpcproxy.dll`, which a working RPC proxy answers with 401 and the authentication methods it
//! accepts. The migration service signs in with Basic or NTLM; Negotiate alone is not enough.

use reqwest::Method;

use super::net::{self, AuthScheme};
use super::{SourceError, SourceTarget, valid_host};

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
