//! `cutover new`, `open`, `list`, `demo`, and bare `cutover`: find or make the project, then hand it to the wizard.

use crate::plan::kickoff::Field;
use crate::project::{Acquired, DataHome, Project, ProjectError, ProjectName};
use crate::runner;
use color_eyre::eyre::WrapErr;
use std::process::ExitCode;

pub fn new(name: &str, tenant: Option<&str>) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = ProjectName::parse(name)?;
    // Refuse a bad tenant before anything is created.
    if let Some(tenant) = tenant {
        crate::plan::kickoff::validate_tenant(tenant).wrap_err("--tenant")?;
    }
    let mut project = Project::create(&home, &name, false)?;
    if let Some(tenant) = tenant {
        seed(&mut project, &[(Field::Tenant, tenant)])?;
    }
    crate::tui::run(project, crate::tui::Startup::default())?;
    Ok(ExitCode::SUCCESS)
}

pub fn open(name: &str) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let name = ProjectName::parse(name)?;
    let (project, acquired) = Project::open(&home, &name)?;
    crate::tui::run(project, crate::tui::Startup { banner: None, notice: lock_notice(&acquired) })?;
    Ok(ExitCode::SUCCESS)
}

/// Bare `cutover`: the project opened last, else the list of projects and how to start.
pub fn open_last() -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    match home.last_project() {
        Some(name) => open(name.as_str()),
        None => {
            print_list(&home.list()?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn list(json: bool) -> color_eyre::Result<ExitCode> {
    let home = DataHome::from_env()?;
    let names = home.list()?;
    if json {
        let names: Vec<&str> = names.iter().map(ProjectName::as_str).collect();
        println!("{}", serde_json::json!({ "projects": names, "folder": home.projects() }));
    } else {
        print_list(&names);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(names: &[ProjectName]) {
    if names.is_empty() {
        println!("No projects yet. Start one with `cutover new NAME`, or try `cutover demo`.");
        return;
    }
    println!("Projects:");
    for name in names {
        println!("  {name}");
    }
    println!("Open one with `cutover open NAME`.");
}

/// The name of the demo project; `cutover demo` recreates it each time.
const DEMO_PROJECT: &str = "demo";

/// `cutover demo`: a fresh demo project with a filled kickoff.
pub fn demo() -> color_eyre::Result<ExitCode> {
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
    let mut project = Project::create(&home, &name, true)?;
    let seed_values = [
        (Field::Customer, "Contoso Pharmaceuticals"),
        (Field::PartnerName, "Mike Mackey"),
        (Field::PartnerEmail, "mike.mackey@partner.example"),
        (Field::ClientName, "Megan Bowen"),
        (Field::ClientEmail, "meganb@contoso.example"),
        (Field::Tenant, "contoso.onmicrosoft.com"),
        (Field::Domains, "contoso.example"),
    ];
    seed(&mut project, &seed_values)?;
    crate::tui::run(
        project,
        crate::tui::Startup { banner: Some(crate::tui::strings::DEMO_WITHOUT_SIMULATOR.to_owned()), notice: None },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Stores kickoff values through the runner, like keys in the form: each is audited and the checks run.
fn seed(project: &mut Project, values: &[(Field, &str)]) -> color_eyre::Result<()> {
    for (field, value) in values {
        let command = runner::Command::SetKickoffField { field: *field, value: (*value).to_owned() };
        if let runner::Event::Refused { reason, .. } | runner::Event::Failed { error: reason, .. } =
            runner::execute(project, command)
        {
            color_eyre::eyre::bail!("{}: {reason}", field.label());
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
