//! The embedded simulator of Microsoft 365 (identity platform, Graph v1.0, Exchange Online admin REST) and of
//! the source Exchange server (Autodiscover, Outlook Anywhere, EWS over TLS), with a DNS responder, all on
//! 127.0.0.1. It shares no code with the clients (`m365`, `source`, `dns`): tests and `cutover demo` reach it
//! over HTTP(S) and DNS only. See docs/simulator.md for the endpoints and the control API.

mod clock;
mod control;
mod dns;
pub mod engine;
mod exo;
mod faults;
#[cfg(test)]
mod fuzz;
mod graph;
mod identity;
mod inventory;
pub mod rehearsal;
mod rules;
pub mod scenario;
mod source;
mod tls;

use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use scenario::Scenario;

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// A built-in scenario name (small, typical, large, trouble) or a path to a scenario JSON file.
    pub scenario: String,
    /// How many times faster than real time the simulated clock runs.
    pub speed: f64,
    /// Port of the HTTP server (identity, Graph, Exchange Online, control); a random one when absent.
    pub port: Option<u16>,
    /// Approve every device code at once, as if the admin signed in straight away.
    pub auto_approve: bool,
    /// Lifetime of access tokens (real time). Short values make clients exercise refresh.
    pub token_lifetime: Duration,
    /// `interval` of the device code answer (real time).
    pub device_code_interval: Duration,
    /// `expires_in` of the device code answer (real time).
    pub device_code_lifetime: Duration,
    /// A rehearsal: the customer's inventory CSV (stage 2's format) whose mailboxes replace the scenario's.
    pub inventory: Option<PathBuf>,
    /// The customer's upload bandwidth in Mbit/s, replacing the scenario's link.
    pub bandwidth_mbit: Option<f64>,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            scenario: "typical".into(),
            speed: 1.0,
            port: None,
            auto_approve: false,
            token_lifetime: Duration::from_secs(3599),
            device_code_interval: Duration::from_secs(5),
            device_code_lifetime: Duration::from_secs(900),
            inventory: None,
            bandwidth_mbit: None,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("scenario {scenario:?}: {reason}")]
    Scenario { scenario: String, reason: String },
    #[error("speed {0} is not usable: give a number above 0 (1 is real time, 60 plays an hour in a minute)")]
    Speed(f64),
    #[error("cannot listen on {what}: {source}; choose another port or free this one")]
    Bind { what: String, source: std::io::Error },
    #[error("cannot create the simulator's certificates: {0}")]
    Certificate(String),
    #[error("cannot write the CA certificate to {path}: {source}")]
    WriteCa { path: PathBuf, source: std::io::Error },
    #[error("--inventory {}: {reason}; give the CSV that assets/Get-CutoverInventory.ps1 wrote", path.display())]
    Inventory { path: PathBuf, reason: String },
    #[error("cannot write the inventory export to {path}: {reason}")]
    WriteInventory { path: PathBuf, reason: String },
}

/// Everything a client needs to reach the simulator. Fake credentials only: fine to print.
#[derive(Debug, Clone, Serialize)]
pub struct SimInfo {
    pub scenario: String,
    pub speed: f64,
    pub tenant_id: String,
    /// `<name>.onmicrosoft.com`
    pub tenant_domain: String,
    pub email_domains: Vec<String>,
    /// Bases without a trailing slash; clients append the paths they append to the real hosts.
    pub login_url: String,
    pub graph_url: String,
    pub exo_url: String,
    pub control_url: String,
    /// Public client for the device code flow.
    pub client_id: String,
    /// Confidential client for client credentials.
    pub app_id: String,
    pub app_secret: String,
    pub source: SourceInfo,
    pub dns: Vec<ResolverInfo>,
    /// The mailbox inventory as `assets/Get-CutoverInventory.ps1` would write it on the simulated server, so a
    /// script can import it; removed with the CA file when the simulator stops.
    pub inventory_csv: PathBuf,
    /// The simulated upload link of the source, in Mbit/s (a rehearsal's `--bandwidth`).
    pub bandwidth_mbit: u32,
    /// The transport rules as the same script exports them (`cutover-transport-rules-<date>.json`), beside the
    /// inventory; the same as `GET {control_url}/transport-rules.json`.
    pub transport_rules_json: PathBuf,
}

/// The simulated on-premises Exchange server.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// HTTPS port on 127.0.0.1 standing in for 443.
    pub https_port: u16,
    /// Outlook Anywhere and EWS host, e.g. mail.contoso.com.
    pub host: String,
    /// autodiscover.contoso.com
    pub autodiscover_host: String,
    pub admin_user: String,
    pub admin_password: String,
    pub ca_cert_pem: String,
    pub ca_cert_path: PathBuf,
}

