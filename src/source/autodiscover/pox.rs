//! The POX ("plain old XML") Autodiscover wire format for Outlook: the request body, and the parsing of the
//! answer (settings with their `Protocol` elements, `redirectAddr` / `redirectUrl`, or an `Error`). Elements are
//! matched by local name: Microsoft's own samples differ in their namespace URIs, and Exchange does not publish a
//! schema for POX.

use roxmltree::{Document, Node};

use crate::source::version::ExchangeBuild;

/// The namespace of Outlook's Autodiscover request.
pub const REQUEST_NS: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
/// The response schema Outlook asks for, which carries the EXCH / EXPR / WEB protocol settings.
pub const RESPONSE_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// The request body for `email`, with XML special characters escaped.
pub fn request_body(email: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"{REQUEST_NS}\">\n  <Request>\n    \
         <EMailAddress>{}</EMailAddress>\n    <AcceptableResponseSchema>{RESPONSE_SCHEMA}</AcceptableResponseSchema>\n  \
         </Request>\n</Autodiscover>\n",
        escape(email)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// What an Autodiscover server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoxResponse {
    Settings(PoxSettings),
    /// Ask again with this email address.
    RedirectAddr(String),
    /// Ask again at this URL.
    RedirectUrl(String),
    Error(PoxError),
}

/// The body was not a POX Autodiscover answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoxParseError {
    #[error("the body is not well-formed XML ({0})")]
    NotXml(String),
    #[error("the XML is not an Autodiscover answer (root element <{0}>)")]
    NotAutodiscover(String),
    #[error("the Autodiscover answer has no <Response> element")]
    NoResponse,
    #[error("the Autodiscover answer has neither settings, a redirect nor an error")]
    Empty,
    #[error("the Autodiscover answer says {action} but has no <{element}>")]
    MissingRedirectTarget { action: String, element: &'static str },
}

/// The user and protocol settings of a successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoxSettings {
    pub display_name: Option<String>,
    pub legacy_dn: Option<String>,
    pub deployment_id: Option<String>,
    pub autodiscover_smtp_address: Option<String>,
    pub protocols: Vec<PoxProtocol>,
}

impl PoxSettings {
    pub fn protocol(&self, kind: &ProtocolType) -> Option<&PoxProtocol> {
        self.protocols.iter().find(|p| &p.kind == kind)
    }

    /// The Outlook Anywhere (RPC over HTTP) settings, which the migration endpoint uses.
    pub fn outlook_anywhere(&self) -> Option<&PoxProtocol> {
        self.protocol(&ProtocolType::Expr)
    }

    /// The EWS URL: from EXPR (external) first, then EXCH (internal), from `EwsUrl` or else `ASUrl`.
    pub fn ews_url(&self) -> Option<&str> {
        [ProtocolType::Expr, ProtocolType::Exch]
            .iter()
            .filter_map(|k| self.protocol(k))
            .find_map(|p| p.ews_url.as_deref().or(p.as_url.as_deref()))
    }

    /// The mailbox server's version, from the EXCH protocol's `ServerVersion`.
    pub fn server_version(&self) -> Option<ExchangeBuild> {
        self.protocols
            .iter()
            .filter_map(|p| p.server_version.as_deref())
            .find_map(ExchangeBuild::from_pox_server_version)
    }
}

/// `Protocol/Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolType {
    /// RPC inside the organisation.
    Exch,
    /// Outlook Anywhere: RPC over HTTP from outside.
    Expr,
    /// Outlook on the web and other web URLs.
    Web,
    /// RPC over HTTP for Exchange 2013 and later (internal and external in one).
    Exhttp,
    /// MAPI over HTTP, given as `<Protocol Type="mapiHttp">`.
    MapiHttp,
    Unknown(String),
}

impl ProtocolType {
    fn parse(text: &str) -> Self {
        match text.trim() {
            t if t.eq_ignore_ascii_case("EXCH") => ProtocolType::Exch,
            t if t.eq_ignore_ascii_case("EXPR") => ProtocolType::Expr,
            t if t.eq_ignore_ascii_case("WEB") => ProtocolType::Web,
            t if t.eq_ignore_ascii_case("EXHTTP") => ProtocolType::Exhttp,
            t if t.eq_ignore_ascii_case("mapiHttp") => ProtocolType::MapiHttp,
            t => ProtocolType::Unknown(t.to_owned()),
        }
    }
}

