//! The OS keyring, for real: a secret written by one process is read back by another, so no in-memory mock can
//! pass. Run through `scripts/with-keyring.sh` in CI (Secret Service with gnome-keyring, else the kernel keyring).

use cutover::secrets::{Secret, SecretKind, Secrets};
use std::process::Command;

const ROLE: &str = "CUTOVER_KEYRING_TEST_ROLE";
const PROJECT: &str = "CUTOVER_KEYRING_TEST_PROJECT";
const VALUE: &str = "CUTOVER_KEYRING_TEST_VALUE";

/// Runs in a child process only: writes, reads or deletes as told by the environment.
#[test]
#[ignore = "run by a_secret_crosses_processes_through_the_os_keyring in a child process"]
fn keyring_child() {
    let (Ok(role), Ok(project)) = (std::env::var(ROLE), std::env::var(PROJECT)) else { return };
    let secrets = Secrets::open().expect("an OS keyring");
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
