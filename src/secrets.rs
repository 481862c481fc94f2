//! Secrets: the only module that reads or writes them. They live in the OS credential store under the service
//! `cutover` and the account `<project id>/<what>` (the caller passes the project's id, so secrets follow the project, not its name): on Linux the Secret Service when the session bus offers a usable
//! one (probed: it answers and has a default keyring that can be unlocked), else the kernel keyring (what an SSH
//! session on a jump host has); the Keychain on macOS; the Credential Manager on Windows. There is no plaintext
//! fallback: without a store, saving a secret fails with what to install or run.
//! In memory a secret is a [`Secret`], wiped on drop, printed as `***`.

use keyring_core::{CredentialStore, Entry};
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The service name every entry is filed under.
pub const SERVICE: &str = "cutover";

/// Set to `secret-service` or `kernel-keyring` to choose the Linux store instead of detecting it.
pub const STORE_ENV: &str = "CUTOVER_KEYRING";

/// A secret value: zeroed when dropped, never shown by `Debug`, and neither `Display` nor `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(value.into()))
    }

    /// The value, for the one place that must send it (an HTTP form field or header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Read straight from a service's answer (a token), so the value never sits in a plain `String`.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Secret(Zeroizing::new(String::deserialize(d)?)))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What a secret is; it names the keyring account `<project id>/<what>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// The identity platform refresh token of the engineer's sign-in.
    RefreshToken,
    /// The client secret of the app used for unattended runs.
    ClientSecret,
    /// The password of the source Exchange migration account.
    SourcePassword,
    /// A password Exchange generated for a migrated user.
    UserPassword(String),
}

impl SecretKind {
    pub fn account_suffix(&self) -> String {
        match self {
            SecretKind::RefreshToken => "refresh-token".into(),
            SecretKind::ClientSecret => "client-secret".into(),
            SecretKind::SourcePassword => "source-password".into(),
            SecretKind::UserPassword(user) => format!("user-password/{user}"),
        }
    }
}

/// Which OS store holds the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    SecretService,
    KernelKeyring,
    MacKeychain,
    WindowsCredentialManager,
    /// keyring-core's in-memory mock; only unit tests build it.
    #[cfg(test)]
    Mock,
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreKind::SecretService => "the Secret Service (desktop keyring)",
            StoreKind::KernelKeyring => "the Linux kernel keyring (session keyring, kept until reboot)",
            StoreKind::MacKeychain => "the macOS Keychain",
            StoreKind::WindowsCredentialManager => "the Windows Credential Manager",
            #[cfg(test)]
            StoreKind::Mock => "the in-memory mock store",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "no OS keyring is available to keep secrets ({detail}). On a desktop, start a Secret Service (gnome-keyring or KeePassXC) in your session; on a server, use a kernel with keyutils (the kernel keyring) or set {STORE_ENV}=kernel-keyring. cutover never writes secrets to a file"
    )]
    NoStore { detail: String },
    #[error("{STORE_ENV}='{0}' is not a store: use secret-service or kernel-keyring")]
    UnknownStore(String),
    #[error(
        "the keyring is locked or refused access to '{account}': unlock it (log in to the desktop, or run `gnome-keyring-daemon --unlock`) and try again ({detail})"
    )]
    Locked { account: String, detail: String },
    #[error("the keyring failed on '{account}': {detail}")]
    Platform { account: String, detail: String },
    #[error("the keyring entry '{account}' is not valid text; delete it with `cutover auth logout` and sign in again")]
    BadEncoding { account: String },
}

/// A handle on the OS credential store, cheap to clone and to move to a blocking thread.
#[derive(Clone)]
pub struct Secrets {
    store: Arc<CredentialStore>,
    kind: StoreKind,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets").field("kind", &self.kind).finish()
    }
}

impl Secrets {
    /// Opens the platform's store. Calls are blocking (D-Bus, syscalls): run them off the async runtime.
    pub fn open() -> Result<Secrets, SecretsError> {
        let (store, kind) = platform_store()?;
        Ok(Secrets { store, kind })
    }

    #[cfg(test)]
    pub(crate) fn mock() -> Secrets {
        let store: Arc<CredentialStore> = keyring_core::mock::Store::new().unwrap_or_else(|_| unreachable!());
        Secrets { store, kind: StoreKind::Mock }
    }

    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    fn entry(&self, project: &str, what: &SecretKind) -> Result<(Entry, String), SecretsError> {
        let account = format!("{project}/{}", what.account_suffix());
        let entry = Entry::new_in_store(&self.store, SERVICE, &account).map_err(|e| map_error(&account, e))?;
        Ok((entry, account))
    }

