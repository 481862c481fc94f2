//! `cutover new`, `open`, `list`, `demo`, and bare `cutover`: find or make the project, then hand it to the wizard.

use super::kickoff_flags::KickoffFlags;
use super::out::{OutputError, outln};
use crate::m365::{Cloud, ConnectionSettings};
use crate::plan::kickoff::Field;
use crate::plan::source::SourceAccess;
use crate::project::{Acquired, DataHome, Project, ProjectError, ProjectName, SimulatorLink};
use crate::runner;
use crate::secrets::{Secret, Secrets};
use crate::sim::{SimInfo, SimOptions, Simulator};
use color_eyre::eyre::{WrapErr, bail, eyre};
use std::path::Path;
use std::process::ExitCode;

/// What `cutover new` is given besides the name.
pub struct NewArgs<'a> {
    pub tenant: Option<&'a str>,
    pub connection: Option<ConnectionSettings>,
    pub kickoff: &'a KickoffFlags,
    /// Create and fill the project, then stop: for scripts, which have no terminal for the wizard.
    pub no_open: bool,
    /// The control URL of a running `cutover sim` the project is a demo of.
    pub simulator: Option<&'a str>,
}

/// A simulator runs on this machine: a control URL elsewhere is refused, so no real DNS host is ever written to.
fn simulator_url(url: &str) -> color_eyre::Result<String> {
    let parsed = url::Url::parse(url).map_err(|e| {
        eyre!("--simulator {url:?} is not a URL ({e}); give the control_url that `cutover sim --json` prints")
    })?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if !loopback || !matches!(parsed.scheme(), "http" | "https") || !parsed.username().is_empty() {
        bail!(
            "--simulator {url:?} is not a simulator on this machine: give the http://127.0.0.1:PORT control_url that `cutover sim --json` prints"
        );
    }
    Ok(url.trim_end_matches('/').to_owned())
}

pub fn new(name: &str, args: NewArgs<'_>) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = ProjectName::parse(name)?;
    // Refuse a bad value before anything is created.
    if let Some(tenant) = args.tenant {
        crate::plan::kickoff::validate_tenant(tenant).wrap_err("--tenant")?;
    }
    args.kickoff.validate()?;
    let simulator = args.simulator.map(simulator_url).transpose()?;
    let mut project = match Project::create(&home, &name, simulator.is_some()) {
        Err(exists @ ProjectError::Exists { .. }) => unfinished(&home, &name, simulator.is_some())?.ok_or(exists)?,
        made => made?,
    };
    if let Some(control_url) = simulator {
        let detail = serde_json::json!({ "control_url": control_url });
        project
            .change(None, "connect-simulator", detail, |state| {
                state.simulator = Some(SimulatorLink { control_url, inventory: None });
                Ok::<(), std::convert::Infallible>(())
            })?
            .map_err(|never| match never {})?;
    }
    let given = args.kickoff.given();
    let mut values: Vec<(Field, &str)> = args.tenant.map(|t| (Field::Tenant, t)).into_iter().collect();
    values.extend(given.iter().map(|g| (g.field, g.value.as_str())));
    seed(&mut project, &values)
        .wrap_err_with(|| format!("project {name} was created at {}", project.dir().display()))?;
    if let Some(connection) = args.connection {
        super::new_flags::store(&mut project, connection)
            .wrap_err_with(|| format!("project {name} was created with its kickoff fields, without the connection"))?;
    }
    if args.no_open {
        print_created(&project, &values)?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::wizard::run(project, crate::tui::Startup::default())
}

/// A project that holds nothing but its creation, as a demo or not as this `cutover new` makes it: one cut
/// short right after it saved the first state, or made without flags; this one sets it up with its flags (no
/// decision of the project can be overwritten). Anything else is left untouched, not even opened.
fn unfinished(home: &DataHome, name: &ProjectName, demo: bool) -> color_eyre::Result<Option<Project>> {
    if !crate::project::only_created(home, name, demo) {
        return Ok(None);
    }
    let (project, _, _) = super::resume::open(home, name)?;
    // Asked again under the lock: another cutover may have changed it since.
    if !crate::project::only_created(home, name, demo) {
        return Ok(None);
    }
    super::out::warn(&format!(
        "Project {name} holds nothing but its creation (a `cutover new` cut short, or one without flags): setting it up with these flags now."
    ));
    Ok(Some(project))
}

/// What `cutover new --no-open` did, and what the kickoff checks now say.
fn print_created(project: &Project, values: &[(Field, &str)]) -> Result<(), OutputError> {
    let state = project.state();
    outln!("Created project {} at {}.", state.name, project.dir().display())?;
    for (field, _) in values {
        outln!("  {:<16} {}", field.label(), field.current(&state.kickoff))?;
    }
    if state.m365.client_id.is_some() || state.m365.cloud != Cloud::default() {
        outln!("  {:<16} {} cloud", "Microsoft 365", state.m365.cloud.name())?;
    }
    let stage = crate::plan::kickoff::STAGE;
    outln!("{}", crate::plan::gating::check_summary(stage.def(), state.stage(stage)))?;
    let missing = state.kickoff.missing();
    if !missing.is_empty() {
        outln!("Not set yet: {}. `cutover open {}` sets them in the wizard.", missing.join(", "), state.name)?;
    }
    Ok(())
}

pub fn open(name: &str) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = ProjectName::parse(name)?;
    let (project, acquired) = Project::open(&home, &name)?;
    crate::wizard::run(project, crate::tui::Startup { banner: None, notice: lock_notice(&acquired) })
}

