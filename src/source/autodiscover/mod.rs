//! Autodiscover, tried in the order Exchange clients use from outside the organisation (the Active Directory
//! SCP lookup that domain-joined Outlook tries first is out of scope: the migration service comes from the
//! internet): POST to `https://<domain>/autodiscover/autodiscover.xml`, then to
//! `https://autodiscover.<domain>/...`, then the HTTP redirect method (GET on `http://autodiscover.<domain>/...`,
//! following a 302 to an https URL only), then the `_autodiscover._tcp.<domain>` SRV record. Redirects
//! (302, `redirectUrl`, `redirectAddr`) are followed up to ten times, to https URLs only.

pub mod pox;

use reqwest::{StatusCode, Url};

use super::net::{self, AuthScheme};
use super::{Credentials, SourceError, SourceTarget};
use crate::dns::{RecordKind, RecordValue};
pub use pox::{AuthPackage, PoxError, PoxErrorCode, PoxProtocol, PoxResponse, PoxSettings, ProtocolType};

const PATH: &str = "/autodiscover/autodiscover.xml";
/// Microsoft's advice: a client stops after ten redirects.
const MAX_REDIRECTS: usize = 10;

/// The four lookups, in Exchange's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Step {
    /// POST to `https://<domain>/autodiscover/autodiscover.xml`
    Domain,
    /// POST to `https://autodiscover.<domain>/autodiscover/autodiscover.xml`
    AutodiscoverHost,
    /// GET `http://autodiscover.<domain>/autodiscover/autodiscover.xml`, then POST where a 302 points
    HttpRedirect,
    /// The `_autodiscover._tcp.<domain>` SRV record, then POST to its target
    SrvRecord,
}

impl Step {
    pub fn number(self) -> u8 {
        match self {
            Step::Domain => 1,
            Step::AutodiscoverHost => 2,
            Step::HttpRedirect => 3,
            Step::SrvRecord => 4,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Step::Domain => "POST to the email domain",
            Step::AutodiscoverHost => "POST to autodiscover.<domain>",
            Step::HttpRedirect => "HTTP redirect method",
            Step::SrvRecord => "SRV record _autodiscover._tcp",
        }
    }
}

/// What one request of the sequence got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    Settings,
    /// A 302 or a `redirectUrl` answer, followed.
    Redirected {
        to: String,
    },
    RedirectAddr {
        to: String,
    },
    /// 401: the server wants credentials (`with_credentials`: they were sent and refused).
    AuthRequired {
        schemes: Vec<AuthScheme>,
        with_credentials: bool,
    },
    PoxError(PoxError),
    /// An HTTP answer that is not an Autodiscover answer (a 404, a web site's home page, ...).
    NotAutodiscover {
        status: u16,
        detail: String,
    },
    /// Connection, TLS or name resolution failure.
    Transport(String),
    /// A redirect this client refuses to follow (not https, or too many).
    Refused(String),
    /// The SRV record is missing or its lookup failed.
    NoSrv(String),
}

/// One request and what it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub step: Step,
    pub method: &'static str,
    pub url: String,
    pub result: AttemptResult,
}

/// The settings and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub step: Step,
    pub url: String,
    pub email: String,
    pub settings: PoxSettings,
}

/// Everything the Autodiscover sequence did, and the settings if it got them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutodiscoverReport {
    pub email: String,
    /// Whether the caller gave credentials (they are sent only where a server asks for Basic).
    pub credentials_given: bool,
    pub attempts: Vec<Attempt>,
    pub answer: Option<Answered>,
}

impl AutodiscoverReport {
    pub fn settings(&self) -> Option<&PoxSettings> {
        self.answer.as_ref().map(|a| &a.settings)
    }

    /// The Outlook Anywhere host the answer gives, for the certificate and Outlook Anywhere checks.
    pub fn outlook_anywhere_host(&self) -> Option<&str> {
        self.settings()?.outlook_anywhere()?.server.as_deref()
    }
}

/// Runs the Autodiscover sequence for `email` (a mailbox on the source; the migration account's own address
/// does) against `target`. With `credentials`, requests carry Basic authentication, as Exchange requires for the
/// settings. Errors only for bad input; what the server did is in the report.
pub async fn autodiscover(
    target: &SourceTarget,
    email: &str,
    credentials: Option<Credentials<'_>>,
) -> Result<AutodiscoverReport, SourceError> {
    let mut email = valid_email(email)?;
    let client = net::http_client(target)?;
    let mut flow = Flow { client, target, credentials, attempts: Vec::new(), redirects: 0 };
    let mut answer = None;
    loop {
        let domain = email.rsplit('@').next().unwrap_or_default().to_owned();
        match flow.run(&domain, &email).await {
            End::Settings(found) => {
                answer = Some(found);
                break;
            }
            End::RedirectAddr(to) => {
                flow.redirects += 1;
                match valid_email(&to) {
                    Ok(next) if flow.redirects <= MAX_REDIRECTS && next != email => email = next,
                    _ => break,
                }
            }
            End::Stop | End::Next => break,
        }
    }
    Ok(AutodiscoverReport { email, credentials_given: credentials.is_some(), attempts: flow.attempts, answer })
}