    pub fn save(&self, project: &str, what: &SecretKind, secret: &Secret) -> Result<(), SecretsError> {
        let (entry, account) = self.entry(project, what)?;
        entry.set_password(secret.expose()).map_err(|e| map_error(&account, e))
    }

    /// The secret, or `None` when there is none.
    pub fn load(&self, project: &str, what: &SecretKind) -> Result<Option<Secret>, SecretsError> {
        let (entry, account) = self.entry(project, what)?;
        match entry.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(&account, e)),
        }
    }

    /// Deletes the secret; true if there was one.
    pub fn delete(&self, project: &str, what: &SecretKind) -> Result<bool, SecretsError> {
        let (entry, account) = self.entry(project, what)?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(&account, e)),
        }
    }
}

fn map_error(account: &str, e: keyring_core::Error) -> SecretsError {
    let account = account.to_owned();
    match e {
        keyring_core::Error::NoStorageAccess(detail) => SecretsError::Locked { account, detail: detail.to_string() },
        keyring_core::Error::BadEncoding(mut bytes) => {
            zeroize::Zeroize::zeroize(&mut bytes);
            SecretsError::BadEncoding { account }
        }
        keyring_core::Error::BadDataFormat(mut bytes, _) => {
            zeroize::Zeroize::zeroize(&mut bytes);
            SecretsError::BadEncoding { account }
        }
        other => SecretsError::Platform { account, detail: other.to_string() },
    }
}

