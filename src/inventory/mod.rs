//! The source mailbox inventory: the CSV written by `assets/Get-CutoverInventory.ps1` parsed into typed
//! mailboxes ([`csv`]), what changed since the last import ([`merge`]), the high-risk rules ([`risk`]), and
//! the totals and sync-time estimate ([`estimate`]). Pure: the caller reads the file and stores the result.

pub mod csv;
pub mod estimate;
pub mod merge;
pub mod report;
pub mod risk;
pub mod size;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of mailbox it is (`RecipientTypeDetails`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecipientType {
    UserMailbox,
    SharedMailbox,
    RoomMailbox,
    EquipmentMailbox,
    LinkedMailbox,
    DiscoveryMailbox,
    Unknown(String),
}

impl RecipientType {
    pub fn parse(text: &str) -> RecipientType {
        match text.trim().to_ascii_lowercase().as_str() {
            "usermailbox" | "" => RecipientType::UserMailbox,
            "sharedmailbox" => RecipientType::SharedMailbox,
            "roommailbox" => RecipientType::RoomMailbox,
            "equipmentmailbox" => RecipientType::EquipmentMailbox,
            "linkedmailbox" => RecipientType::LinkedMailbox,
            "discoverymailbox" => RecipientType::DiscoveryMailbox,
            _ => RecipientType::Unknown(text.trim().to_owned()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            RecipientType::UserMailbox => "user",
            RecipientType::SharedMailbox => "shared",
            RecipientType::RoomMailbox => "room",
            RecipientType::EquipmentMailbox => "equipment",
            RecipientType::LinkedMailbox => "linked",
            RecipientType::DiscoveryMailbox => "discovery",
            RecipientType::Unknown(s) => s,
        }
    }

    /// Shared, room and equipment mailboxes need no licence of their own (a shared mailbox over 50 GB does:
    /// see [`risk::RiskFlag::SharedNeedsLicence`]).
    pub fn needs_licence(&self) -> bool {
        matches!(self, RecipientType::UserMailbox | RecipientType::LinkedMailbox | RecipientType::Unknown(_))
    }
}

/// The archive mailbox (`ArchiveState`, or `ArchiveStatus` on older servers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Archive {
    None,
    /// An archive in the on-premises organisation.
    Local,
    /// An archive already in Exchange Online.
    Hosted,
    Unknown(String),
}

impl Archive {
    pub fn parse(text: &str) -> Archive {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Archive::None,
            "active" | "local" | "onpremise" => Archive::Local,
            "hostedprovisioned" | "hostedpending" => Archive::Hosted,
            _ => Archive::Unknown(text.trim().to_owned()),
        }
    }
}

/// One source mailbox, as the inventory describes it. Sizes are in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    pub display_name: String,
    pub primary_smtp: String,
    pub upn: String,
    /// Every proxy address with its prefix (`SMTP:`, `smtp:`, `X500:` …).
    pub proxy_addresses: Vec<String>,
    pub recipient_type: RecipientType,
    pub total_item_size: u64,
    pub item_count: u64,
    /// The Recoverable Items folder (`TotalDeletedItemSize`).
    pub deleted_item_size: u64,
    pub archive: Archive,
    pub hidden: bool,
    pub forwarding: Option<String>,
    pub last_logon: Option<DateTime<Utc>>,
    pub database: String,
    pub legacy_exchange_dn: String,
}

impl Mailbox {
    /// The key a mailbox is known by across imports: its primary SMTP address, lowercased.
    pub fn key(&self) -> String {
        self.primary_smtp.to_ascii_lowercase()
    }
}

/// The imported inventory as the project keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub imported_at: DateTime<Utc>,
    /// The file's name, for the record (not its path: paths can name people).
    pub file_name: String,
    pub mailboxes: Vec<Mailbox>,
}
