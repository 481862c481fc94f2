//! `cutover sim`: runs the simulator standalone and prints its endpoints, tenant, test credentials and the CA
//! certificate to trust (one JSON document with `--json`), until Ctrl-C.

use super::out::outln;
use std::process::ExitCode;

use crate::sim::{SimInfo, SimOptions, Simulator};

pub fn run(
    scenario: String,
    speed: f64,
    port: Option<u16>,
    json: bool,
    auto_approve: bool,
    token_lifetime: std::time::Duration,
) -> color_eyre::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let options = SimOptions { scenario, speed, port, auto_approve, token_lifetime, ..SimOptions::default() };
        let stop = stop_signal()?;
        let sim = Simulator::start(options).await?;
        let printed = if json {
            outln!("{}", serde_json::to_string_pretty(sim.info())?)
        } else {
            outln!("{}", describe(sim.info()).trim_end_matches('\n'))
        };
        // Nobody can use a simulator whose endpoints could not be told: stop it (removing its CA file) at once.
        if printed.is_ok() {
            stop.await;
        }
        sim.shutdown().await;
        printed?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Ctrl-C, or SIGTERM on Unix (so the temporary CA file is removed either way). The handlers are installed
/// when this is called, before the endpoints are printed, so a caller that stops us right away is heard.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn describe(i: &SimInfo) -> String {
    let mut s = format!(
        "cutover simulator: scenario {} at {}x speed (Ctrl-C stops it)\n\n\
         Tenant        {} ({})\n\
         Email domains {}\n\
         Login         {}\n\
         Graph         {}\n\
         Exchange      {}\n\
         Control       {}\n\
         Device code   client id {}\n\
         App           id {}  secret {}\n\n\
         Source server https://{}:{}/ and https://{}:{}/ (resolve them through the DNS below)\n\
         Source admin  {}  password {}\n\
         Trust this CA {}\n\
         Inventory     {}\n\
         Rules export  {}\n\n\
         DNS resolvers (UDP and TCP)\n",
        i.scenario,
        i.speed,
        i.tenant_domain,
        i.tenant_id,
        i.email_domains.join(", "),
        i.login_url,
        i.graph_url,
        i.exo_url,
        i.control_url,
        i.client_id,
        i.app_id,
        i.app_secret,
        i.source.host,
        i.source.https_port,
        i.source.autodiscover_host,
        i.source.https_port,
        i.source.admin_user,
        i.source.admin_password,
        i.source.ca_cert_path.display(),
        i.inventory_csv.display(),
        i.transport_rules_json.display(),
    );
    for r in &i.dns {
        s.push_str(&format!("  {}  changes seen after {} simulated seconds\n", r.addr, r.delay_seconds));
    }
    s
}