/// `Protocol/AuthPackage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthPackage {
    Basic,
    Kerb,
    KerbNtlm,
    Ntlm,
    Certificate,
    Negotiate,
    Nego2,
    Anonymous,
    Unknown(String),
}

impl AuthPackage {
    fn parse(text: &str) -> Self {
        match text.trim().to_ascii_lowercase().as_str() {
            "basic" => AuthPackage::Basic,
            "kerb" => AuthPackage::Kerb,
            "kerbntlm" => AuthPackage::KerbNtlm,
            "ntlm" => AuthPackage::Ntlm,
            "certificate" => AuthPackage::Certificate,
            "negotiate" => AuthPackage::Negotiate,
            "nego2" => AuthPackage::Nego2,
            "anonymous" => AuthPackage::Anonymous,
            _ => AuthPackage::Unknown(text.trim().to_owned()),
        }
    }
}

impl std::fmt::Display for AuthPackage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthPackage::Basic => "Basic",
            AuthPackage::Kerb => "Kerberos",
            AuthPackage::KerbNtlm => "Kerberos or NTLM",
            AuthPackage::Ntlm => "NTLM",
            AuthPackage::Certificate => "certificate",
            AuthPackage::Negotiate => "Negotiate",
            AuthPackage::Nego2 => "Negotiate (nego2)",
            AuthPackage::Anonymous => "anonymous",
            AuthPackage::Unknown(s) => s,
        })
    }
}

/// One `Protocol` element directly under `Account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoxProtocol {
    pub kind: ProtocolType,
    pub server: Option<String>,
    pub server_dn: Option<String>,
    pub server_version: Option<String>,
    pub auth_package: Option<AuthPackage>,
    /// `SSL` On/Off; None when absent.
    pub ssl: Option<bool>,
    pub ews_url: Option<String>,
    pub as_url: Option<String>,
    pub oab_url: Option<String>,
    pub cert_principal_name: Option<String>,
}

/// `Error` (under `Response` or `Account`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoxError {
    pub code: PoxErrorCode,
    pub message: Option<String>,
    pub debug_data: Option<String>,
}

/// `Error/ErrorCode`, as listed in Microsoft's Autodiscover client protocol documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoxErrorCode {
    /// 500: the email address cannot be found.
    AddressNotFound,
    /// 501: the address is known but has no configuration.
    NoConfiguration,
    /// 600: the request was not well-formed.
    InvalidRequest,
    /// 601: the requested response schema is not available.
    SchemaNotAvailable,
    /// 602: the address is known but its configuration has errors.
    ConfigurationError,
    /// 603: the server failed internally.
    InternalError,
    Unknown(String),
}

impl PoxErrorCode {
    fn parse(text: &str) -> Self {
        match text.trim() {
            "500" => PoxErrorCode::AddressNotFound,
            "501" => PoxErrorCode::NoConfiguration,
            "600" => PoxErrorCode::InvalidRequest,
            "601" => PoxErrorCode::SchemaNotAvailable,
            "602" => PoxErrorCode::ConfigurationError,
            "603" => PoxErrorCode::InternalError,
            other => PoxErrorCode::Unknown(other.to_owned()),
        }
    }
}

impl std::fmt::Display for PoxErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let code = match self {
            PoxErrorCode::AddressNotFound => "500",
            PoxErrorCode::NoConfiguration => "501",
            PoxErrorCode::InvalidRequest => "600",
            PoxErrorCode::SchemaNotAvailable => "601",
            PoxErrorCode::ConfigurationError => "602",
            PoxErrorCode::InternalError => "603",
            PoxErrorCode::Unknown(s) => s,
        };
        f.write_str(code)
    }
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.is_element() && c.tag_name().name() == name)
}

