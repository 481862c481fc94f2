//! The source Exchange server over HTTPS: Autodiscover POX (`/autodiscover/autodiscover.xml`) with the EXCH and
//! EXPR (Outlook Anywhere) settings, the RPC proxy (`/rpc/rpcproxy.dll`) answering 401 with the configured
//! auth methods, and EWS (`/EWS/Exchange.asmx`) answering a SOAP envelope with `ServerVersionInfo`.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use super::Shared;

pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/autodiscover/autodiscover.xml", any(autodiscover))
        .route("/Autodiscover/Autodiscover.xml", any(autodiscover))
        .route("/rpc/rpcproxy.dll", any(rpc_proxy))
        .route("/EWS/Exchange.asmx", any(ews))
        .route("/ews/exchange.asmx", any(ews))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), fault_layer))
        .with_state(shared)
}

async fn fault_layer(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let fault = shared.lock().faults.pick("source", req.uri().path(), None);
    super::faults::apply("source", fault, std::time::SystemTime::now(), req, next).await
}

/// Accepts TLS connections and serves the router on each, until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(config);
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("source server accept failed: {e}");
                    continue;
                }
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            // A failed handshake is what a client distrusting the certificate causes: nothing to report.
            let Ok(tls) = acceptor.accept(tcp).await else { return };
            let service = TowerToHyperService::new(app);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
        });
    }
}

/// Whether the request carries the migration account's Basic credentials (`DOMAIN\user`, `user` or a UPN).
fn authorised(shared: &Shared, headers: &HeaderMap) -> Option<bool> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    let admin = &shared.info.source.admin_user;
    let bare = admin.rsplit('\\').next().unwrap_or(admin);
    let user_ok = user.eq_ignore_ascii_case(admin)
        || user.eq_ignore_ascii_case(bare)
        || shared.info.email_domains.iter().any(|d| user.eq_ignore_ascii_case(&format!("{bare}@{d}")));
    Some(user_ok && password == shared.info.source.admin_password)
}

fn challenge(shared: &Shared, realm: &str, methods: &[String]) -> Response {
    let mut r =
        (StatusCode::UNAUTHORIZED, "401 - Unauthorized: Access is denied due to invalid credentials.").into_response();
    for m in methods {
        let value = match m.to_ascii_lowercase().as_str() {
            "basic" => format!("Basic realm=\"{realm}\""),
            "ntlm" => "NTLM".to_string(),
            "negotiate" => "Negotiate".to_string(),
            _ => continue,
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            r.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    r.headers_mut().insert("X-Powered-By", HeaderValue::from_static("ASP.NET"));
    let _ = shared;
    r
}

fn basic_allowed(methods: &[String]) -> bool {
    methods.iter().any(|m| m.eq_ignore_ascii_case("basic"))
}

/// Autodiscover and EWS accept Negotiate, NTLM and Basic on a default Exchange install.
fn default_methods() -> Vec<String> {
    vec!["Negotiate".into(), "NTLM".into(), "Basic".into()]
}

async fn autodiscover(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let scenario_autodiscover = shared.lock().scenario.source.autodiscover;
    if !scenario_autodiscover {
        return (StatusCode::NOT_FOUND, "404 - File or directory not found.").into_response();
    }
    let realm = shared.info.source.autodiscover_host.clone();
    if authorised(&shared, &headers) != Some(true) {
        return challenge(&shared, &realm, &default_methods());
    }
    let email = between(&body, "<EMailAddress>", "</EMailAddress>").map(|s| s.trim().to_string());
    let Some(email) = email else {
        return xml(StatusCode::OK, &pox_error("600", "Invalid Request"));
    };
    let world = shared.lock();
    let found = world.scenario.mailboxes.iter().find(|m| {
        world.scenario.tenant.domains.iter().any(|d| email.eq_ignore_ascii_case(&format!("{}@{d}", m.alias)))
    });
    let Some(m) = found else {
        return xml(StatusCode::OK, &pox_error("500", "The email address can't be found."));
    };
    let host = &shared.info.source.host;
    let primary = &world.scenario.tenant.domains[0];
    let methods = &world.scenario.source.rpc_auth;
    let auth_package =
        if basic_allowed(methods) { "Basic" } else { methods.first().map_or("Negotiate", |s| s.as_str()) };
    let legacy = legacy_dn(&m.alias);
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>{display}</DisplayName>
      <LegacyDN>{legacy}</LegacyDN>
      <AutoDiscoverSMTPAddress>{email}</AutoDiscoverSMTPAddress>
      <DeploymentId>{deployment}</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <MicrosoftOnline>False</MicrosoftOnline>
      <Protocol>
        <Type>EXCH</Type>
        <Server>{mailbox_guid}@{primary}</Server>
        <ServerDN>/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn={mailbox_guid}@{primary}</ServerDN>
        <ServerVersion>{server_version}</ServerVersion>
        <MdbDN>/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn={mailbox_guid}@{primary}/cn=Microsoft Private MDB</MdbDN>
        <PublicFolderServer>{host}</PublicFolderServer>
        <AD>dc01.{primary}</AD>
        <ASUrl>https://{host}/EWS/Exchange.asmx</ASUrl>
        <EwsUrl>https://{host}/EWS/Exchange.asmx</EwsUrl>
        <EcpUrl>https://{host}/owa/</EcpUrl>
        <OOFUrl>https://{host}/EWS/Exchange.asmx</OOFUrl>
        <OABUrl>https://{host}/OAB/</OABUrl>
        <ServerExclusiveConnect>off</ServerExclusiveConnect>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>{host}</Server>
        <SSL>On</SSL>
        <AuthPackage>{auth_package}</AuthPackage>
        <ASUrl>https://{host}/EWS/Exchange.asmx</ASUrl>
        <EwsUrl>https://{host}/EWS/Exchange.asmx</EwsUrl>
        <OOFUrl>https://{host}/EWS/Exchange.asmx</OOFUrl>
        <OABUrl>https://{host}/OAB/</OABUrl>
        <ServerExclusiveConnect>on</ServerExclusiveConnect>
        <CertPrincipalName>msstd:{host}</CertPrincipalName>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
"#,
        display = escape(&m.display_name),
        legacy = escape(&legacy),
        email = escape(&email),
        deployment = shared.info.tenant_id,
        mailbox_guid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, m.alias.as_bytes()),
        server_version = pox_server_version(&world.scenario.source.version),
    );
    xml(StatusCode::OK, &body)
}

