//! The OS keyring, for real: a secret written by one process is read back by another, so no in-memory mock can
//! pass. Run through `scripts/with-keyring.sh` in CI (Secret Service with gnome-keyring, else the kernel keyring).
//! Also: a session bus without a usable Secret Service (an SSH session) leads to the kernel keyring.

use cutover::secrets::{Secret, SecretKind, Secrets, StoreKind};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

const ROLE: &str = "CUTOVER_KEYRING_TEST_ROLE";
const PROJECT: &str = "CUTOVER_KEYRING_TEST_PROJECT";
const VALUE: &str = "CUTOVER_KEYRING_TEST_VALUE";

/// Runs in a child process only: writes, reads or deletes as told by the environment.
#[test]
#[ignore = "run by a_secret_crosses_processes_through_the_os_keyring in a child process"]
fn keyring_child() {
    let (Ok(role), Ok(project)) = (std::env::var(ROLE), std::env::var(PROJECT)) else { return };
    let secrets = Secrets::open().unwrap_or_else(|e| panic!("no OS keyring: {e}"));
    match role.as_str() {
        "write" => {
            let value = std::env::var(VALUE).expect("value");
            secrets.save(&project, &SecretKind::ClientSecret, &Secret::new(value)).expect("save");
        }
        "read" => {
            let got = secrets.load(&project, &SecretKind::ClientSecret).expect("load").expect("present");
            println!("READ:{}", got.expose());
        }
        "delete" => assert!(secrets.delete(&project, &SecretKind::ClientSecret).expect("delete")),
        // Which store was chosen, and that it keeps a secret.
        "auto" => {
            let secret = Secret::new(std::env::var(VALUE).expect("value"));
            secrets.save(&project, &SecretKind::ClientSecret, &secret).expect("save in the chosen store");
            let back = secrets.load(&project, &SecretKind::ClientSecret).expect("load").expect("present");
            assert_eq!(back.expose(), secret.expose());
            assert!(secrets.delete(&project, &SecretKind::ClientSecret).expect("delete"));
            println!("KIND:{:?}", secrets.kind());
        }
        other => panic!("unknown role {other}"),
    }
}

fn child(role: &str, project: &str, value: &str) -> std::process::Output {
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args(["--ignored", "--exact", "keyring_child", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(PROJECT, project)
        .env(VALUE, value)
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{role}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_secret_crosses_processes_through_the_os_keyring() {
    let secrets = Secrets::open().expect("an OS keyring: run the tests through scripts/with-keyring.sh");
    eprintln!("keyring: {}", secrets.kind());
    let project = format!("keyring-test-{}-{}", std::process::id(), fastrand::u64(..));
    let value = format!("s3cret-{}", fastrand::u64(..));
    child("write", &project, &value);
    // Read in this process and in another one.
    let here = secrets.load(&project, &SecretKind::ClientSecret).expect("load").expect("written by the child");
    assert_eq!(here.expose(), value);
    let out = child("read", &project, "");
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("READ:{value}")));
    child("delete", &project, "");
    assert_eq!(secrets.load(&project, &SecretKind::ClientSecret).expect("load"), None, "deleted by another process");
}

/// A session bus of our own, ended when dropped.
struct Bus(Child);

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_session_bus_without_a_usable_secret_service_falls_back_to_the_kernel_keyring() {
    let project = format!("keyring-ssh-{}-{}", std::process::id(), fastrand::u64(..));
    let exe = std::env::current_exe().expect("test binary");
    let run = |store: Option<&str>, bus: Option<&str>| {
        let mut cmd = Command::new(&exe);
        cmd.args(["--ignored", "--exact", "keyring_child", "--nocapture", "--test-threads=1"])
            .env(ROLE, "auto")
            .env(PROJECT, &project)
            .env(VALUE, "probe-value")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove(cutover::secrets::STORE_ENV);
        if let Some(store) = store {
            cmd.env(cutover::secrets::STORE_ENV, store);
        }
        if let Some(bus) = bus {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", bus);
        }
        cmd.output().expect("spawn")
    };
    let kernel = run(Some("kernel-keyring"), None);
    if !kernel.status.success() {
        eprintln!(
            "skipped: the kernel keyring is not usable here (a sandbox filtering keyctl?): {}",
            String::from_utf8_lossy(&kernel.stdout)
        );
        return;
    }
    // Bare session buses, as an SSH login gets: no secrets daemon runs on them. On the first (the system's session
    // configuration), the bus starts gnome-keyring on demand where it is installed, in a throwaway data
    // directory and with no keyring: unusable just the same. The second knows no services at all.
    let data = std::env::temp_dir().join(format!("{project}-data"));
    std::fs::create_dir_all(&data).expect("data dir");
    let config = data.join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir={}</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>"#,
            data.display()
        ),
    )
    .expect("bus config");
    let config_arg = format!("--config-file={}", config.display());
    for bus_args in [vec!["--session"], vec![config_arg.as_str()]] {
        let daemon = Command::new("dbus-daemon")
            .args(&bus_args)
            .args(["--nofork", "--print-address=1"])
            .env("XDG_DATA_HOME", &data)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut daemon) = daemon else {
            eprintln!("skipped: dbus-daemon is not installed (package dbus)");
            return;
        };
        let mut address = String::new();
        let stdout = daemon.stdout.take().expect("piped");
        let bus = Bus(daemon);
        std::io::BufReader::new(stdout).read_line(&mut address).expect("bus address");
        let address = address.trim();
        assert!(address.starts_with("unix:"), "dbus-daemon {bus_args:?} printed {address:?}");

        let auto = run(None, Some(address));
        let out = String::from_utf8_lossy(&auto.stdout);
        assert!(auto.status.success(), "{bus_args:?}: {out}\n{}", String::from_utf8_lossy(&auto.stderr));
        assert!(out.contains(&format!("KIND:{:?}", StoreKind::KernelKeyring)), "{bus_args:?}: {out}");

        // Asked for by name, the unusable Secret Service is refused with the fix, not used.
        let forced = run(Some("secret-service"), Some(address));
        let text = format!("{}{}", String::from_utf8_lossy(&forced.stdout), String::from_utf8_lossy(&forced.stderr));
        assert!(!forced.status.success(), "{bus_args:?}: {text}");
        assert!(text.contains("no OS keyring is available") && text.contains("kernel-keyring"), "{text}");
        drop(bus);
    }
    let _ = std::fs::remove_dir_all(&data);
}
