//! `cutover sim`: runs the simulator standalone and prints its endpoints, tenant, test credentials and the CA
//! certificate to trust (one JSON document with `--json`), until Ctrl-C.

use std::process::ExitCode;

use crate::sim::{SimInfo, SimOptions, Simulator};

pub fn run(
    scenario: String,
    speed: f64,
    port: Option<u16>,
    json: bool,
    auto_approve: bool,
) -> color_eyre::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let options = SimOptions { scenario, speed, port, auto_approve, ..SimOptions::default() };
        let sim = Simulator::start(options).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(sim.info())?);
        } else {
            print!("{}", describe(sim.info()));
        }
        wait_for_stop().await?;
        sim.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Ctrl-C, or SIGTERM on Unix (so the temporary CA file is removed either way).
async fn wait_for_stop() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
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
         Trust this CA {}\n\n\
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
    );
    for r in &i.dns {
        s.push_str(&format!("  {}  changes seen after {} simulated seconds\n", r.addr, r.delay_seconds));
    }
    s
}