/// Bare `cutover`: the project opened last, else the list of projects and how to start.
pub fn open_last() -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    match home.last_project() {
        Some(name) => open(name.as_str()),
        None => {
            print_list(&home.list()?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn list(json: bool) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let names = home.list()?;
    if json {
        let names: Vec<&str> = names.iter().map(ProjectName::as_str).collect();
        outln!("{}", serde_json::json!({ "projects": names, "folder": home.projects() }))?;
    } else {
        print_list(&names)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(names: &[ProjectName]) -> Result<(), OutputError> {
    if names.is_empty() {
        return outln!("No projects yet. Start one with `cutover new NAME`, or try `cutover demo`.");
    }
    outln!("Projects:")?;
    for name in names {
        outln!("  {name}")?;
    }
    outln!("Open one with `cutover open NAME`.")
}

/// The name of the demo project; `cutover demo` recreates it each time.
const DEMO_PROJECT: &str = "demo";

/// `cutover demo`: the simulator on loopback and a fresh demo project connected to it, in the wizard.
pub fn demo(
    scenario: String,
    speed: f64,
    token_lifetime: std::time::Duration,
    rehearsal: super::RehearsalFlags,
) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = ProjectName::parse(DEMO_PROJECT)?;
    match Project::open(&home, &name) {
        Ok((old, _)) => {
            if !old.state().demo {
                color_eyre::eyre::bail!(
                    "a project named '{DEMO_PROJECT}' exists and is not a demo; it is left alone. Rename its folder {} to run the demo",
                    old.dir().display()
                );
            }
            let dir = old.dir().to_owned();
            drop(old);
            std::fs::remove_dir_all(&dir)
                .wrap_err_with(|| format!("removing the previous demo project at {}", dir.display()))?;
        }
        Err(ProjectError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let options = SimOptions {
            scenario: scenario.clone(),
            speed,
            // The simulated admin approves the code a moment after it is shown, so the demo runs on its own.
            auto_approve: true,
            device_code_interval: std::time::Duration::from_secs(2),
            token_lifetime,
            inventory: rehearsal.inventory.clone(),
            bandwidth_mbit: rehearsal.bandwidth.map(f64::from),
            ..SimOptions::default()
        };
        let sim = Simulator::start(options).await.wrap_err_with(|| format!("starting the simulator ({scenario})"))?;
        let mut project = Project::create(&home, &name, true)?;
        let prepared = connect_demo(&mut project, sim.info(), &rehearsal).await;
        let result = match prepared {
            Ok(notice) => {
                // A rehearsal's banner names the inventory it moves (the scenario's name says so).
                let banner = crate::tui::strings::demo_banner(&sim.info().scenario, speed);
                crate::wizard::run_async(project, crate::tui::Startup { banner: Some(banner), notice }).await
            }
            Err(e) => Err(e),
        };
        sim.shutdown().await;
        result
    })
}

/// Fills the demo project's kickoff and connects it to the simulator, through the same audited path as keys.
/// Returns a notice when the simulated source's password could not be put in the OS keyring.
async fn connect_demo(
    project: &mut Project,
    info: &SimInfo,
    rehearsal: &super::RehearsalFlags,
) -> color_eyre::Result<Option<String>> {
    let domains = info.email_domains.join(", ");
    let first = info.email_domains.first().map_or("example.com", String::as_str);
    let client_email = format!("it.manager@{first}");
    // A week ahead at 18:00 UTC, after business hours.
    let cutover = (chrono::Utc::now() + chrono::Duration::days(7)).format("%Y-%m-%d 18:00 Etc/UTC").to_string();
    let seed_values = [
        (Field::Customer, "Demo customer (simulated)"),
        (Field::PartnerName, "Demo engineer"),
        (Field::PartnerEmail, "engineer@partner.example"),
        (Field::ClientName, "IT manager"),
        (Field::ClientEmail, client_email.as_str()),
        (Field::Tenant, info.tenant_domain.as_str()),
        (Field::Domains, domains.as_str()),
        (Field::Cutover, cutover.as_str()),
        // The customer's estimate at kickoff; stage 2 compares it with the inventory.
        (Field::Mailboxes, "120"),
    ];
    seed(project, &seed_values)?;
    let cloud = Cloud::custom(&info.login_url, &info.graph_url, &info.exo_url)
        .wrap_err("the simulator's endpoints are not a usable cloud")?;
    let settings = ConnectionSettings { cloud, client_id: Some(info.client_id.clone()), ca_cert: None };
    // The inventory the customer would run the script for, as the simulated server knows its mailboxes.
    let inventory = project.dir().join("demo-inventory.csv");
    let csv = reqwest::get(format!("{}/inventory.csv", info.control_url))
        .await
        .and_then(reqwest::Response::error_for_status)
        .wrap_err("fetching the simulated server's inventory")?
        .bytes()
        .await
        .wrap_err("reading the simulated server's inventory")?;
    std::fs::write(&inventory, &csv).wrap_err_with(|| format!("writing {}", inventory.display()))?;
    if let Some(file) = &rehearsal.inventory {
        record_rehearsal(project, file, &csv, rehearsal.bandwidth.unwrap_or(info.bandwidth_mbit))?;
    }
    // The transport rules the same script exports beside it, for stage 9.
    let rules = project.dir().join("demo-transport-rules.json");
    let export = reqwest::get(format!("{}/transport-rules.json", info.control_url))
        .await
        .and_then(reqwest::Response::error_for_status)
        .wrap_err("fetching the simulated server's transport rules")?
        .bytes()
        .await
        .wrap_err("reading the simulated server's transport rules")?;
    std::fs::write(&rules, &export).wrap_err_with(|| format!("writing {}", rules.display()))?;
    let link = SimulatorLink { control_url: info.control_url.clone(), inventory: Some(inventory) };
    // Lookups go to the resolver that sees registrar changes first; the others are for watching propagation.
    let resolver = info.dns.iter().min_by(|a, b| a.delay_seconds.total_cmp(&b.delay_seconds)).map(|r| r.addr);
    let access = SourceAccess {
        admin_user: Some(info.source.admin_user.clone()),
        dns_servers: resolver.into_iter().collect(),
        https_port: Some(info.source.https_port),
        ca_cert: Some(info.source.ca_cert_path.clone()),
        ..SourceAccess::default()
    };
    let detail = serde_json::json!({ "cloud": "simulator", "control_url": link.control_url });
    project
        .change(None, "connect-demo", detail, |state| {
            state.m365 = settings;
            state.simulator = Some(link);
            state.source_access = access;
            state.post.rules_file = Some(rules.display().to_string());
            // The demo engineer's own address, an outside mailbox for the outbound test mail.
            state.post.test_address = Some("engineer@partner.example".to_owned());
            Ok::<(), std::convert::Infallible>(())
        })?
        .map_err(|e| color_eyre::eyre::eyre!("{e}"))?;
    // The customer hands the migration account over at kickoff; in the demo it goes straight to the keyring.
    let password = Secret::new(info.source.admin_password.as_str());
    let stored = match Secrets::open() {
        Ok(secrets) => {
            crate::runner::stages::source::store_password(project, &secrets, &password)?.map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    Ok(stored.err().map(|e| crate::tui::strings::demo_without_keyring(&e)))
}

/// A rehearsal's kickoff estimate is the inventory's count, its stage 2 bandwidth the simulated link's, and the
/// project keeps what it rehearses with (the file's name only), so stage 2 can put its estimate beside the run.
fn record_rehearsal(project: &mut Project, file: &Path, csv: &[u8], bandwidth: u32) -> color_eyre::Result<()> {
    let mailboxes = crate::inventory::csv::parse(csv).map(|p| p.mailboxes.len()).unwrap_or(0);
    seed(project, &[(Field::Mailboxes, &mailboxes.to_string())])?;
    let inventory_file = file.file_name().map_or_else(|| "inventory".to_owned(), |n| n.to_string_lossy().into_owned());
    let detail =
        serde_json::json!({ "inventory_file": inventory_file, "bandwidth_mbit": bandwidth, "mailboxes": mailboxes });
    project
        .change(Some(crate::plan::source::STAGE), "record-rehearsal", detail, |state| {
            state.source.upload_mbit_s = Some(bandwidth);
            state.rehearsal = Some(crate::plan::source::rehearsal::Rehearsal {
                inventory_file,
                bandwidth_mbit: bandwidth,
                simulated_initial_sync_secs: None,
            });
            Ok::<(), std::convert::Infallible>(())
        })?
        .map_err(|e| color_eyre::eyre::eyre!("{e}"))
}

/// Stores kickoff values through the runner, like keys in the form: each is audited and the checks run. On a
/// refusal the error says which values were kept.
fn seed(project: &mut Project, values: &[(Field, &str)]) -> color_eyre::Result<()> {
    for (i, (field, value)) in values.iter().enumerate() {
        let command = runner::Command::SetKickoffField { field: *field, value: (*value).to_owned() };
        if let runner::Event::Refused { reason, .. } | runner::Event::Failed { error: reason, .. } =
            runner::execute(project, command)
        {
            let kept: Vec<&str> = values[..i].iter().map(|(f, _)| f.label()).collect();
            let kept = if kept.is_empty() { "none".to_owned() } else { kept.join(", ") };
            color_eyre::eyre::bail!(
                "{}: {reason} (fields kept: {kept}; the ones after it were not set)",
                field.label()
            );
        }
    }
    Ok(())
}

fn lock_notice(acquired: &Acquired) -> Option<String> {
    match acquired {
        Acquired::Fresh => None,
        Acquired::TookOverStale(holder) => {
            Some(format!("Took over a lock left by a cutover that is no longer running ({holder})."))
        }
        Acquired::ReplacedUnreadable => Some("Replaced an unreadable lock file left by a crash.".to_owned()),
    }
}
