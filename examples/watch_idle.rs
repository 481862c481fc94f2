//! The wizard's footprint while stage 5's watch follows 2,000 mailboxes: its peak memory (VmHWM) and its CPU
//! between two polls, read from /proc/self. Linux only.
//!
//! ```text
//! cargo build --release --bin cutover --example watch_idle
//! target/release/examples/watch_idle            # ~2 minutes
//! ```
//!
//! It starts `cutover sim --json --scenario large` (the binary next to this one's folder) as a child process, so
//! the simulator's memory and CPU are not counted; verifies the primary domain, makes the endpoint
//! (MaxConcurrentMigrations 100) and the batch, and moves the simulated clock two hours on. Then this process
//! runs what the wizard runs: the real `watch::watch` (its poll every 30 s, progress and notes), and the real
//! event loop (`tui::event_loop`, drawing on a 200x50 `TestBackend`, ticking every second while the job runs) on
//! stage 5's live table, each cycle's view handed over as the runner does (`Event::BatchWatched`, the stage's
//! checks run on it, the view serialized as for `live/batch.json`). After two cycles it reads utime + stime from
//! /proc/self/stat from 1 s after a cycle to 28 s after it (27 s with no poll), and over one whole 30 s interval,
//! then prints VmHWM and VmRSS and exits.

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("watch_idle reads /proc/self: Linux only");
}

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}

#[cfg(target_os = "linux")]
#[path = "../tests/support/app_tokens.rs"]
mod app_tokens;

