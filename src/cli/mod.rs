//! The command line: argument parsing and dispatch. Headless subcommands print text, or one JSON document with
//! `--json`; errors go to stderr with a non-zero exit code and a message that names the fix.

mod auth;
mod check;
mod import;
mod kickoff_flags;
pub mod new_flags;
mod out;
mod overrides;
mod projects;
mod report;
mod resume;
mod set;
mod sim;
mod source;
mod status;
mod task;
mod watch;

use crate::project::{DataHome, ProjectName};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(name = "cutover", version, about = "Run a cutover migration of an on-premises Exchange Server to Exchange Online", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a project and open it in the wizard (or, with --no-open, only create and fill it)
    New {
        /// Project name: letters, digits, '-', '_' or '.'
        name: String,
        /// The Microsoft 365 tenant: its id (GUID) or contoso.onmicrosoft.com
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        connection: new_flags::NewFlags,
        #[command(flatten)]
        kickoff: Box<kickoff_flags::KickoffFlags>,
        /// Create the project, set the fields given, print what was done and exit, without the wizard
        #[arg(long)]
        no_open: bool,
        /// Make it a demo project of a running `cutover sim` (its control URL, on this machine): its demo-only
        /// tasks, such as publish-verification, act on that simulator
        #[arg(long, value_name = "CONTROL_URL")]
        simulator: Option<String>,
    },
    /// Open a project in the wizard
    Open { name: String },
    /// List the projects
    List {
        #[arg(long)]
        json: bool,
    },
    /// Run the wizard on a fresh demo project against the embedded simulator
    Demo {
        /// Simulator scenario (small, typical, large, trouble)
        #[arg(long, default_value = "typical")]
        scenario: String,
        /// How many times faster than real time the simulated clock runs
        #[arg(long, default_value_t = 60.0, allow_negative_numbers = true)]
        speed: f64,
        /// Lifetime of the simulator's access tokens in seconds (short values make clients refresh)
        #[arg(long, value_name = "SECS", default_value_t = 3599, value_parser = clap::value_parser!(u64).range(1..))]
        token_lifetime: u64,
        #[command(flatten)]
        rehearsal: RehearsalFlags,
    },
    /// Run the simulator of Microsoft 365 and the source Exchange server on loopback
    Sim {
        /// Scenario: small, typical, large, trouble, or a path to a scenario JSON file
        #[arg(long, default_value = "typical")]
        scenario: String,
        /// How many times faster than real time the simulated clock runs
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        speed: f64,
        /// Port of the HTTP endpoints (random when absent)
        #[arg(long)]
        port: Option<u16>,
        /// Print one JSON document with the endpoints and credentials
        #[arg(long)]
        json: bool,
        /// Approve every device code sign-in at once
        #[arg(long)]
        auto_approve: bool,
        /// Lifetime of the simulator's access tokens in seconds (short values make clients refresh)
        #[arg(long, value_name = "SECS", default_value_t = 3599, value_parser = clap::value_parser!(u64).range(1..))]
        token_lifetime: u64,
        #[command(flatten)]
        rehearsal: RehearsalFlags,
    },
    /// Import data into a project
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Sign a project in to Microsoft 365, show the sign-in, or forget it
    Auth {
        #[command(subcommand)]
        action: auth::AuthAction,
        /// Defaults to the project opened last
        #[arg(long, global = true)]
        project: Option<String>,
        /// The application (client) id registered in the tenant; remembered by the project
        #[arg(long, global = true)]
        client_id: Option<String>,
        /// Sign in as the app with its client secret, read from one line of stdin
        #[arg(long, global = true)]
        client_secret_stdin: bool,
        #[arg(long, global = true)]
        json: bool,
    },
    /// Run the read-only checks of the stages that have them and record them; exit code 0 only if none failed
    Check {
        /// Defaults to the project opened last
        #[arg(long)]
        project: Option<String>,
        /// Only this stage (1 to 9); stages without live checks yet say so
        #[arg(long)]
        stage: Option<u8>,
        #[arg(long)]
        json: bool,
    },
    /// Show or set how to reach the source Exchange server; the password goes to the OS keyring only
    Source(source::SourceArgs),
    /// Show where every stage of a project stands
    Status {
        /// Defaults to the project opened last
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run a task of the plan by its id (add-domains, create-endpoint, …), as the wizard does; exit code 0 only
    /// if it succeeded
    Task {
        /// The task's id; an unknown one lists them all
        task: String,
        /// Defaults to the project opened last
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
        /// Run a task that writes to the tenant without asking first
        #[arg(long)]
        yes: bool,
        /// Only this mailbox (its address; repeat for more), for the tasks that act per mailbox (retry-failed,
        /// approve-skipped)
        #[arg(long = "mailbox", value_name = "ADDRESS")]
        mailboxes: Vec<String>,
        /// When what the task records happened (RFC 3339, e.g. 2026-12-01T21:30:00Z), for a task that records a
        /// time (record-mx-change); default now
        #[arg(long)]
        at: Option<String>,
    },
    /// Go on despite a failed check, for a written reason kept in the project and the closeout report
    Override {
        /// The check's stage, 1 to 9
        #[arg(long)]
        stage: u8,
        /// The check's id, such as cutover-limits; an unknown one lists the stage's checks
        #[arg(long)]
        check: String,
        /// Why going on is right: a few words at least
        #[arg(long)]
        reason: String,
        /// Defaults to the project opened last
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Store a setting of a stage screen (cloud-accounts, usage-location, concurrency, …), as the wizard's
    /// editor does; an unknown name lists them
    Set {
        setting: String,
        value: String,
        /// Defaults to the project opened last
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Follow the batch without the wizard, read-only: a line per change (one JSON object per line with --json);
    /// it never starts the batch
    Watch {
        /// Defaults to the project opened last
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
        /// Exit with code 0 once this state is reached (without it, watch until Ctrl-C)
        #[arg(long, value_enum)]
        until: Option<watch::UntilArg>,
    },
    /// Write a report of the project: the migration report on a fresh read of the tenant, the closeout report
    Report {
        #[command(subcommand)]
        what: ReportWhat,
    },
    /// Print a shell completion script: `cutover completions bash > /etc/bash_completion.d/cutover`
    Completions { shell: clap_complete::Shell },
}

/// A rehearsal: the simulator moves the customer's own mailboxes at the customer's bandwidth.
#[derive(Debug, Clone, clap::Args)]
pub struct RehearsalFlags {
    /// The customer's inventory CSV (as assets/Get-CutoverInventory.ps1 writes it): its mailboxes, sizes and item
    /// counts replace the scenario's, to rehearse the cutover with the real mailbox set
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// The customer's upload bandwidth in Mbit/s: the simulated link's throughput
    #[arg(long, value_name = "MBIT", value_parser = clap::value_parser!(u32).range(1..))]
    pub bandwidth: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// The mailbox inventory CSV written by assets/Get-CutoverInventory.ps1
    Inventory {
        file: PathBuf,
        /// Defaults to the project opened last
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
        /// Let this import remove more than a few mailboxes that are no longer in the file
        #[arg(long)]
        allow_removals: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportWhat {
    /// The migration report (as stage 6's task export-report writes it), to stdout or --out FILE
    Migration {
        /// Defaults to the project opened last
        #[arg(long)]
        project: Option<String>,
        #[arg(long, value_enum, default_value = "md")]
        format: report::FormatArg,
        /// Write it to this file instead of stdout
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The closeout report (as stage 9's task closeout-report writes it), from the project alone, to stdout or
    /// --out FILE
    Closeout {
        /// Defaults to the project opened last
        #[arg(long)]
        project: Option<String>,
        #[arg(long, value_enum, default_value = "md")]
        format: report::CloseoutFormatArg,
        /// Write it to this file instead of stdout
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// The project named on the command line, else the one opened last.
fn project_name(home: &DataHome, given: Option<&str>) -> color_eyre::Result<ProjectName> {
    let name = match given {
        Some(name) => ProjectName::parse(name)?,
        None => home.last_project().ok_or_else(|| {
            color_eyre::eyre::eyre!(
                "no project has been opened yet; name one with --project NAME (`cutover list` shows them)"
            )
        })?,
    };
    // A headless command logs to the project's cutover.log like the wizard; a project not made yet has none.
    let dir = home.project(&name);
    if dir.is_dir()
        && let Err(e) = crate::logging::init(&dir.join(crate::project::LOG_FILE))
    {
        eprintln!("warning: cutover.log of project {name} cannot be written ({e}); going on without a log");
    }
    Ok(name)
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) if out::is_closed(&e) => ExitCode::from(out::CLOSED_EXIT_CODE),
        Err(e) => {
            out::error(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> color_eyre::Result<ExitCode> {
    match cli.command {
        None => projects::open_last(),
        Some(Command::New { name, tenant, connection, kickoff, no_open, simulator }) => projects::new(
            &name,
            projects::NewArgs {
                tenant: tenant.as_deref(),
                connection: connection.settings()?,
                kickoff: &kickoff,
                no_open,
                simulator: simulator.as_deref(),
            },
        ),
        Some(Command::Open { name }) => projects::open(&name),
        Some(Command::List { json }) => projects::list(json),
        Some(Command::Demo { scenario, speed, token_lifetime, rehearsal }) => {
            projects::demo(scenario, speed, Duration::from_secs(token_lifetime), rehearsal)
        }
        Some(Command::Sim { scenario, speed, port, json, auto_approve, token_lifetime, rehearsal }) => {
            sim::run(scenario, speed, port, json, auto_approve, Duration::from_secs(token_lifetime), rehearsal)
        }
        Some(Command::Import { what: ImportWhat::Inventory { file, project, json, allow_removals } }) => {
            import::inventory(&file, project.as_deref(), json, allow_removals)
        }
        Some(Command::Auth { action, project, client_id, client_secret_stdin, json }) => auth::run(auth::AuthArgs {
            action,
            project: project.as_deref(),
            client_id: client_id.as_deref(),
            client_secret_stdin,
            json,
        }),
        Some(Command::Status { project, json }) => status::run(project.as_deref(), json),
        Some(Command::Check { project, stage, json }) => check::run(project.as_deref(), stage, json),
        Some(Command::Source(args)) => source::run(args),
        Some(Command::Task { task, project, json, yes, mailboxes, at }) => {
            task::run(&task, project.as_deref(), json, yes, mailboxes, at.as_deref())
        }
        Some(Command::Override { stage, check, reason, project, json }) => overrides::run(overrides::OverrideArgs {
            stage,
            check: &check,
            reason: &reason,
            project: project.as_deref(),
            json,
        }),
        Some(Command::Set { setting, value, project, json }) => set::run(&setting, &value, project.as_deref(), json),
        Some(Command::Watch { project, json, until }) => watch::run(project.as_deref(), json, until),
        Some(Command::Report { what: ReportWhat::Migration { project, format, out } }) => {
            report::migration(project.as_deref(), format, out.as_deref())
        }
        Some(Command::Report { what: ReportWhat::Closeout { project, format, out } }) => {
            report::closeout(project.as_deref(), format, out.as_deref())
        }
        Some(Command::Completions { shell }) => completions(shell),
    }
}

/// The completion script of `shell`, made from the same definition that parses the command line.
fn completions(shell: clap_complete::Shell) -> color_eyre::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "cutover", &mut script);
    out::outln!("{}", String::from_utf8_lossy(&script).trim_end())?;
    Ok(ExitCode::SUCCESS)
}

/// The async runtime of a headless command: two workers are plenty for a few concurrent requests.
fn runtime() -> color_eyre::Result<tokio::runtime::Runtime> {
    use color_eyre::eyre::WrapErr;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("starting the async runtime")
}
