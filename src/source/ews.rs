//! EWS reachability and the server version: an unauthenticated request to `/EWS/Exchange.asmx` (expected: 401),
//! then, with the migration account's credentials (Basic), a SOAP `GetFolder` whose `ServerVersionInfo` header
//! gives the Exchange build.

use reqwest::{StatusCode, Url};
use roxmltree::Document;

use super::net::{self, AuthScheme};
use super::version::ExchangeBuild;
use super::{Credentials, SourceError, SourceTarget, valid_host};

const PATH: &str = "/EWS/Exchange.asmx";

/// A `GetFolder` of the signed-in account's Inbox: the smallest request every Exchange version since 2007 answers.
const GET_FOLDER: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
               xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
               xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header>
    <t:RequestServerVersion Version="Exchange2007_SP1"/>
  </soap:Header>
  <soap:Body>
    <m:GetFolder>
      <m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>
      <m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds>
    </m:GetFolder>
  </soap:Body>
</soap:Envelope>
"#;

/// What the SOAP answer said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SoapAnswer {
    pub build: Option<ExchangeBuild>,
    /// `ServerVersionInfo/@Version`, e.g. V2017_07_11 or Exchange2010_SP2.
    pub schema_version: Option<String>,
    pub response_code: Option<ResponseCode>,
    pub fault: Option<String>,
}

/// The `ResponseCode` of an EWS answer: the few this check reasons about, the rest kept as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseCode {
    NoError,
    /// The signed-in account has no mailbox: normal for a dedicated migration account.
    ErrorNonExistentMailbox,
    ErrorAccessDenied,
    ErrorServerBusy,
    Unknown(String),
}

impl ResponseCode {
    fn parse(text: &str) -> Self {
        match text {
            "NoError" => ResponseCode::NoError,
            "ErrorNonExistentMailbox" => ResponseCode::ErrorNonExistentMailbox,
            "ErrorAccessDenied" => ResponseCode::ErrorAccessDenied,
            "ErrorServerBusy" => ResponseCode::ErrorServerBusy,
            other => ResponseCode::Unknown(other.to_owned()),
        }
    }
}

impl std::fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ResponseCode::NoError => "NoError",
            ResponseCode::ErrorNonExistentMailbox => "ErrorNonExistentMailbox",
            ResponseCode::ErrorAccessDenied => "ErrorAccessDenied",
            ResponseCode::ErrorServerBusy => "ErrorServerBusy",
            ResponseCode::Unknown(s) => s,
        })
    }
}