fn valid_email(email: &str) -> Result<String, SourceError> {
    let invalid = || SourceError::InvalidEmail { input: email.to_owned() };
    let (local, domain) = email.trim().rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty() || local.chars().any(|c| c.is_whitespace() || c == '<' || c == '>') {
        return Err(invalid());
    }
    let domain = super::valid_host(domain).map_err(|_| invalid())?;
    Ok(format!("{local}@{domain}"))
}

enum End {
    Settings(Answered),
    RedirectAddr(String),
    /// The server answered with an error: a real answer, so the lookup stops there.
    Stop,
    /// Nothing usable: go on with the next step.
    Next,
}

struct Flow<'a> {
    client: reqwest::Client,
    target: &'a SourceTarget,
    credentials: Option<Credentials<'a>>,
    attempts: Vec<Attempt>,
    redirects: usize,
}

impl Flow<'_> {
    async fn run(&mut self, domain: &str, email: &str) -> End {
        let url = self.target.https_url(domain, PATH);
        match self.post_chain(Step::Domain, url, email).await {
            End::Next => {}
            other => return other,
        }
        let host = format!("autodiscover.{domain}");
        let url = self.target.https_url(&host, PATH);
        match self.post_chain(Step::AutodiscoverHost, url, email).await {
            End::Next => {}
            other => return other,
        }
        match self.redirect_method(&host, email).await {
            End::Next => {}
            other => return other,
        }
        self.srv(domain, email).await
    }

    fn record(&mut self, step: Step, method: &'static str, url: &str, result: AttemptResult) {
        self.attempts.push(Attempt { step, method, url: url.to_owned(), result });
    }

    /// An https URL from a redirect, with the port override applied; None (and an attempt recorded) if refused.
    fn follow(&mut self, step: Step, from: &str, to: &str) -> Option<String> {
        self.redirects += 1;
        if self.redirects > MAX_REDIRECTS {
            self.record(
                step,
                "POST",
                from,
                AttemptResult::Refused(format!("more than {MAX_REDIRECTS} redirects; stopped")),
            );
            return None;
        }
        let mut url = match Url::parse(to) {
            Ok(url) if url.scheme() == "https" && url.host_str().is_some() => url,
            _ => {
                self.record(
                    step,
                    "POST",
                    from,
                    AttemptResult::Refused(format!("redirect to {to} refused: only https:// URLs are followed")),
                );
                return None;
            }
        };
        let port = self.target.https_port_for(url.port());
        if url.set_port(if port == 443 { None } else { Some(port) }).is_err() {
            return None;
        }
        Some(url.to_string())
    }

    /// POSTs the request to `url`, following 302s and `redirectUrl` answers. The first request to a URL goes
    /// without credentials; they are sent only when that server asks for them (401) and offers Basic, so that
    /// the migration account's password never goes to a host that did not ask for it.
    async fn post_chain(&mut self, step: Step, mut url: String, email: &str) -> End {
        let body = pox::request_body(email);
        let mut signed = false;
        loop {
            let mut request = self
                .client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
                .body(body.clone());
            if signed && let Some(c) = self.credentials {
                request = request.basic_auth(c.user, Some(c.password()));
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    self.record(step, "POST", &url, AttemptResult::Transport(net::describe_error(&e)));
                    return End::Next;
                }
            };
            let status = response.status();
            tracing::debug!(step = step.number(), method = "POST", %url, status = status.as_u16(), signed, "autodiscover");
            if status == StatusCode::UNAUTHORIZED {
                let schemes = net::auth_schemes(response.headers());
                if !signed && self.credentials.is_some() && schemes.contains(&AuthScheme::Basic) {
                    signed = true;
                    continue;
                }
                let with_credentials = signed;
                self.record(step, "POST", &url, AttemptResult::AuthRequired { schemes, with_credentials });
                return End::Next;
            }
            // A redirect or another URL starts again without credentials.
            signed = false;
            if status.is_redirection() {
                let location = location(&response);
                let Some(location) = location else {
                    self.record(
                        step,
                        "POST",
                        &url,
                        AttemptResult::NotAutodiscover {
                            status: status.as_u16(),
                            detail: "a redirect without a Location header".to_owned(),
                        },
                    );
                    return End::Next;
                };
                self.record(step, "POST", &url, AttemptResult::Redirected { to: location.clone() });
                match self.follow(step, &url, &location) {
                    Some(next) => {
                        url = next;
                        continue;
                    }
                    None => return End::Next,
                }
            }
            let text = match net::read_body(response).await {
                Ok(t) => t,
                Err(e) => {
                    self.record(step, "POST", &url, AttemptResult::Transport(e));
                    return End::Next;
                }
            };
            if !status.is_success() {
                self.record(
                    step,
                    "POST",
                    &url,
                    AttemptResult::NotAutodiscover {
                        status: status.as_u16(),
                        detail: status.canonical_reason().unwrap_or("unexpected status").to_owned(),
                    },
                );
                return End::Next;
            }
            match pox::parse(&text) {
                Ok(PoxResponse::Settings(settings)) => {
                    self.record(step, "POST", &url, AttemptResult::Settings);
                    return End::Settings(Answered { step, url, email: email.to_owned(), settings });
                }
                Ok(PoxResponse::RedirectAddr(to)) => {
                    self.record(step, "POST", &url, AttemptResult::RedirectAddr { to: to.clone() });
                    return End::RedirectAddr(to);
                }
                Ok(PoxResponse::RedirectUrl(to)) => {
                    self.record(step, "POST", &url, AttemptResult::Redirected { to: to.clone() });
                    match self.follow(step, &url, &to) {
                        Some(next) => url = next,
                        None => return End::Next,
                    }
                }
                Ok(PoxResponse::Error(e)) => {
                    self.record(step, "POST", &url, AttemptResult::PoxError(e));
                    return End::Stop;
                }
                Err(e) => {
                    self.record(
                        step,
                        "POST",
                        &url,
                        AttemptResult::NotAutodiscover { status: status.as_u16(), detail: e.to_string() },
                    );
                    return End::Next;
                }
            }
        }
    }

    /// The HTTP redirect method: a plain-HTTP GET whose only useful answer is a 302 to an https URL.
    async fn redirect_method(&mut self, host: &str, email: &str) -> End {
        let step = Step::HttpRedirect;
        let port = self.target.http_port();
        let url = if port == 80 { format!("http://{host}{PATH}") } else { format!("http://{host}:{port}{PATH}") };
        let response = match self.client.get(&url).send().await {
            Ok(r) => r,
            Err(e) => {
                self.record(step, "GET", &url, AttemptResult::Transport(net::describe_error(&e)));
                return End::Next;
            }
        };
        let status = response.status();
        tracing::debug!(step = step.number(), method = "GET", %url, status = status.as_u16(), "autodiscover");
        if status != StatusCode::FOUND {
            self.record(
                step,
                "GET",
                &url,
                AttemptResult::NotAutodiscover {
                    status: status.as_u16(),
                    detail: "the redirect method expects a 302 to an https URL".to_owned(),
                },
            );
            return End::Next;
        }
        let Some(to) = location(&response) else {
            self.record(
                step,
                "GET",
                &url,
                AttemptResult::NotAutodiscover {
                    status: 302,
                    detail: "a redirect without a Location header".to_owned(),
                },
            );
            return End::Next;
        };
        self.record(step, "GET", &url, AttemptResult::Redirected { to: to.clone() });
        match self.follow(step, &url, &to) {
            Some(next) => self.post_chain(step, next, email).await,
            None => End::Next,
        }
    }

    /// The SRV record: its targets in priority order (then heaviest weight first).
    async fn srv(&mut self, domain: &str, email: &str) -> End {
        let step = Step::SrvRecord;
        let name = format!("_autodiscover._tcp.{domain}");
        let resolver = match net::record_resolver(self.target) {
            Ok(r) => r,
            Err(e) => {
                self.record(step, "SRV", &name, AttemptResult::NoSrv(e.to_string()));
                return End::Next;
            }
        };
        let mut records: Vec<(u16, u16, u16, String)> = match resolver.query(&name, RecordKind::Srv).await {
            Ok(records) => records
                .into_iter()
                .filter_map(|r| match r.value {
                    RecordValue::Srv { priority, weight, port, target } => Some((priority, weight, port, target)),
                    _ => None,
                })
                .collect(),
            Err(crate::dns::DnsError::NxDomain { .. }) => Vec::new(),
            Err(e) => {
                self.record(step, "SRV", &name, AttemptResult::NoSrv(format!("lookup failed: {e}")));
                return End::Next;
            }
        };
        if records.is_empty() {
            self.record(step, "SRV", &name, AttemptResult::NoSrv("no SRV record".to_owned()));
            return End::Next;
        }
        records.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        for (_, _, port, host) in records {
            if host.is_empty() {
                continue;
            }
            let port = self.target.https_port_for(Some(port));
            let url =
                if port == 443 { format!("https://{host}{PATH}") } else { format!("https://{host}:{port}{PATH}") };
            self.record(step, "SRV", &name, AttemptResult::Redirected { to: url.clone() });
            match self.post_chain(step, url, email).await {
                End::Next => continue,
                other => return other,
            }
        }
        End::Next
    }
}

fn location(response: &reqwest::Response) -> Option<String> {
    let value = response.headers().get(reqwest::header::LOCATION)?.to_str().ok()?;
    // A relative Location is resolved against the request URL.
    response.url().join(value).ok().map(|u| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_validated() {
        assert_eq!(valid_email(" Admin@Contoso.COM ").unwrap(), "Admin@contoso.com");
        assert!(valid_email("admin").is_err());
        assert!(valid_email("@contoso.com").is_err());
        assert!(valid_email("a b@contoso.com").is_err());
        assert!(valid_email("admin@contoso..com").is_err());
    }
}
