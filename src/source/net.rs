//! Reaching the source server: the HTTPS client (name resolution through the target's DNS servers, extra trusted
//! CAs, no automatic redirects), plain-language descriptions of transport failures, and the parsing of
//! `WWW-Authenticate` challenges.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{SourceError, SourceTarget};
use crate::dns::Resolver;

/// reqwest's name resolution through a chosen [`Resolver`] (hickory), so that the source's names resolve the
/// way the target says (the simulator's DNS responder in tests) without touching `/etc/hosts`.
struct HickoryResolve(Resolver);

impl Resolve for HickoryResolve {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let ips = resolver.addresses(&host).await?;
            if ips.is_empty() {
                return Err(Box::new(NoAddress(host)) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0))) as Addrs)
        })
    }
}

#[derive(Debug)]
struct NoAddress(String);

impl fmt::Display for NoAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} has no A or AAAA record", self.0)
    }
}

impl StdError for NoAddress {}

/// The resolver for the target's DNS servers, or None for the system's.
pub(crate) fn target_resolver(target: &SourceTarget) -> Result<Option<Resolver>, SourceError> {
    if target.dns_servers().is_empty() {
        return Ok(None);
    }
    Ok(Some(Resolver::at(
        format!("DNS {}", target.dns_servers().iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
        target.dns_servers(),
    )?))
}

/// The resolver for DNS record queries (SRV): the target's servers, else the system's.
pub(crate) fn record_resolver(target: &SourceTarget) -> Result<Resolver, SourceError> {
    Ok(match target_resolver(target)? {
        Some(r) => r,
        None => Resolver::system()?,
    })
}

/// The addresses of `host`, through the target's resolver or the system's.
pub(crate) async fn lookup_host(target: &SourceTarget, host: &str) -> Result<Vec<IpAddr>, String> {
    match target_resolver(target).map_err(|e| e.to_string())? {
        Some(resolver) => resolver.addresses(host).await.map_err(|e| e.to_string()),
        None => tokio::net::lookup_host((host, 0))
            .await
            .map(|addrs| addrs.map(|a| a.ip()).collect())
            .map_err(|e| format!("{host} did not resolve: {e}")),
    }
}

/// The HTTPS client for the source: the target's resolver and extra CAs, the target's timeout, and no
/// automatic redirects (Autodiscover decides which redirects to follow).
pub(crate) fn http_client(target: &SourceTarget) -> Result<reqwest::Client, SourceError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(target.timeout())
        .connect_timeout(target.timeout().min(std::time::Duration::from_secs(10)))
        .user_agent(concat!("cutover/", env!("CARGO_PKG_VERSION")));
    if !target.extra_roots().is_empty() {
        let certs = target
            .extra_roots()
            .iter()
            .map(|der| reqwest::Certificate::from_der(der.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SourceError::HttpClient(e.to_string()))?;
        builder = builder.tls_certs_merge(certs);
    }
    if let Some(resolver) = target_resolver(target)? {
        builder = builder.dns_resolver(Arc::new(HickoryResolve(resolver)));
    }
    builder.build().map_err(|e| SourceError::HttpClient(e.to_string()))
}

/// The most of a body this client reads: Autodiscover and EWS answers are a few kilobytes; anything far
/// larger is not the server expected, and is not read into memory.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// Reads a body as text, up to [`MAX_BODY`]. Errors are described for the evidence.
pub(crate) async fn read_body(mut response: reqwest::Response) -> Result<String, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(format!(
                        "the answer is larger than {} KiB, which no Exchange answer is",
                        MAX_BODY / 1024
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(format!("the answer was cut off: {}", describe_error(&e))),
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// A transport failure in words an engineer acts on: which layer failed, and the underlying cause.
pub(crate) fn describe_error(e: &reqwest::Error) -> String {
    let mut chain = Vec::new();
    let mut cause: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(c) = cause {
        if let Some(tls) = find_rustls(c) {
            return format!("{TLS_FAILED}: {}", describe_tls_error(tls));
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            )
        {
            return format!("the connection was cut before the answer was complete ({io})");
        }
        chain.push(c.to_string());
        cause = c.source();
    }
    let detail = chain.last().cloned().unwrap_or_else(|| e.to_string());
    if e.is_timeout() {
        format!("no answer in time ({detail})")
    } else if e.is_connect() {
        format!("could not connect ({detail})")
    } else {
        detail
    }
}

/// The rustls error inside `e`, looking through I/O errors that wrap one another (hyper wraps tokio-rustls's).
fn find_rustls<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let io = e.downcast_ref::<std::io::Error>()?;
    let inner: &(dyn StdError + 'static) = io.get_ref()?;
    find_rustls(inner)
}

/// The prefix of a transport failure caused by the certificate, so that advice can point at the certificate.
pub const TLS_FAILED: &str = "TLS handshake failed";

pub(crate) fn describe_tls_error(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".to_owned(),
            C::NotValidYet | C::NotValidYetContext { .. } => "the server's certificate is not valid yet".to_owned(),
            C::UnknownIssuer => {
                "the server's certificate is not issued by a trusted CA (self-signed or private CA)".to_owned()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's certificate does not cover this host name".to_owned()
            }
            C::Revoked => "the server's certificate is revoked".to_owned(),
            other => format!("the server's certificate was refused ({other:?})"),
        },
        other => other.to_string(),
    }
}

/// One authentication scheme a server offers in `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum AuthScheme {
    Basic,
    Ntlm,
    Negotiate,
    Kerberos,
    Bearer,
    Unknown(String),
}