/// Gives the process a kernel session keyring of its own, to be called before any thread starts (threads
/// inherit it). Without one (a container, tmux, an SSH login without pam_keyinit) the kernel falls back to the
/// user-session keyring, and the first keyring call that may create a session keyring makes one for the calling
/// thread only: a password saved by one thread was then invisible to the worker threads that read it (the demo's
/// source checks said the password was missing). Keys stay visible to other processes through the persistent
/// keyring the store links them to. A kernel without keyutils is not an error here: opening the store says so.
pub fn prepare_process() {
    #[cfg(target_os = "linux")]
    {
        let _ = linux_keyutils::KeyRing::from_special_id(linux_keyutils::KeyRingIdentifier::Session, true);
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<(Arc<CredentialStore>, StoreKind), SecretsError> {
    let choice = std::env::var(STORE_ENV).unwrap_or_default();
    let secret_service = || -> Result<Arc<CredentialStore>, String> {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            return Err("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)".into());
        }
        probe_secret_service().map_err(|e| format!("Secret Service: {e}"))?;
        let store: Arc<CredentialStore> =
            zbus_secret_service_keyring_store::Store::new().map_err(|e| format!("Secret Service: {e}"))?;
        Ok(store)
    };
    let kernel = || -> Result<Arc<CredentialStore>, String> {
        probe_kernel_keyring()?;
        let store: Arc<CredentialStore> =
            linux_keyutils_keyring_store::Store::new().map_err(|e| format!("kernel keyring: {e}"))?;
        Ok(store)
    };
    match choice.as_str() {
        "secret-service" => {
            secret_service().map(|s| (s, StoreKind::SecretService)).map_err(|detail| SecretsError::NoStore { detail })
        }
        "kernel-keyring" => {
            kernel().map(|s| (s, StoreKind::KernelKeyring)).map_err(|detail| SecretsError::NoStore { detail })
        }
        "" => match secret_service() {
            Ok(s) => Ok((s, StoreKind::SecretService)),
            Err(ss) => match kernel() {
                Ok(s) => Ok((s, StoreKind::KernelKeyring)),
                Err(k) => Err(SecretsError::NoStore { detail: format!("{ss}; {k}") }),
            },
        },
        other => Err(SecretsError::UnknownStore(other.to_owned())),
    }
}

/// A session bus is no proof of a usable Secret Service: over SSH the bus may have no provider, or it starts
/// gnome-keyring on demand with no keyring to store into (or a locked one and no desktop to show the unlock
/// prompt), and then every save fails. So ask, read-only, for the default keyring (`ReadAlias("default")`) and
/// whether it is locked, before choosing the service.
#[cfg(target_os = "linux")]
fn probe_secret_service() -> Result<(), String> {
    use zbus::zvariant::OwnedObjectPath;
    const DEST: &str = "org.freedesktop.secrets";
    let conn = zbus::blocking::Connection::session().map_err(|e| format!("cannot reach the session bus ({e})"))?;
    let reply = conn
        .call_method(
            Some(DEST),
            "/org/freedesktop/secrets",
            Some("org.freedesktop.Secret.Service"),
            "ReadAlias",
            &("default",),
        )
        .map_err(|e| format!("no provider answers on the session bus ({e})"))?;
    let default: OwnedObjectPath =
        reply.body().deserialize().map_err(|e| format!("an unreadable answer to ReadAlias ({e})"))?;
    if default.as_str() == "/" {
        return Err("it has no default keyring to store secrets in".into());
    }
    let collection = zbus::blocking::fdo::PropertiesProxy::builder(&conn)
        .destination(DEST)
        .and_then(|b| b.path(default.as_str()))
        .and_then(|b| b.build())
        .map_err(|e| format!("cannot open its default keyring ({e})"))?;
    let iface = zbus::names::InterfaceName::from_static_str_unchecked("org.freedesktop.Secret.Collection");
    // A provider that does not report the property is taken as unlocked; a save then says if it is not.
    let locked = collection.get(iface, "Locked").ok().and_then(|v| bool::try_from(&*v).ok()).unwrap_or(false);
    let desktop = std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if locked && !desktop {
        return Err("its default keyring is locked and there is no desktop to unlock it in".into());
    }
    Ok(())
}

/// The kernel keyring store builds entries without touching the kernel, so ask for the session keyring first:
/// a kernel without keyutils, or a sandbox that filters its system calls, is then named at once.
#[cfg(target_os = "linux")]
fn probe_kernel_keyring() -> Result<(), String> {
    // keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, create = 1)
    const KEYCTL_GET_KEYRING_ID: libc::c_long = 0;
    const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
    // SAFETY: keyctl with these arguments reads no user memory; it only returns an id or -1 with errno.
    let id =
        unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1 as libc::c_long) };
    if id < 0 {
        return Err(format!("kernel keyring: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<(Arc<CredentialStore>, StoreKind), SecretsError> {
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()
        .map_err(|e| SecretsError::NoStore { detail: e.to_string() })?;
    Ok((store, StoreKind::MacKeychain))
}

#[cfg(target_os = "windows")]
fn platform_store() -> Result<(Arc<CredentialStore>, StoreKind), SecretsError> {
    let store: Arc<CredentialStore> =
        windows_native_keyring_store::Store::new().map_err(|e| SecretsError::NoStore { detail: e.to_string() })?;
    Ok((store, StoreKind::WindowsCredentialManager))
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store() -> Result<(Arc<CredentialStore>, StoreKind), SecretsError> {
    Err(SecretsError::NoStore { detail: "this operating system has no supported keyring".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn save_load_delete_in_the_mock_store() {
        let secrets = Secrets::mock();
        assert_eq!(secrets.load("acme", &SecretKind::RefreshToken).expect("load"), None);
        secrets.save("acme", &SecretKind::RefreshToken, &Secret::new("rt-1")).expect("save");
        secrets.save("other", &SecretKind::RefreshToken, &Secret::new("rt-2")).expect("save");
        assert_eq!(
            secrets.load("acme", &SecretKind::RefreshToken).expect("load").map(|s| s.expose().to_owned()),
            Some("rt-1".to_owned())
        );
        assert!(secrets.delete("acme", &SecretKind::RefreshToken).expect("delete"));
        assert!(!secrets.delete("acme", &SecretKind::RefreshToken).expect("delete again"));
        assert_eq!(secrets.load("acme", &SecretKind::RefreshToken).expect("load"), None);
        assert!(secrets.load("other", &SecretKind::RefreshToken).expect("load").is_some());
    }

    #[test]
    fn accounts_are_project_slash_what() {
        assert_eq!(SecretKind::UserPassword("a@b.example".into()).account_suffix(), "user-password/a@b.example");
        assert_eq!(SecretKind::ClientSecret.account_suffix(), "client-secret");
    }

    #[test]
    fn the_no_store_error_says_what_to_do() {
        let msg = SecretsError::NoStore { detail: "x".into() }.to_string();
        assert!(msg.contains("gnome-keyring") && msg.contains("never writes secrets to a file"), "{msg}");
    }
}