fn child_text(node: Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).and_then(|c| c.text()).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// Parses an Autodiscover answer body.
pub fn parse(body: &str) -> Result<PoxResponse, PoxParseError> {
    // A BOM is common in answers written by .NET.
    let body = body.trim_start_matches('\u{feff}');
    let doc = Document::parse(body).map_err(|e| PoxParseError::NotXml(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Autodiscover" {
        return Err(PoxParseError::NotAutodiscover(root.tag_name().name().to_owned()));
    }
    let response = child(root, "Response").ok_or(PoxParseError::NoResponse)?;
    if let Some(error) = child(response, "Error") {
        return Ok(PoxResponse::Error(parse_error(error)));
    }
    let Some(account) = child(response, "Account") else {
        return Err(PoxParseError::Empty);
    };
    if let Some(error) = child(account, "Error") {
        return Ok(PoxResponse::Error(parse_error(error)));
    }
    let action = child_text(account, "Action").unwrap_or_default();
    match action.to_ascii_lowercase().as_str() {
        "redirectaddr" => {
            return child_text(account, "RedirectAddr")
                .map(PoxResponse::RedirectAddr)
                .ok_or(PoxParseError::MissingRedirectTarget { action, element: "RedirectAddr" });
        }
        "redirecturl" => {
            return child_text(account, "RedirectUrl")
                .map(PoxResponse::RedirectUrl)
                .ok_or(PoxParseError::MissingRedirectTarget { action, element: "RedirectUrl" });
        }
        _ => {}
    }
    let protocols: Vec<PoxProtocol> = account
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "Protocol")
        .map(parse_protocol)
        .collect();
    let user = child(response, "User");
    if protocols.is_empty() && user.is_none() {
        return Err(PoxParseError::Empty);
    }
    let user_text = |name: &str| user.and_then(|u| child_text(u, name));
    Ok(PoxResponse::Settings(PoxSettings {
        display_name: user_text("DisplayName"),
        legacy_dn: user_text("LegacyDN"),
        deployment_id: user_text("DeploymentId"),
        autodiscover_smtp_address: user_text("AutoDiscoverSMTPAddress"),
        protocols,
    }))
}

fn parse_error(node: Node<'_, '_>) -> PoxError {
    PoxError {
        code: PoxErrorCode::parse(&child_text(node, "ErrorCode").unwrap_or_default()),
        message: child_text(node, "Message"),
        debug_data: child_text(node, "DebugData"),
    }
}

