//! How Exchange writes values in its JSON: sizes as text (`"28.45 GB (30,551,458,399 bytes)"`, `"Unlimited"`),
//! dates as ISO 8601 or `/Date(ms)/`, identities as text or objects, and migration states by name.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest size believed (1 PiB): no mailbox or batch holds that much, and sums of sizes stay far from
/// overflowing.
pub const MAX_BYTES: u64 = 1 << 50;

/// An Exchange `ByteQuantifiedSize` or `Unlimited<ByteQuantifiedSize>`.
/// Deserialize reads back what Serialize wrote (live files); Exchange's text is read by [`ExSize::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ExSize {
    Bytes(u64),
    Unlimited,
}

impl ExSize {
    /// Reads `"28.45 GB (30,551,458,399 bytes)"`, `"0 B (0 bytes)"`, `"Unlimited"`, a bare number of bytes, or a
    /// size without the bytes part (`"1.5 KB"`, rounded). `None` for anything else.
    pub fn parse(text: &str) -> Option<ExSize> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("unlimited") {
            return Some(ExSize::Unlimited);
        }
        if let (Some(open), Some(close)) = (text.rfind('('), text.rfind(')')) {
            let inner = text.get(open + 1..close)?.trim();
            let digits = inner.strip_suffix("bytes").or_else(|| inner.strip_suffix("byte"))?.trim();
            let digits: String = digits.chars().filter(|c| !matches!(c, ',' | '.' | ' ' | '\u{a0}')).collect();
            return digits.parse().ok().and_then(ExSize::bytes_within);
        }
        if let Ok(n) = text.replace(',', "").parse::<u64>() {
            return ExSize::bytes_within(n);
        }
        let (number, unit) = text.split_once(' ')?;
        let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
            "B" => 1,
            "KB" => 1 << 10,
            "MB" => 1 << 20,
            "GB" => 1 << 30,
            "TB" => 1 << 40,
            _ => return None,
        };
        let value: f64 = number.replace(',', "").parse().ok()?;
        let bytes = (value * factor as f64).round();
        // Checked before the cast, which would quietly make a size past u64 16 EB.
        (bytes.is_finite() && bytes >= 0.0 && bytes <= MAX_BYTES as f64).then_some(ExSize::Bytes(bytes as u64))
    }

    pub fn from_json(v: &Value) -> Option<ExSize> {
        match v {
            Value::String(s) => ExSize::parse(s),
            Value::Number(n) => n.as_u64().and_then(ExSize::bytes_within),
            Value::Object(o) => o.get("Value").and_then(ExSize::from_json),
            _ => None,
        }
    }

    /// A byte count no larger than [`MAX_BYTES`]; a larger one is garbage, and summed over mailboxes it would
    /// overflow.
    fn bytes_within(n: u64) -> Option<ExSize> {
        (n <= MAX_BYTES).then_some(ExSize::Bytes(n))
    }

    pub fn bytes(self) -> Option<u64> {
        match self {
            ExSize::Bytes(b) => Some(b),
            ExSize::Unlimited => None,
        }
    }
}

/// Text from a value that may be text, a number, or an object with a name (Exchange identities and enums).
pub fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(o) => ["Name", "Value", "DisplayName", "Id"].iter().find_map(|k| text(o.get(*k))),
        _ => None,
    }
}

/// An identity or name, which Exchange documents as always there: a blank one is as good as missing (a cmdlet
/// given it back would act on nothing, or on everything).
pub fn name(v: Option<&Value>) -> Option<String> {
    text(v).filter(|s| !s.trim().is_empty())
}

pub fn count(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.replace(',', "").trim().parse().ok(),
        _ => None,
    }
}

pub fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A date as Exchange's JSON writes it: ISO 8601 (with or without an offset) or `/Date(ms)/`.
pub fn date(v: Option<&Value>) -> Option<DateTime<Utc>> {
    let s = v?.as_str()?.trim();
    if let Some(ms) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits: String = ms.chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
        return DateTime::from_timestamp_millis(digits.parse().ok()?);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|n| n.and_utc())
}

