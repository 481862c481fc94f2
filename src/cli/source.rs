//! `cutover source`: show or set how cutover and the migration service reach the source Exchange server (the
//! migration account, the Autodiscover address, the manual Outlook Anywhere settings, and for a server on
//! loopback its DNS servers, ports and CA). The account's password is read from stdin into the OS keyring only.

use super::out::outln;
use crate::plan::settings::Setting;
use crate::project::DataHome;
use crate::project::ProjectState;
use crate::secrets::{Secret, SecretKind, Secrets};
use color_eyre::eyre::{WrapErr, eyre};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct SourceArgs {
    /// Defaults to the project opened last
    #[arg(long)]
    pub project: Option<String>,
    /// The migration account: DOMAIN\user or user@domain
    #[arg(long)]
    pub admin_user: Option<String>,
    /// Read the migration account's password from one line of stdin into the OS keyring
    #[arg(long)]
    pub password_stdin: bool,
    /// The source mailbox Autodiscover and the availability test are run for
    #[arg(long)]
    pub autodiscover_email: Option<String>,
    /// Manual settings when Autodiscover fails: the mailbox server's FQDN
    #[arg(long)]
    pub exchange_server: Option<String>,
    /// Manual settings when Autodiscover fails: Outlook Anywhere's external host name
    #[arg(long)]
    pub rpc_proxy_server: Option<String>,
    /// Basic or NTLM
    #[arg(long)]
    pub auth: Option<String>,
    /// Admin or FullAccess
    #[arg(long)]
    pub permission: Option<String>,
    /// Resolve the source's names with this DNS server (repeat for more); for a server on loopback
    #[arg(long = "dns-server", value_parser = dns_server)]
    pub dns_servers: Vec<SocketAddr>,
    /// The port standing for 443 on the source (a server on loopback)
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub https_port: Option<u16>,
    /// The port standing for 80 on the source (a server on loopback)
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub http_port: Option<u16>,
    /// A PEM file of an extra CA to trust for the source
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

impl SourceArgs {
    /// The settings after the flags, validated; `None` when no setting flag was given.
    fn apply(&self, current: &ProjectState) -> color_eyre::Result<Option<crate::plan::source::SourceAccess>> {
        let mut state = current.clone();
        let mut changed = false;
        let typed = [
            (Setting::MigrationAccount, &self.admin_user),
            (Setting::AutodiscoverAddress, &self.autodiscover_email),
            (Setting::ExchangeServer, &self.exchange_server),
            (Setting::RpcProxyServer, &self.rpc_proxy_server),
            (Setting::Authentication, &self.auth),
            (Setting::Permission, &self.permission),
        ];
        for (setting, value) in typed {
            if let Some(value) = value {
                setting.apply(state.settings_mut(), value).map_err(|e| eyre!("{}: {e}", setting.label()))?;
                changed = true;
            }
        }
        let mut next = state.source_access;
        if !self.dns_servers.is_empty() {
            next.dns_servers = self.dns_servers.clone();
            changed = true;
        }
        if let Some(port) = self.https_port {
            next.https_port = Some(port);
            changed = true;
        }
        if let Some(port) = self.http_port {
            next.http_port = Some(port);
            changed = true;
        }
        if let Some(path) = &self.ca_cert {
            // The same reading the checks do, so a bad file is refused now rather than at the first check.
            crate::source::SourceTarget::new("example.com")
                .and_then(|t| t.with_extra_ca_file(path))
                .map_err(|e| eyre!("--ca-cert: {e}"))?;
            next.ca_cert = Some(std::fs::canonicalize(path).wrap_err_with(|| format!("--ca-cert {}", path.display()))?);
            changed = true;
        }
        Ok(changed.then_some(next))
    }
}

/// A DNS server as an address and port; the message says the form, which the standard parser's does not.
fn dns_server(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| format!("'{text}' is not an address and port such as 10.0.0.10:53 or [::1]:53"))
}

pub fn run(args: SourceArgs) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = super::project_name(&home, args.project.as_deref())?;
    let (mut project, _, _) = super::resume::open(&home, &name)?;
    // Everything is validated before anything is written.
    let next = args.apply(project.state())?;
    let password = if args.password_stdin { Some(read_password()?) } else { None };
    let secrets = Secrets::open()?;
    if let Some(next) = next {
        let detail = serde_json::json!({ "source_access": next });
        project
            .change(Some(crate::plan::source::STAGE), "set-source-access", detail, |s| {
                s.source_access = next;
                Ok::<(), std::convert::Infallible>(())
            })?
            .map_err(|e| eyre!("{e}"))?;
    }
    if let Some(password) = password {
        crate::runner::stages::source::store_password(&mut project, &secrets, &password)?.map_err(|e| eyre!("{e}"))?;
    }
    let scope = project.state().keyring_scope();
    let stored = secrets.load(&scope, &SecretKind::SourcePassword)?.is_some();
    let state = project.state();
    let access = &state.source_access;
    if args.json {
        outln!(
            "{}",
            serde_json::json!({ "project": name.as_str(), "source_access": access, "password_stored": stored })
        )?;
    } else {
        outln!("Source access of project {name}")?;
        for setting in Setting::ACCESS {
            let value = setting.current(state.settings());
            outln!("  {:<22} {}", setting.label(), if value.is_empty() { "(not set)" } else { &value })?;
        }
        let password = if stored {
            format!("stored in {} as {scope}/source-password", secrets.kind())
        } else {
            "not stored: run `cutover source --password-stdin` and type it".to_owned()
        };
        outln!("  {:<22} {password}", "Password")?;
        if !access.dns_servers.is_empty() || access.https_port.is_some() || access.ca_cert.is_some() {
            let dns: Vec<String> = access.dns_servers.iter().map(ToString::to_string).collect();
            outln!(
                "  Loopback overrides     DNS {}; HTTPS port {}; HTTP port {}; CA {}",
                if dns.is_empty() { "system".to_owned() } else { dns.join(", ") },
                access.https_port.map_or("443".to_owned(), |p| p.to_string()),
                access.http_port.map_or("80".to_owned(), |p| p.to_string()),
                access.ca_cert.as_ref().map_or("none".to_owned(), |p| p.display().to_string()),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_password() -> color_eyre::Result<Secret> {
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line).wrap_err("reading the source password from stdin")?;
    let secret = Secret::new(line.trim_end_matches(['\r', '\n']));
    if secret.is_empty() {
        return Err(eyre!("--password-stdin: stdin gave an empty line; pipe the migration account's password in"));
    }
    Ok(secret)
}
