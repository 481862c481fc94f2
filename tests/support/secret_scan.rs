//! The secret scan of issue 15: every secret the simulator issued or accepted (`GET {control}/secrets`: access
//! and refresh tokens, device codes, the client secret, the source's password, the users' initial passwords)
//! and anything shaped like a JWT (`eyJ…`), looked for in files, terminal captures and processes' arguments and
//! environments. Included by path (`#[path]`) in the soak and the pty demo test, so both scan the same way.
// Each including test file uses some of these, none all of them.
#![allow(dead_code)]

use std::path::Path;

/// What to look for, and what was looked at.
pub struct SecretScan {
    secrets: Vec<String>,
    /// Every place scanned (a file, a capture, a process's cmdline or environ), for the report's figure.
    pub places: Vec<String>,
    /// `place: what` for each secret found.
    pub found: Vec<String>,
}

impl SecretScan {
    /// The simulator's secrets from its control API (`control` is `SimInfo.control_url`).
    pub fn from_simulator(control: &str) -> SecretScan {
        let v: serde_json::Value = tokio::runtime::Runtime::new().expect("runtime").block_on(async {
            let answer = reqwest::get(format!("{control}/secrets")).await.expect("GET /secrets");
            answer.json().await.expect("the secrets as JSON")
        });
        let mut secrets = Vec::new();
        for key in ["access_tokens", "refresh_tokens", "device_codes", "client_secrets", "passwords"] {
            let list = v[key].as_array().unwrap_or_else(|| panic!("{key} in {v}"));
            secrets.extend(list.iter().filter_map(|s| s.as_str()).map(str::to_owned));
        }
        assert!(!v["access_tokens"].as_array().is_some_and(Vec::is_empty), "tokens were issued: {v}");
        SecretScan::with(secrets)
    }

    /// Fixed secrets only (a scenario's source password, the simulator's client secret).
    pub fn with(mut secrets: Vec<String>) -> SecretScan {
        // Too short to be told from ordinary text: no simulator secret is this short.
        secrets.retain(|s| s.len() >= 8);
        secrets.sort();
        secrets.dedup();
        SecretScan { secrets, places: Vec::new(), found: Vec::new() }
    }

    pub fn secrets(&self) -> usize {
        self.secrets.len()
    }

    /// Scans `bytes`, known as `place`.
    pub fn bytes(&mut self, place: &str, bytes: &[u8]) {
        self.places.push(place.to_owned());
        let text = String::from_utf8_lossy(bytes);
        for s in &self.secrets {
            if text.contains(s.as_str()) {
                self.found.push(format!("{place}: a secret the simulator issued ({}…)", &s[..6.min(s.len())]));
            }
        }
        if let Some(at) = jwt_like(&text) {
            self.found.push(format!("{place}: a JWT-shaped string at byte {at}"));
        }
    }

    /// Scans every file under `dir` (following no symlink), each a place.
    pub fn tree(&mut self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let path = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                self.tree(&path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
                self.bytes(&path.display().to_string(), &bytes);
            }
        }
    }

    /// Scans `/proc/<pid>/cmdline` and `/proc/<pid>/environ` of a running process, two places. A process that
    /// ended meanwhile is skipped and counts for nothing.
    pub fn process(&mut self, pid: u32) {
        for part in ["cmdline", "environ"] {
            let path = format!("/proc/{pid}/{part}");
            if let Ok(bytes) = std::fs::read(&path) {
                self.bytes(&path, &bytes);
            }
        }
    }

    /// Fails the test naming each secret found.
    pub fn assert_clean(&self) {
        assert!(self.found.is_empty(), "secrets found:\n{}", self.found.join("\n"));
    }
}

/// Where a JWT-shaped string starts (`eyJ` then base64url, a dot, base64url), if any.
pub fn jwt_like(text: &str) -> Option<usize> {
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices("eyJ").map(|(at, _)| at).find(|&at| {
        let rest = &text[at..];
        let head: String = rest.chars().take_while(|c| b64(*c)).collect();
        head.len() >= 10
            && rest[head.len()..].starts_with('.')
            && rest[head.len() + 1..].chars().take_while(|c| b64(*c)).count() >= 10
    })
}

/// The test snapshots of the repository (`tests/snapshots/`, `src/**/snapshots/`), scanned for the fixed secrets
/// of every built-in scenario and for JWT-shaped strings.
pub fn scan_snapshots(scan: &mut SecretScan) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    scan.tree(&root.join("tests/snapshots"));
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("src").filter_map(Result::ok) {
            let path = e.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "snapshots") {
                    scan.tree(&path);
                } else {
                    stack.push(path);
                }
            }
        }
    }
}

/// The fixed secrets of the built-in scenarios (their source passwords) and the simulator's client secret.
pub fn fixed_secrets() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
    let mut secrets = vec!["sim~not-a-real-secret.0123456789".to_owned()];
    for e in std::fs::read_dir(dir).expect("assets/scenarios").filter_map(Result::ok) {
        let text = std::fs::read_to_string(e.path()).expect("scenario");
        let v: serde_json::Value = serde_json::from_str(&text).expect("scenario JSON");
        if let Some(p) = v.pointer("/source/admin_password").and_then(|p| p.as_str()) {
            secrets.push(p.to_owned());
        }
    }
    secrets
}