#[cfg(target_os = "linux")]
mod linux {
    use super::app_tokens::AppTokens;
    use chrono::Utc;
    use cutover::inventory::{Inventory, csv};
    use cutover::m365::exo::{ExoClient, OutlookAnywhere};
    use cutover::m365::graph::{DnsRecordData, GraphClient};
    use cutover::m365::{Cloud, HttpClient, Resource, RetryPolicy, Session};
    use cutover::plan::migrate::view::BatchView;
    use cutover::project::{AuditLog, ProjectState};
    use cutover::protocol::Event;
    use cutover::runner::jobs::JobContext;
    use cutover::runner::stages::migrate::watch;
    use cutover::secrets::Secret;
    use cutover::tui::app::{Focus, View};
    use cutover::tui::{App, Effect, Outside, Theme, event_loop};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use serde_json::{Value, json};
    use std::io::Read;
    use std::process::{Command, Stdio};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};
    use tokio::sync::mpsc;

    fn s<'a>(info: &'a Value, pointer: &str) -> &'a str {
        info.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("{pointer} in the sim's JSON"))
    }

    /// No clipboard and no synchronized update on a test backend.
    struct Headless;

    impl Outside for Headless {
        fn effect(&mut self, _effect: &Effect) {}
    }

    /// utime + stime of this process, in clock ticks.
    fn cpu_ticks() -> u64 {
        let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
        // The fields after the command name (which is in parentheses and may hold spaces).
        let rest = &stat[stat.rfind(')').expect("comm") + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    }

    fn status_kb(name: &str) -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Percent of one core used over `window`.
    fn cpu_over(window: Duration) -> f64 {
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        let before = cpu_ticks();
        std::thread::sleep(window);
        (cpu_ticks() - before) as f64 / hz / window.as_secs_f64() * 100.0
    }

    pub fn main() {
        let exe = std::env::current_exe().expect("this program");
        let cutover = exe.parent().and_then(|p| p.parent()).expect("target/release").join("cutover");
        let mut sim = Command::new(&cutover)
            .args(["sim", "--json", "--scenario", "large"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e} (cargo build --release --bin cutover first)", cutover.display()));
        let mut out = sim.stdout.take().expect("stdout");
        let mut text = String::new();
        let mut buf = [0u8; 4096];
        let info: Value = loop {
            let n = out.read(&mut buf).expect("the sim's JSON");
            assert!(n > 0, "the simulator ended before printing its JSON");
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            if let Ok(v) = serde_json::from_str(&text) {
                break v;
            }
        };
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let cycles = Arc::new(AtomicU64::new(0));
        let measured = {
            let cycles = cycles.clone();
            std::thread::spawn(move || {
                let wait_for = |n: u64| {
                    while cycles.load(Ordering::SeqCst) < n {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                };
                wait_for(2);
                let seen = cycles.load(Ordering::SeqCst);
                wait_for(seen + 1);
                std::thread::sleep(Duration::from_secs(1));
                let between = cpu_over(Duration::from_secs(27));
                assert_eq!(cycles.load(Ordering::SeqCst), seen + 1, "no poll in the window");
                wait_for(seen + 2);
                let whole = cpu_over(Duration::from_secs(30));
                (between, whole, cycles.load(Ordering::SeqCst))
            })
        };
        rt.block_on(run(&info, cycles, measured));
        // SAFETY: kill(2) on our own child's pid with a valid signal; it removes its temporary files on SIGTERM.
        unsafe { libc::kill(sim.id() as i32, libc::SIGTERM) };
        let _ = sim.wait();
    }

    async fn run(info: &Value, cycles: Arc<AtomicU64>, measured: std::thread::JoinHandle<(f64, f64, u64)>) {
        let http = HttpClient::new(RetryPolicy::default(), None).expect("client");
        let cloud = Cloud::custom(s(info, "/login_url"), s(info, "/graph_url"), s(info, "/exo_url")).expect("cloud");
        let tokens = Arc::new(AppTokens::new(
            s(info, "/login_url"),
            s(info, "/tenant_id"),
            s(info, "/app_id"),
            s(info, "/app_secret"),
        ));
        let session = |resource| Session { http: http.clone(), tokens: tokens.clone(), resource };
        let exo = ExoClient::new(session(Resource::ExchangeOnline), &cloud.exo(), s(info, "/tenant_id")).expect("exo");
        let graph = GraphClient::new(session(Resource::Graph), &cloud.graph()).expect("graph");
        let control = s(info, "/control_url");
        let domain = s(info, "/email_domains/0");
        graph.add_domain(domain).await.expect("add domain");
        let txt = graph
            .verification_records(domain)
            .await
            .expect("records")
            .into_iter()
            .find_map(|r| match r.data {
                DnsRecordData::Txt { text } => Some(text),
                _ => None,
            })
            .expect("TXT");
        let record = json!({ "name": domain, "type": "TXT", "ttl": 300, "values": [txt] });
        reqwest::Client::new().post(format!("{control}/dns/records")).json(&record).send().await.expect("registrar");
        graph.verify_domain(domain).await.expect("verify");
        let source = OutlookAnywhere {
            exchange_server: s(info, "/source/host").to_owned(),
            rpc_proxy_server: s(info, "/source/host").to_owned(),
            authentication: "Basic".into(),
            email_address: format!("administrator@{domain}"),
            user_name: s(info, "/source/admin_user").to_owned(),
            password: Secret::new(s(info, "/source/admin_password")),
            mailbox_permission: Some("FullAccess".into()),
        };
        exo.new_migration_endpoint("CutoverEndpoint", &source, Some(100)).await.expect("endpoint");
        exo.new_cutover_batch("CutoverBatch", "CutoverEndpoint", &[], true).await.expect("batch");
        let advance = json!({ "seconds": 2 * 3600 });
        reqwest::Client::new().post(format!("{control}/clock/advance")).json(&advance).send().await.expect("clock");

        // The wizard as after stage 2's import, on stage 5's live table.
        let file = std::fs::read(s(info, "/inventory_csv")).expect("the inventory CSV");
        let mailboxes = csv::parse(&file[..]).expect("inventory").mailboxes;
        assert_eq!(mailboxes.len(), 2000);
        let mut state = ProjectState::new("footprint", Utc::now(), true);
        state.inventory =
            Some(Arc::new(Inventory { imported_at: Utc::now(), file_name: "inventory.csv".into(), mailboxes }));
        let state: Arc<ProjectState> = Arc::new(state);
        let mut app = App::new(state.clone(), None);
        app.stage = cutover::plan::migrate::STAGE;
        app.view = View::Table;
        app.focus = Focus::Main;
        let theme = Theme::new(true);
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
        let (command_tx, _command_rx) = mpsc::unbounded_channel();
        let (event_tx, mut event_rx) = mpsc::unbounded_channel();
        let (_key_tx, key_rx) = futures::channel::mpsc::unbounded::<std::io::Result<crossterm::event::Event>>();

        let home = tempfile::tempdir().expect("temp dir");
        let ctx = JobContext::new(1, event_tx.clone(), AuditLog::new(home.path().join("audit.jsonl")));
        let at = Utc::now();
        let started = Event::JobStarted { id: 1, label: "Start the batch".into(), stage: Some(app.stage), at };
        event_tx.send(started).expect("event");
        let settings = state.migrate;
        let live = home.path().join("batch.json");
        let seen = |view: &BatchView| {
            // As the runner's record_view: the view to disk, the checks, the view to the screen.
            std::fs::write(&live, serde_json::to_vec(view).expect("JSON")).expect("live view");
            let _ = cutover::plan::migrate::checks::run_checks(view, &settings, Utc::now());
            let event = Event::BatchWatched { state: state.clone(), view: Arc::new(view.clone()) };
            event_tx.send(event).expect("event");
            cycles.fetch_add(1, Ordering::SeqCst);
        };
        let began = Instant::now();
        let mut outside = Headless;
        let pace = watch::Pace { settings, demo: false };
        let watching = watch::watch(&ctx, &exo, "CutoverBatch", pace, BatchView::default(), seen);
        let screen = event_loop(&mut terminal, &mut app, &theme, key_rx, (&command_tx, &mut event_rx), &mut outside);
        let report = async {
            let (between, whole, n) =
                tokio::task::spawn_blocking(move || measured.join().expect("measure")).await.expect("measure");
            println!("watch of 2,000 mailboxes, MaxConcurrentMigrations 100, {n} cycles in {:.0?}:", began.elapsed());
            println!("  CPU between polls (27 s, no poll): {between:.2} % of one core");
            println!("  CPU over one 30 s poll interval (one poll in it): {whole:.2} % of one core");
            println!("  VmHWM {} kB, VmRSS {} kB", status_kb("VmHWM:"), status_kb("VmRSS:"));
        };
        tokio::select! {
            _ = watching => panic!("the watch ended"),
            r = screen => panic!("the event loop ended: {r:?}"),
            () = report => {}
        }
        ctx.cancel.cancel();
    }
}