impl AuthScheme {
    fn from_token(token: &str) -> Self {
        match token.to_ascii_lowercase().as_str() {
            "basic" => AuthScheme::Basic,
            "ntlm" => AuthScheme::Ntlm,
            "negotiate" => AuthScheme::Negotiate,
            "kerberos" => AuthScheme::Kerberos,
            "bearer" => AuthScheme::Bearer,
            _ => AuthScheme::Unknown(token.to_owned()),
        }
    }
}

impl fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthScheme::Basic => f.write_str("Basic"),
            AuthScheme::Ntlm => f.write_str("NTLM"),
            AuthScheme::Negotiate => f.write_str("Negotiate"),
            AuthScheme::Kerberos => f.write_str("Kerberos"),
            AuthScheme::Bearer => f.write_str("Bearer"),
            AuthScheme::Unknown(s) => f.write_str(s),
        }
    }
}

/// The schemes offered by all `WWW-Authenticate` headers of a response, in order, without repeats. A header may
/// carry several challenges separated by commas (`Negotiate, NTLM, Basic realm="mail.contoso.com"`): a comma
/// starts a new challenge unless what follows is an `name=value` parameter of the previous one.
pub(crate) fn auth_schemes(headers: &reqwest::header::HeaderMap) -> Vec<AuthScheme> {
    let mut out = Vec::new();
    for value in headers.get_all(reqwest::header::WWW_AUTHENTICATE) {
        let Ok(text) = value.to_str() else { continue };
        for scheme in parse_challenges(text) {
            if !out.contains(&scheme) {
                out.push(scheme);
            }
        }
    }
    out
}

pub(crate) fn parse_challenges(text: &str) -> Vec<AuthScheme> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == ',' && !quoted {
            parts.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
    }
    parts.push(current);
    let mut out = Vec::new();
    for part in parts {
        let part = part.trim();
        let Some(first) = part.split_whitespace().next() else { continue };
        // "realm=..." after a comma is a parameter of the previous challenge, not a scheme.
        if first.contains('=') {
            continue;
        }
        let scheme = AuthScheme::from_token(first);
        if !out.contains(&scheme) {
            out.push(scheme);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_split_on_commas_but_keep_parameters() {
        assert_eq!(
            parse_challenges(r#"Negotiate, NTLM, Basic realm="mail.contoso.com""#),
            vec![AuthScheme::Negotiate, AuthScheme::Ntlm, AuthScheme::Basic]
        );
        assert_eq!(
            parse_challenges(r#"Basic realm="a, b", charset="UTF-8", NTLM"#),
            vec![AuthScheme::Basic, AuthScheme::Ntlm]
        );
        assert_eq!(
            parse_challenges("Negotiate YIIG6gYJKoZIhvcSAQICAQBuggbZMIIG1aADAgEFoQMCAQ6iBwMFACAAAACjggU=")[0],
            AuthScheme::Negotiate
        );
        assert_eq!(parse_challenges("Bearer authorization_uri=\"x\"")[0], AuthScheme::Bearer);
        assert_eq!(parse_challenges("Digest realm=x"), vec![AuthScheme::Unknown("Digest".into())]);
        assert!(parse_challenges("").is_empty());
    }

    #[test]
    fn headers_are_merged() {
        let mut h = reqwest::header::HeaderMap::new();
        h.append(reqwest::header::WWW_AUTHENTICATE, "Negotiate".parse().unwrap());
        h.append(reqwest::header::WWW_AUTHENTICATE, "NTLM".parse().unwrap());
        h.append(reqwest::header::WWW_AUTHENTICATE, "negotiate".parse().unwrap());
        assert_eq!(auth_schemes(&h), vec![AuthScheme::Negotiate, AuthScheme::Ntlm]);
    }
}