fn parse_protocol(node: Node<'_, '_>) -> PoxProtocol {
    // The type is a child element in the 2006a schema, an attribute on the MAPI over HTTP element.
    let kind = child_text(node, "Type").or_else(|| node.attribute("Type").map(str::to_owned)).unwrap_or_default();
    PoxProtocol {
        kind: ProtocolType::parse(&kind),
        server: child_text(node, "Server"),
        server_dn: child_text(node, "ServerDN"),
        server_version: child_text(node, "ServerVersion"),
        auth_package: child_text(node, "AuthPackage").map(|t| AuthPackage::parse(&t)),
        ssl: child_text(node, "SSL").map(|t| t.eq_ignore_ascii_case("on")),
        ews_url: child_text(node, "EwsUrl"),
        as_url: child_text(node, "ASUrl"),
        oab_url: child_text(node, "OABUrl"),
        cert_principal_name: child_text(node, "CertPrincipalName"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Microsoft's sample of a successful POX answer ("POX Autodiscover response for Exchange"), as published,
    /// namespace URIs included.
    const DOCS_SUCCESS: &str = r#"<Autodiscover xmlns="https://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="https://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>First Last</DisplayName>
      <LegacyDN>/o=contoso/ou=First Administrative Group/cn=Recipients/cn=iuser885646</LegacyDN>
      <DeploymentId>644560b8-a1ce-429c-8ace-23395843f701</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>EXCH</Type>
        <Server>MBX-SERVER.mail.internal.contoso.com</Server>
        <ServerDN>/o=contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=MBX-SERVER</ServerDN>
        <ServerVersion>72008287</ServerVersion>
        <MdbDN>/o=contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=MBX-SERVER/cn=Microsoft Private MDB</MdbDN>
        <ASUrl>https://mail.contoso.com/ews/exchange.asmx</ASUrl>
        <OOFUrl>https://mail.contoso.com/ews/exchange.asmx</OOFUrl>
        <UMUrl>https://mail.contoso.com/unifiedmessaging/service.asmx</UMUrl>
        <OABUrl>https://mail.contoso.com/OAB/d29844a9-724e-468c-8820-0f7b345b767b/</OABUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>Exchange.contoso.com</Server>
        <ASUrl>https://mail.contoso.com/ews/exchange.asmx</ASUrl>
        <OOFUrl>https://mail.contoso.com/ews/exchange.asmx</OOFUrl>
        <UMUrl>https://mail.contoso.com/unifiedmessaging/service.asmx</UMUrl>
        <OABUrl>https://mail.contoso.com/OAB/d29844a9-724e-468c-8820-0f7b345b767b/</OABUrl>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal>
          <OWAUrl AuthenticationMethod="Ntlm, WindowsIntegrated">https://cas-01-server.mail.internal.contoso.com/owa</OWAUrl>
          <Protocol>
            <Type>EXCH</Type>
            <ASUrl>https://cas-01-server.mail.internal.contoso.com/ews/exchange.asmx</ASUrl>
          </Protocol>
        </Internal>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"#;

    /// Microsoft's sample of a redirect to another address (Autodiscover client protocol, section 4).
    const DOCS_REDIRECT_ADDR: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <Action>redirectAddr</Action>
      <RedirectAddr>user@subdomain.contoso.com</RedirectAddr>
    </Account>
  </Response>
</Autodiscover>"#;

    /// Microsoft's sample of an error answer, `Error` directly under `Response`.
    const DOCS_ERROR: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">
    <Error Time="16:56:32.6164027" Id="1054084152">
      <ErrorCode>600</ErrorCode>
      <Message>Invalid Request</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>"#;

    /// Microsoft's MAPI over HTTP sample: the type as an attribute, EXPR nested inside WEB.
    const DOCS_MAPI_HTTP: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>User Display Name</DisplayName>
      <LegacyDN>/o=microsoft/ou=Contoso/cn=Recipients/cn=486021</LegacyDN>
      <AutoDiscoverSMTPAddress>user@Contoso.com</AutoDiscoverSMTPAddress>
      <DeploymentId>30c3a927-42aa-5de8-91e3-8e5b4655ed00</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol Type="mapiHttp" Version="1">
        <MailStore>
          <InternalUrl>https://mail.Contoso.com/mapi/emsmdb/?MailboxId=416c6368-656d-794a-6f45-57615272456e@Contoso.com</InternalUrl>
        </MailStore>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <External>
          <OWAUrl AuthenticationMethod="Fba">https://mail.Contoso.com/owa</OWAUrl>
          <Protocol>
            <Type>EXPR</Type>
            <ASUrl>https://mail.Contoso.com/ews/exchange.asmx</ASUrl>
          </Protocol>
        </External>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"#;

    #[test]
    fn parses_microsofts_success_sample() {
        let PoxResponse::Settings(s) = parse(DOCS_SUCCESS).unwrap() else { panic!("not settings") };
        assert_eq!(s.display_name.as_deref(), Some("First Last"));
        assert_eq!(s.deployment_id.as_deref(), Some("644560b8-a1ce-429c-8ace-23395843f701"));
        // Only the direct children of Account: the EXCH nested inside WEB/Internal is not a fourth protocol.
        let kinds: Vec<_> = s.protocols.iter().map(|p| p.kind.clone()).collect();
        assert_eq!(kinds, vec![ProtocolType::Exch, ProtocolType::Expr, ProtocolType::Web]);
        let expr = s.outlook_anywhere().unwrap();
        assert_eq!(expr.server.as_deref(), Some("Exchange.contoso.com"));
        assert_eq!(expr.ssl, None);
        assert_eq!(s.ews_url(), Some("https://mail.contoso.com/ews/exchange.asmx"));
        assert_eq!(s.server_version().unwrap().product(), "Exchange Server 2007");
    }

    #[test]
    fn parses_expr_details_and_real_namespaces() {
        let body = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account><AccountType>email</AccountType><Action>settings</Action>
      <Protocol><Type>EXPR</Type><Server>mail.contoso.com</Server><SSL>On</SSL><AuthPackage>Ntlm</AuthPackage>
        <EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl><CertPrincipalName>msstd:mail.contoso.com</CertPrincipalName>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"#;
        let PoxResponse::Settings(s) = parse(body).unwrap() else { panic!("not settings") };
        let expr = s.outlook_anywhere().unwrap();
        assert_eq!(expr.ssl, Some(true));
        assert_eq!(expr.auth_package, Some(AuthPackage::Ntlm));
        assert_eq!(s.ews_url(), Some("https://mail.contoso.com/EWS/Exchange.asmx"));
        assert_eq!(expr.cert_principal_name.as_deref(), Some("msstd:mail.contoso.com"));
    }

    #[test]
    fn parses_microsofts_redirect_and_error_samples() {
        assert_eq!(parse(DOCS_REDIRECT_ADDR).unwrap(), PoxResponse::RedirectAddr("user@subdomain.contoso.com".into()));
        let PoxResponse::Error(e) = parse(DOCS_ERROR).unwrap() else { panic!("not an error") };
        assert_eq!(e.code, PoxErrorCode::InvalidRequest);
        assert_eq!(e.message.as_deref(), Some("Invalid Request"));
        assert_eq!(e.debug_data, None);
    }

    #[test]
    fn parses_redirect_url_and_account_error() {
        let body = r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>redirectUrl</Action><RedirectUrl>https://autodiscover.fabrikam.com/autodiscover/autodiscover.xml</RedirectUrl></Account></Response></Autodiscover>"#;
        assert_eq!(
            parse(body).unwrap(),
            PoxResponse::RedirectUrl("https://autodiscover.fabrikam.com/autodiscover/autodiscover.xml".into())
        );
        let body = r#"<Autodiscover><Response><Account><Error Time="1" Id="2"><ErrorCode>500</ErrorCode><Message>The email address can't be found.</Message><DebugData/></Error></Account></Response></Autodiscover>"#;
        let PoxResponse::Error(e) = parse(body).unwrap() else { panic!("not an error") };
        assert_eq!(e.code, PoxErrorCode::AddressNotFound);
        let body =
            r#"<Autodiscover><Response><Account><Action>redirectUrl</Action></Account></Response></Autodiscover>"#;
        assert!(matches!(parse(body), Err(PoxParseError::MissingRedirectTarget { .. })));
    }

    #[test]
    fn parses_microsofts_mapi_http_sample() {
        let PoxResponse::Settings(s) = parse(DOCS_MAPI_HTTP).unwrap() else { panic!("not settings") };
        assert_eq!(s.autodiscover_smtp_address.as_deref(), Some("user@Contoso.com"));
        assert_eq!(s.protocols[0].kind, ProtocolType::MapiHttp);
        assert_eq!(s.protocols[1].kind, ProtocolType::Web);
        // No top-level EXPR: Outlook Anywhere is not published for this mailbox.
        assert!(s.outlook_anywhere().is_none());
    }

    #[test]
    fn malformed_bodies_are_errors_not_panics() {
        assert!(matches!(parse(""), Err(PoxParseError::NotXml(_))));
        assert!(matches!(parse("<html><body>IIS</body></html>"), Err(PoxParseError::NotAutodiscover(_))));
        assert!(matches!(parse("<Autodiscover/>"), Err(PoxParseError::NoResponse)));
        assert!(matches!(parse("<Autodiscover><Response/></Autodiscover>"), Err(PoxParseError::Empty)));
        assert!(matches!(parse("<Autodiscover><Response><Account>"), Err(PoxParseError::NotXml(_))));
        assert!(parse("\u{feff}<Autodiscover><Response><Account><Action>settings</Action><Protocol><Type>EXPR</Type></Protocol></Account></Response></Autodiscover>").is_ok());
    }

    #[test]
    fn request_body_escapes_and_names_the_schema() {
        let body = request_body("a&b@contoso.com");
        assert!(body.contains("<EMailAddress>a&amp;b@contoso.com</EMailAddress>"));
        assert!(body.contains(RESPONSE_SCHEMA));
        let doc = Document::parse(&body).unwrap();
        assert_eq!(doc.root_element().tag_name().namespace(), Some(REQUEST_NS));
    }
}