/// Reads `ServerVersionInfo` and the first `ResponseCode` (or a SOAP fault) from an EWS answer.
pub fn parse_soap(body: &str) -> Result<SoapAnswer, String> {
    let doc = Document::parse(body.trim_start_matches('\u{feff}')).map_err(|e| format!("not XML ({e})"))?;
    if doc.root_element().tag_name().name() != "Envelope" {
        return Err(format!("not a SOAP envelope (root <{}>)", doc.root_element().tag_name().name()));
    }
    let find = |name: &str| doc.descendants().find(|n| n.is_element() && n.tag_name().name() == name);
    let text = |name: &str| find(name).and_then(|n| n.text()).map(|t| t.trim().to_owned());
    let build = find("ServerVersionInfo").and_then(|n| {
        let num = |a: &str| n.attribute(a).and_then(|v| v.trim().parse::<u16>().ok());
        Some(ExchangeBuild::new(
            num("MajorVersion")?,
            num("MinorVersion")?,
            num("MajorBuildNumber")?,
            num("MinorBuildNumber"),
        ))
    });
    Ok(SoapAnswer {
        build,
        schema_version: find("ServerVersionInfo").and_then(|n| n.attribute("Version")).map(str::to_owned),
        response_code: text("ResponseCode").map(|c| ResponseCode::parse(&c)),
        fault: text("faultstring"),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EwsProbe {
    Status { status: u16, schemes: Vec<AuthScheme> },
    Transport(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedIn {
    /// No credentials were given, or EWS did not ask for them.
    NotTried,
    Answered {
        status: u16,
        answer: Result<SoapAnswer, String>,
    },
    Refused {
        schemes: Vec<AuthScheme>,
    },
    /// Credentials were given but EWS does not offer Basic, so they were not sent.
    NoBasic {
        schemes: Vec<AuthScheme>,
    },
    Transport(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EwsReport {
    pub url: String,
    pub anonymous: EwsProbe,
    pub signed_in: SignedIn,
}

/// The EWS URL on `host`, with the target's port.
pub fn ews_url(target: &SourceTarget, host: &str) -> Result<String, SourceError> {
    Ok(target.https_url(&valid_host(host)?, PATH))
}

/// Probes EWS at `url` (from Autodiscover, or [`ews_url`]); with `credentials`, signs in with Basic and reads the
/// server version. The password goes only into the Authorization header of that one request.
pub async fn ews(
    target: &SourceTarget,
    url: &str,
    credentials: Option<Credentials<'_>>,
) -> Result<EwsReport, SourceError> {
    let invalid = |reason: &str| SourceError::InvalidUrl { input: url.to_owned(), reason: reason.to_owned() };
    let mut parsed = Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    if parsed.scheme() != "https" {
        return Err(invalid("EWS is only checked over https"));
    }
    let port = target.https_port_for(parsed.port());
    parsed.set_port(if port == 443 { None } else { Some(port) }).map_err(|_| invalid("it has no host"))?;
    let url = parsed.to_string();
    let client = net::http_client(target)?;
    let soap = |req: reqwest::RequestBuilder| {
        req.header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8").body(GET_FOLDER)
    };
    let anonymous = match soap(client.post(&url)).send().await {
        Ok(r) => EwsProbe::Status { status: r.status().as_u16(), schemes: net::auth_schemes(r.headers()) },
        Err(e) => EwsProbe::Transport(net::describe_error(&e)),
    };
    // Credentials go only to a server that asked for them and offers Basic.
    let signed_in = match (credentials, &anonymous) {
        (Some(_), EwsProbe::Status { status: 401, schemes }) if !schemes.contains(&AuthScheme::Basic) => {
            SignedIn::NoBasic { schemes: schemes.clone() }
        }
        (Some(c), EwsProbe::Status { status: 401, .. }) => {
            match soap(client.post(&url)).basic_auth(c.user, Some(c.password())).send().await {
                Err(e) => SignedIn::Transport(net::describe_error(&e)),
                Ok(r) if r.status() == StatusCode::UNAUTHORIZED => {
                    SignedIn::Refused { schemes: net::auth_schemes(r.headers()) }
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    let answer = match net::read_body(r).await {
                        Ok(body) => parse_soap(&body),
                        Err(e) => Err(e),
                    };
                    SignedIn::Answered { status, answer }
                }
            }
        }
        _ => SignedIn::NotTried,
    };
    Ok(EwsReport { url, anonymous, signed_in })
}

impl EwsReport {
    /// The server's build, when the signed-in request read it.
    pub fn build(&self) -> Option<ExchangeBuild> {
        match &self.signed_in {
            SignedIn::Answered { answer: Ok(a), .. } => a.build,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of an Exchange 2013-and-later GetFolder answer (header as Microsoft documents ServerVersionInfo).
    const ANSWER_2016: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
  <s:Header>
    <h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11"
      xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" xmlns="http://schemas.microsoft.com/exchange/services/2006/types"
      xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>
  </s:Header>
  <s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
    <m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
      <m:ResponseMessages>
        <m:GetFolderResponseMessage ResponseClass="Success">
          <m:ResponseCode>NoError</m:ResponseCode>
          <m:Folders><t:Folder><t:FolderId Id="AAMk" ChangeKey="AQAA"/></t:Folder></m:Folders>
        </m:GetFolderResponseMessage>
      </m:ResponseMessages>
    </m:GetFolderResponse>
  </s:Body>
</s:Envelope>"#;

    /// The Exchange 2010 shape: `t:` prefix and a named schema version.
    const ANSWER_2010: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header>
    <t:ServerVersionInfo MajorVersion="14" MinorVersion="3" MajorBuildNumber="123" MinorBuildNumber="4" Version="Exchange2010_SP2"
      xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"/>
  </soap:Header>
  <soap:Body>
    <m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
      <m:ResponseMessages>
        <m:GetFolderResponseMessage ResponseClass="Error">
          <m:MessageText>No mailbox with such guid.</m:MessageText>
          <m:ResponseCode>ErrorNonExistentMailbox</m:ResponseCode>
        </m:GetFolderResponseMessage>
      </m:ResponseMessages>
    </m:GetFolderResponse>
  </soap:Body>
</soap:Envelope>"#;

    #[test]
    fn reads_server_version_info() {
        let a = parse_soap(ANSWER_2016).unwrap();
        let build = a.build.unwrap();
        assert_eq!(build.to_string(), "15.1.2507.6");
        assert_eq!(build.product(), "Exchange Server 2016");
        assert_eq!(a.response_code, Some(ResponseCode::NoError));
        let a = parse_soap(ANSWER_2010).unwrap();
        assert_eq!(a.build.unwrap().product(), "Exchange Server 2010 SP3");
        assert_eq!(a.schema_version.as_deref(), Some("Exchange2010_SP2"));
        assert_eq!(a.response_code, Some(ResponseCode::ErrorNonExistentMailbox));
        assert!(parse_soap("<html/>").is_err());
        assert!(parse_soap("not xml").is_err());
    }

    #[tokio::test]
    async fn a_plain_http_or_broken_url_is_refused_before_any_request() {
        let t = SourceTarget::new("contoso.com").unwrap();
        let err = ews(&t, "http://mail.contoso.com/EWS/Exchange.asmx", None).await.unwrap_err();
        assert!(matches!(err, SourceError::InvalidUrl { .. }), "{err:?}");
        assert!(err.to_string().contains("https"), "{err}");
        assert!(matches!(ews(&t, "mail.contoso.com/EWS", None).await, Err(SourceError::InvalidUrl { .. })));
        assert!(matches!(ews_url(&t, "mail contoso"), Err(SourceError::InvalidHost { .. })));
    }
}