/// The source `LegacyExchangeDN` of a mailbox (kept as an X500 proxy address after the move).
pub fn legacy_dn(alias: &str) -> String {
    let clean: String = alias.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!(
        "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={}-{}",
        &uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, alias.as_bytes()).simple().to_string()[..32],
        clean
    )
}

fn pox_error(code: &str, message: &str) -> String {
    let now = chrono::Utc::now().format("%H:%M:%S%.3f");
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response>
    <Error Time="{now}" Id="2477272013">
      <ErrorCode>{code}</ErrorCode>
      <Message>{message}</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
"#
    )
}

async fn rpc_proxy(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let methods = shared.lock().scenario.source.rpc_auth.clone();
    let host = shared.info.source.host.clone();
    match authorised(&shared, &headers) {
        Some(true) if basic_allowed(&methods) => {
            let mut r = StatusCode::OK.into_response();
            r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            r
        }
        _ => challenge(&shared, &host, &methods),
    }
}

/// The POX `ServerVersion` of a build such as `15.1.2507.6`: eight hex digits holding a flag nibble (7), six bits
/// of major version, six of minor, a set bit, then fifteen bits of build number (the revision is not in it).
fn pox_server_version(version: &str) -> String {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor, build) = (parts.next().unwrap_or(15), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    let value = 0x7000_0000 | (major & 0x3f) << 22 | (minor & 0x3f) << 16 | 0x8000 | (build & 0x7fff);
    format!("{value:08X}")
}

async fn ews(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    if authorised(&shared, &headers) != Some(true) {
        let host = shared.info.source.host.clone();
        return challenge(&shared, &host, &default_methods());
    }
    let version = shared.lock().scenario.source.version.clone();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor, build, revision) =
        (parts.next().unwrap_or(15), parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    let schema = match (major, minor) {
        (15, 0) => "Exchange2013_SP1",
        (15, 1) => "V2016_10_10",
        _ => "V2017_07_11",
    };
    // The operation is the first element of the SOAP body, e.g. <m:GetFolder>.
    let operation = between(&body, "Body>", ">")
        .map(|s| s.trim().trim_start_matches('<'))
        .and_then(|s| s.split_whitespace().next())
        .map(|s| s.rsplit(':').next().unwrap_or(s).to_string())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "GetFolder".into());
    let envelope = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Header>
    <h:ServerVersionInfo MajorVersion="{major}" MinorVersion="{minor}" MajorBuildNumber="{build}" MinorBuildNumber="{revision}" Version="{schema}" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" xmlns="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>
  </s:Header>
  <s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
    <m:{operation}Response xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
      <m:ResponseMessages>
        <m:{operation}ResponseMessage ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>
        </m:{operation}ResponseMessage>
      </m:ResponseMessages>
    </m:{operation}Response>
  </s:Body>
</s:Envelope>
"#
    );
    xml(StatusCode::OK, &envelope)
}

fn xml(status: StatusCode, body: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body.to_string()).into_response()
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::pox_server_version;

    #[test]
    fn pox_server_version_encodes_the_build() {
        // Exchange 2010 SP1 build 14.1.218 is 738180DA in real Autodiscover answers.
        assert_eq!(pox_server_version("14.1.218.15"), "738180DA");
        assert_eq!(pox_server_version("15.1.2507.6"), "73C189CB");
        assert_eq!(pox_server_version("15.0.1497.2"), "73C085D9");
    }
}