/// One DNS resolver of the simulator (UDP and TCP on the same address).
#[derive(Debug, Clone, Serialize)]
pub struct ResolverInfo {
    pub addr: SocketAddr,
    /// Simulated seconds after a registrar change before this resolver answers with it.
    pub delay_seconds: f64,
}

/// The mutable state of the simulated world.
#[derive(Debug)]
pub struct World {
    pub scenario: Scenario,
    pub clock: clock::Clock,
    pub auth: identity::AuthState,
    pub faults: faults::Faults,
    pub dns: dns::Zone,
    pub directory: graph::Directory,
    pub exchange: exo::Exchange,
    pub requests: faults::RequestCounts,
    pub retries: faults::RetryLog,
    /// The initial passwords of the users Graph created (`POST /users`): secrets the client must keep nowhere.
    pub accepted_passwords: Vec<String>,
}

/// What every route shares: the fixed facts and the world behind a lock.
pub struct Inner {
    pub info: SimInfo,
    world: Mutex<World>,
}

/// Handle shared by every route.
#[derive(Clone)]
pub struct Shared(Arc<Inner>);

impl std::ops::Deref for Shared {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Every answer's `Date` is the simulated clock's, as a real service's is its own: the clients put their own
/// times on the clock of the timestamps they compare them with.
async fn simulated_date(
    axum::extract::State(shared): axum::extract::State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(req).await;
    // A fault's answer has written its `Date` already, together with its `Retry-After` date.
    if response.headers().contains_key(axum::http::header::DATE) {
        return response;
    }
    let now = std::time::SystemTime::from(shared.lock().clock.now());
    if let Ok(date) = axum::http::HeaderValue::from_str(&httpdate::fmt_http_date(now)) {
        response.headers_mut().insert(axum::http::header::DATE, date);
    }
    response
}

impl Shared {
    /// Locks the world; a poisoned lock (a panic elsewhere) still yields the state, which stays consistent
    /// because every change is made in one critical section.
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.0.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The scenario with the mailboxes of the inventory CSV at `path`.
fn rehearsal_world(base: Scenario, path: &std::path::Path, bandwidth: Option<f64>) -> Result<Scenario, SimError> {
    let refuse = |reason: String| SimError::Inventory { path: path.to_owned(), reason };
    let bytes =
        crate::input_file::read_limited(path, crate::inventory::report::MAX_INVENTORY_BYTES, "a mailbox inventory")
            .map_err(|e| refuse(e.reason()))?;
    let parsed = crate::inventory::csv::parse(&bytes).map_err(|e| refuse(format!("not an inventory CSV ({e})")))?;
    // The world is named by the file's name only: it is shown and printed, and a path can name people.
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    rehearsal::from_inventory(base, &name, &parsed.mailboxes, bandwidth)
}

/// A running simulator. Dropping it stops the servers.
pub struct Simulator {
    info: SimInfo,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    temp_dir: PathBuf,
}

impl Simulator {
    pub async fn start(options: SimOptions) -> Result<Simulator, SimError> {
        if !(options.speed > 0.0 && options.speed.is_finite()) {
            return Err(SimError::Speed(options.speed));
        }
        let mut scenario = Scenario::load(&options.scenario)?;
        if let Some(path) = &options.inventory {
            scenario = rehearsal_world(scenario, path, options.bandwidth_mbit)?;
        } else if let Some(b) = options.bandwidth_mbit {
            scenario = rehearsal::with_bandwidth(scenario, b)?;
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], options.port.unwrap_or(0)));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { what: format!("{addr} (the HTTP endpoints)"), source })?;
        let http_addr = listener.local_addr().map_err(|source| SimError::Bind { what: addr.to_string(), source })?;
        let base = format!("http://{http_addr}");
        let temp_dir = std::env::temp_dir().join(format!("cutover-sim-{}-{}", std::process::id(), http_addr.port()));
        let primary = scenario.primary_domain().to_string();
        let source_host = format!("{}.{primary}", scenario.source.host);
        let source_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| SimError::Bind { what: "127.0.0.1 (the source server)".into(), source })?;
        let https_port = source_listener
            .local_addr()
            .map_err(|source| SimError::Bind { what: "the source server".into(), source })?
            .port();
        let mut cert_names = vec![source_host.clone()];
        cert_names.extend(scenario.tenant.domains.iter().map(|d| format!("autodiscover.{d}")));
        let certs = tls::generate(&scenario.tenant.display_name, &cert_names, scenario.source.certificate)?;
        let ca_cert_path = temp_dir.join("cutover-sim-ca.pem");
        std::fs::create_dir_all(&temp_dir)
            .and_then(|_| std::fs::write(&ca_cert_path, &certs.ca_pem))
            .map_err(|source| SimError::WriteCa { path: ca_cert_path.clone(), source })?;
        let mut resolvers = Vec::new();
        let mut dns_info = Vec::new();
        for delay in &scenario.dns.resolver_delays_seconds {
            let (udp, tcp, addr) = dns::bind().await?;
            dns_info.push(ResolverInfo { addr, delay_seconds: *delay });
            resolvers.push((udp, tcp));
        }
        let info = SimInfo {
            scenario: scenario.name.clone(),
            speed: options.speed,
            tenant_id: scenario.tenant.id.clone(),
            tenant_domain: format!("{}.onmicrosoft.com", scenario.tenant.name),
            email_domains: scenario.tenant.domains.clone(),
            login_url: format!("{base}/login"),
            graph_url: format!("{base}/graph"),
            exo_url: format!("{base}/exo"),
            control_url: format!("{base}/control"),
            client_id: "8f4c1b2a-6d3e-4f5a-9b7c-0e1d2c3b4a59".into(),
            app_id: "3e7a9c1d-2b4f-4e6a-8c0d-5f1b3a7e9c24".into(),
            app_secret: "sim~not-a-real-secret.0123456789".into(),
            source: SourceInfo {
                https_port,
                host: source_host,
                autodiscover_host: format!("autodiscover.{primary}"),
                admin_user: scenario.source.admin_user.clone(),
                admin_password: scenario.source.admin_password.clone(),
                ca_cert_pem: certs.ca_pem.clone(),
                ca_cert_path,
            },
            dns: dns_info.clone(),
            inventory_csv: temp_dir.join("inventory.csv"),
            transport_rules_json: temp_dir.join("transport-rules.json"),
            bandwidth_mbit: scenario.migration.bandwidth_mbps.round().clamp(1.0, f64::from(u32::MAX)) as u32,
        };
        let clock = clock::Clock::new(options.speed);
        let world = World {
            dns: dns::initial_zone(&info, &scenario, clock.now()),
            directory: graph::Directory::new(&info.tenant_domain, &scenario.tenant),
            exchange: exo::Exchange {
                transport_rules: scenario.tenant.transport_rules.clone(),
                ..exo::Exchange::default()
            },
            requests: faults::RequestCounts::default(),
            retries: faults::RetryLog::default(),
            accepted_passwords: Vec::new(),
            clock,
            auth: identity::AuthState::new(
                options.token_lifetime,
                options.device_code_lifetime,
                options.device_code_interval,
                options.auto_approve,
            ),
            faults: faults::Faults::new(&scenario.faults),
            scenario,
        };
        let written = inventory::csv(&world)
            .map_err(|e| e.to_string())
            .and_then(|text| std::fs::write(&info.inventory_csv, text).map_err(|e| e.to_string()));
        written.map_err(|reason| SimError::WriteInventory { path: info.inventory_csv.clone(), reason })?;
        std::fs::write(&info.transport_rules_json, rules::json(&world))
            .map_err(|e| SimError::WriteInventory { path: info.transport_rules_json.clone(), reason: e.to_string() })?;
        let shared = Shared(Arc::new(Inner { info: info.clone(), world: Mutex::new(world) }));
        let (stop, stop_rx) = watch::channel(false);
        let app = axum::Router::new()
            .nest("/login", identity::router())
            .nest("/graph", graph::router())
            .nest("/exo", exo::router())
            .nest("/control", control::router())
            .layer(axum::middleware::from_fn_with_state(shared.clone(), faults::layer))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), simulated_date))
            .with_state(shared.clone());
        let mut rx = stop_rx.clone();
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                tracing::error!("simulator HTTP server stopped: {e}");
            }
        });
        let mut tasks = vec![server];
        tasks.push(tokio::spawn(source::serve(
            source_listener,
            certs.server_config,
            source::router(shared.clone()),
            stop_rx.clone(),
        )));
        for (r, (udp, tcp)) in dns_info.into_iter().zip(resolvers) {
            tasks.push(tokio::spawn(dns::serve(shared.clone(), r, udp, tcp, stop_rx.clone())));
        }
        Ok(Simulator { info: shared.info.clone(), stop, tasks, temp_dir })
    }

    pub fn info(&self) -> &SimInfo {
        &self.info
    }

    /// Stops the servers and removes the temporary CA file.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            t.abort();
            let _ = t.await;
        }
        let _ = std::fs::remove_dir_all(&self.temp_dir);
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in &self.tasks {
            t.abort();
        }
        let _ = std::fs::remove_dir_all(&self.temp_dir);
    }
}