macro_rules! exchange_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($variant,)+
            /// A state this build does not know; shown as Exchange named it.
            Unknown(String),
        }

        impl $name {
            pub fn parse(s: &str) -> $name {
                match s.trim() {
                    $(stringify!($variant) => $name::$variant,)+
                    other => $name::Unknown(other.to_owned()),
                }
            }

            pub fn name(&self) -> &str {
                match self {
                    $($name::$variant => stringify!($variant),)+
                    $name::Unknown(s) => s,
                }
            }

            pub fn from_json(v: Option<&Value>) -> Option<$name> {
                text(v).map(|s| $name::parse(&s))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

exchange_enum!(
    /// `MigrationBatchStatus`.
    BatchStatus {
        Created, Starting, Syncing, IncrementalSyncing, Synced, SyncedWithErrors, Stopping, Stopped, Completing,
        Completed, CompletedWithErrors, Failed, Removing, Corrupted, Waiting,
    }
);

exchange_enum!(
    /// `MigrationUserStatus`.
    UserStatus {
        Queued, Provisioning, ProvisionUpdating, Validating, Starting, Syncing, Synced, IncrementalSyncing,
        IncrementalSynced, IncrementalFailed, IncrementalStopped, Stopping, Stopped, Completing, CompletionSynced,
        Completed, CompletedWithWarnings, CompletionFailed, Failed, Corrupted, Removing,
    }
);

exchange_enum!(
    /// The `Kind` of an item a move skipped: too big for Exchange Online, unreadable at the source, gone from the
    /// source before it was copied, or a folder whose properties could not be copied.
    SkippedItemKind {
        LargeItem, CorruptItem, MissingItem, FolderPropertyMismatch,
    }
);

impl BatchStatus {
    pub fn is_failed(&self) -> bool {
        matches!(self, BatchStatus::Failed | BatchStatus::Corrupted)
    }
}

impl UserStatus {
    pub fn is_failed(&self) -> bool {
        matches!(
            self,
            UserStatus::Failed | UserStatus::IncrementalFailed | UserStatus::CompletionFailed | UserStatus::Corrupted
        )
    }

    /// The mailbox's completion is over and it succeeded.
    pub fn is_completed(&self) -> bool {
        matches!(self, UserStatus::Completed | UserStatus::CompletedWithWarnings)
    }

    /// The initial sync is done for this mailbox.
    pub fn is_synced(&self) -> bool {
        matches!(
            self,
            UserStatus::Synced
                | UserStatus::IncrementalSyncing
                | UserStatus::IncrementalSynced
                | UserStatus::Completing
                | UserStatus::CompletionSynced
                | UserStatus::Completed
                | UserStatus::CompletedWithWarnings
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exchange_sizes_are_read_to_bytes() {
        assert_eq!(ExSize::parse("28.45 GB (30,551,458,399 bytes)"), Some(ExSize::Bytes(30_551_458_399)));
        assert_eq!(ExSize::parse("0 B (0 bytes)"), Some(ExSize::Bytes(0)));
        assert_eq!(ExSize::parse("1 B (1 byte)"), Some(ExSize::Bytes(1)));
        assert_eq!(ExSize::parse("Unlimited"), Some(ExSize::Unlimited));
        assert_eq!(ExSize::parse("49.5 GB (53,150,220,288 bytes)"), Some(ExSize::Bytes(53_150_220_288)));
        assert_eq!(ExSize::parse("1.5 KB"), Some(ExSize::Bytes(1536)));
        assert_eq!(ExSize::parse("12345"), Some(ExSize::Bytes(12345)));
        assert_eq!(ExSize::parse("lots"), None);
        assert_eq!(ExSize::parse("3 GB (many bytes)"), None);
        assert_eq!(ExSize::from_json(&json!(42)), Some(ExSize::Bytes(42)));
        assert!(ExSize::Unlimited > ExSize::Bytes(u64::MAX));
    }

    #[test]
    fn states_are_decoded_with_an_unknown_arm() {
        assert_eq!(BatchStatus::parse("SyncedWithErrors"), BatchStatus::SyncedWithErrors);
        assert_eq!(BatchStatus::parse("Paused"), BatchStatus::Unknown("Paused".into()));
        assert_eq!(UserStatus::parse("CompletionSynced"), UserStatus::CompletionSynced);
        assert_eq!(
            UserStatus::from_json(Some(&json!({"Value": "IncrementalFailed"}))),
            Some(UserStatus::IncrementalFailed)
        );
        assert!(UserStatus::IncrementalFailed.is_failed());
        assert_eq!(UserStatus::Unknown("X".into()).to_string(), "X");
    }

    #[test]
    fn dates_in_both_exchange_forms() {
        let iso = date(Some(&json!("2024-03-08T17:09:19.123+01:00"))).expect("iso");
        assert_eq!(iso.to_rfc3339(), "2024-03-08T16:09:19.123+00:00");
        let ms = date(Some(&json!("/Date(1709914159000)/"))).expect("ms");
        assert_eq!(ms.timestamp(), 1_709_914_159);
        assert!(date(Some(&json!("2024-03-08T17:09:19"))).is_some());
        assert_eq!(date(Some(&json!("not a date"))), None);
        assert_eq!(date(None), None);
    }
}
