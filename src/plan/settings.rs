//! The settings the engineer edits in the stage screens: the estimate's inputs and how to reach the source
//! (stage 2), who creates the cloud accounts (stage 3), the batch watch's pace and stall rule (stage 5) and the
//! item-count tolerance (stage 6). Each is a typed field over the part of the project
//! it changes, validated here so a typo is refused with the reason before anything is saved.

use super::StageId;
use super::kickoff::ValidationError;
use super::migrate::{DEFAULT_POLL_ACTIVE_SECS, DEFAULT_POLL_IDLE_SECS, DEFAULT_STALL_MINUTES, MigrateSettings};
use super::post::PostSettings;
use super::source::{SourceAccess, SourceAuth, SourcePermission, SourceSettings, validate_account, validate_host};
use super::users::{Provisioning, UsersSettings};
use super::verify::{DEFAULT_ITEM_TOLERANCE_PERCENT, VerifySettings};
use crate::inventory::estimate::{DEFAULT_CONCURRENCY, MAX_CONCURRENCY};
use crate::inventory::risk::{GIB, Thresholds};
use serde::{Deserialize, Serialize};

/// One editable setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Setting {
    UploadBandwidth,
    Concurrency,
    LargeMailbox,
    LargeRecoverableItems,
    MailboxLimit,
    ManyItems,
    MigrationAccount,
    AutodiscoverAddress,
    ExchangeServer,
    RpcProxyServer,
    Authentication,
    Permission,
    Provisioning,
    UsageLocation,
    Licence,
    PollWhileSyncing,
    PollOnceSynced,
    StallAfter,
    Notify,
    StartAtOnce,
    ItemTolerance,
    TransportRulesFile,
    TestMailAddress,
    PublicResolvers,
}

/// The parts of the project the settings read.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    pub source: &'a SourceSettings,
    pub access: &'a SourceAccess,
    pub users: &'a UsersSettings,
    pub migrate: &'a MigrateSettings,
    pub verify: &'a VerifySettings,
    pub post: &'a PostSettings,
    pub dns: &'a super::mx::DnsSettings,
}

/// The parts of the project the settings change.
#[derive(Debug)]
pub struct ValuesMut<'a> {
    pub source: &'a mut SourceSettings,
    pub access: &'a mut SourceAccess,
    pub users: &'a mut UsersSettings,
    pub migrate: &'a mut MigrateSettings,
    pub verify: &'a mut VerifySettings,
    pub post: &'a mut PostSettings,
    pub dns: &'a mut super::mx::DnsSettings,
}

impl Setting {
    /// How to reach the source server (`cutover source` sets these too).
    pub const ACCESS: [Setting; 6] = [
        Setting::MigrationAccount,
        Setting::AutodiscoverAddress,
        Setting::ExchangeServer,
        Setting::RpcProxyServer,
        Setting::Authentication,
        Setting::Permission,
    ];

    /// The settings of `stage`, in the order the screen shows them (the stage's definition lists them).
    pub fn of_stage(stage: StageId) -> &'static [Setting] {
        stage.def().settings
    }

    /// The stage whose screen shows this setting.
    pub fn stage(self) -> StageId {
        super::PLAN.iter().find(|d| d.settings.contains(&self)).map_or_else(StageId::first, |d| d.id)
    }

    pub fn label(self) -> &'static str {
        match self {
            Setting::UploadBandwidth => "Upload Mbit/s",
            Setting::Concurrency => "Concurrency",
            Setting::LargeMailbox => "High-risk size GB",
            Setting::LargeRecoverableItems => "Recoverable Items GB",
            Setting::MailboxLimit => "Mailbox limit GB",
            Setting::ManyItems => "Items, long sync",
            Setting::MigrationAccount => "Migration account",
            Setting::AutodiscoverAddress => "Autodiscover address",
            Setting::ExchangeServer => "Exchange server",
            Setting::RpcProxyServer => "RPC proxy server",
            Setting::Authentication => "Authentication",
            Setting::Permission => "Permission",
            Setting::Provisioning => "Cloud accounts",
            Setting::UsageLocation => "Usage location",
            Setting::Licence => "Licence",
            Setting::PollWhileSyncing => "Poll while syncing s",
            Setting::PollOnceSynced => "Poll once synced s",
            Setting::StallAfter => "Stalled after min",
            Setting::Notify => "Notify",
            Setting::StartAtOnce => "Start at once",
            Setting::ItemTolerance => "Item count tolerance %",
            Setting::TransportRulesFile => "Transport rules file",
            Setting::TestMailAddress => "Test mail address",
            Setting::PublicResolvers => "Public resolvers",
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            Setting::UploadBandwidth => "the customer's internet upload speed, e.g. 100",
            Setting::Concurrency => "mailboxes migrated at once (MaxConcurrentMigrations), 1 to 100; 20 by default",
            Setting::LargeMailbox => "a mailbox this large (GB) is high-risk; 50 by default",
            Setting::LargeRecoverableItems => "Recoverable Items this large (GB) are high-risk; 30 by default",
            Setting::MailboxLimit => "Exchange Online's mailbox size without an archive (GB); 100 by default",
            Setting::ManyItems => "this many items predict a long sync; 500000 by default",
            Setting::MigrationAccount => "DOMAIN\\user or a UPN, with FullAccess on every mailbox (or Receive As)",
            Setting::AutodiscoverAddress => "a mailbox to run Autodiscover for; empty: the account's or the first one",
            Setting::ExchangeServer => "manual fallback: the mailbox server's FQDN, e.g. exch01.contoso.local",
            Setting::RpcProxyServer => "manual fallback: Outlook Anywhere's external name, e.g. mail.contoso.com",
            Setting::Authentication => "basic or ntlm: what the RPC virtual directory accepts",
            Setting::Permission => "fullaccess (on every mailbox) or admin (Receive As on the databases)",
            Setting::Provisioning => "batch (the batch creates them, the default) or pre-create",
            Setting::UsageLocation => "two-letter country code, e.g. US; needed to assign licences",
            Setting::Licence => "skuPartNumber, e.g. EXCHANGESTANDARD; empty: the first that gives a mailbox",
            Setting::PollWhileSyncing => {
                "seconds between polls of the batch while a mailbox syncs, 10 to 3600; 30 by default"
            }
            Setting::PollOnceSynced => "seconds between polls once every mailbox is synced, 10 to 3600; 300 by default",
            Setting::StallAfter => {
                "a syncing mailbox whose counters do not move this many minutes is stalled; 60 by default"
            }
            Setting::Notify => "on: the bell and a desktop notification when a mailbox fails or the batch syncs; off",
            Setting::StartAtOnce => "on: the batch starts syncing when it is created (-AutoStart); off: start it later",
            Setting::ItemTolerance => {
                "how far (%) items synced may fall short of the source's count, 0 to 100; 1 by default"
            }
            Setting::TransportRulesFile => {
                "the cutover-transport-rules-<date>.json that assets/Get-CutoverInventory.ps1 wrote; empty: none"
            }
            Setting::TestMailAddress => "an outside mailbox you can read, for the outbound test mail",
            Setting::PublicResolvers => {
                "watched besides the authoritative servers: google, cloudflare, quad9, opendns or IPs; none; empty: all 4"
            }
        }
    }

    pub fn current(self, v: Values<'_>) -> String {
        let text = |o: &Option<String>| o.clone().unwrap_or_default();
        match self {
            Setting::UploadBandwidth => v.source.upload_mbit_s.map(|n| n.to_string()).unwrap_or_default(),
            Setting::Concurrency => v.source.concurrency.to_string(),
            Setting::LargeMailbox => (v.source.thresholds.large_mailbox_bytes / GIB).to_string(),
            Setting::LargeRecoverableItems => (v.source.thresholds.large_recoverable_bytes / GIB).to_string(),
            Setting::MailboxLimit => (v.source.thresholds.exo_limit_bytes / GIB).to_string(),
            Setting::ManyItems => v.source.thresholds.many_items.to_string(),
            Setting::MigrationAccount => text(&v.access.admin_user),
            Setting::AutodiscoverAddress => text(&v.access.autodiscover_email),
            Setting::ExchangeServer => text(&v.access.exchange_server),
            Setting::RpcProxyServer => text(&v.access.rpc_proxy_server),
            Setting::Authentication => v.access.auth.cmdlet_value().to_owned(),
            Setting::Permission => v.access.permission.cmdlet_value().to_owned(),
            Setting::Provisioning => match v.users.provisioning {
                Provisioning::ByBatch => "batch".to_owned(),
                Provisioning::PreCreate => "pre-create".to_owned(),
            },
            Setting::UsageLocation => text(&v.users.usage_location),
            Setting::Licence => text(&v.users.licence),
            Setting::PollWhileSyncing => v.migrate.poll_active_secs.to_string(),
            Setting::PollOnceSynced => v.migrate.poll_idle_secs.to_string(),
            Setting::StallAfter => v.migrate.stall_minutes.to_string(),
            Setting::Notify => if v.migrate.notify { "on" } else { "off" }.to_owned(),
            Setting::StartAtOnce => if v.migrate.start_at_once { "on" } else { "off" }.to_owned(),
            Setting::ItemTolerance => v.verify.item_tolerance_percent.to_string(),
            Setting::TransportRulesFile => text(&v.post.rules_file),
            Setting::TestMailAddress => text(&v.post.test_address),
            Setting::PublicResolvers => match &v.dns.public_resolvers {
                None => super::mx::PUBLIC_RESOLVER_NAMES.join(", "),
                Some(list) if list.is_empty() => "none".to_owned(),
                Some(list) => list.join(", "),
            },
        }
    }

    pub fn apply(self, v: ValuesMut<'_>, input: &str) -> Result<(), ValidationError> {
        let input = input.trim();
        let number = |what: &str| {
            input.parse::<u32>().map_err(|_| ValidationError::new(format!("{what} '{input}' is not a whole number")))
        };
        let optional = || (!input.is_empty()).then(|| input.to_owned());
        let word = input.to_ascii_lowercase().replace(['-', ' ', '_'], "");
        match self {
            Setting::TransportRulesFile => v.post.rules_file = optional(),
            Setting::PublicResolvers if input.is_empty() => v.dns.public_resolvers = None,
            Setting::PublicResolvers => {
                v.dns.public_resolvers = Some(super::mx::parse_public_resolvers(input).map_err(ValidationError::new)?);
            }
            Setting::TestMailAddress if input.is_empty() => v.post.test_address = None,
            Setting::TestMailAddress if super::post::mailflow::valid_address(input) => {
                v.post.test_address = Some(input.to_owned());
            }
            Setting::TestMailAddress => {
                return Err(ValidationError::new(format!("test mail address '{input}' is not an email address")));
            }
            Setting::UploadBandwidth if input.is_empty() => v.source.upload_mbit_s = None,
            Setting::UploadBandwidth => match number("upload bandwidth")? {
                0 => {
                    return Err(ValidationError::new(
                        "upload bandwidth 0 Mbit/s would never finish; type the real upload speed",
                    ));
                }
                n => v.source.upload_mbit_s = Some(n),
            },
            Setting::Concurrency if input.is_empty() => v.source.concurrency = DEFAULT_CONCURRENCY,
            Setting::Concurrency => match number("concurrency")? {
                n @ 1..=MAX_CONCURRENCY => v.source.concurrency = n,
                n => {
                    return Err(ValidationError::new(format!(
                        "concurrency {n}: Exchange Online allows 1 to {MAX_CONCURRENCY} concurrent migrations per endpoint"
                    )));
                }
            },
            Setting::LargeMailbox | Setting::LargeRecoverableItems | Setting::MailboxLimit | Setting::ManyItems => {
                let defaults = Thresholds::default();
                let t = &mut v.source.thresholds;
                let (slot, default, unit) = match self {
                    Setting::LargeMailbox => (&mut t.large_mailbox_bytes, defaults.large_mailbox_bytes, GIB),
                    Setting::LargeRecoverableItems => {
                        (&mut t.large_recoverable_bytes, defaults.large_recoverable_bytes, GIB)
                    }
                    Setting::MailboxLimit => (&mut t.exo_limit_bytes, defaults.exo_limit_bytes, GIB),
                    _ => (&mut t.many_items, defaults.many_items, 1),
                };
                *slot = match input.replace([',', '_'], "") {
                    ref n if n.is_empty() => default,
                    n => match n.parse::<u64>() {
                        Ok(0) | Err(_) => {
                            return Err(ValidationError::new(format!(
                                "{} '{input}': type a whole number above 0",
                                self.label().to_lowercase()
                            )));
                        }
                        Ok(n) => n.saturating_mul(unit),
                    },
                };
            }
            Setting::MigrationAccount => {
                v.access.admin_user = (!input.is_empty()).then(|| validate_account(input)).transpose()?;
            }
            Setting::AutodiscoverAddress => {
                if !input.is_empty() {
                    super::kickoff::validate_email(input)?;
                }
                v.access.autodiscover_email = optional();
            }
            Setting::ExchangeServer | Setting::RpcProxyServer => {
                let host = (!input.is_empty()).then(|| validate_host(self.label(), input)).transpose()?;
                if self == Setting::ExchangeServer {
                    v.access.exchange_server = host;
                } else {
                    v.access.rpc_proxy_server = host;
                }
            }
            Setting::Authentication => {
                v.access.auth = match word.as_str() {
                    "" | "basic" => SourceAuth::Basic,
                    "ntlm" => SourceAuth::Ntlm,
                    _ => {
                        return Err(ValidationError::new(format!(
                            "authentication '{input}': the migration service uses Basic or NTLM for Outlook Anywhere"
                        )));
                    }
                }
            }
            Setting::Permission => {
                v.access.permission = match word.as_str() {
                    "fullaccess" => SourcePermission::FullAccess,
                    "" | "admin" | "receiveas" => SourcePermission::Admin,
                    _ => {
                        return Err(ValidationError::new(format!(
                            "mailbox permission '{input}': give Admin or FullAccess"
                        )));
                    }
                }
            }
            Setting::Provisioning => {
                v.users.provisioning = match word.as_str() {
                    "" | "batch" | "bybatch" => Provisioning::ByBatch,
                    "precreate" => Provisioning::PreCreate,
                    _ => {
                        return Err(ValidationError::new(format!(
                            "cloud accounts '{input}': type batch or pre-create"
                        )));
                    }
                }
            }
            Setting::UsageLocation => {
                let country = input.len() == 2 && input.chars().all(|c| c.is_ascii_alphabetic());
                if !input.is_empty() && !country {
                    return Err(ValidationError::new(format!(
                        "usage location '{input}': type a two-letter country code (ISO 3166-1), e.g. US, GB, DE"
                    )));
                }
                v.users.usage_location = optional().map(|c| c.to_ascii_uppercase());
            }
            Setting::Licence => {
                if input.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '_')) {
                    return Err(ValidationError::new(format!(
                        "licence '{input}': type the subscription's skuPartNumber, e.g. EXCHANGESTANDARD"
                    )));
                }
                v.users.licence = optional().map(|c| c.to_ascii_uppercase());
            }
            Setting::Notify | Setting::StartAtOnce => {
                let (slot, default) = match self {
                    Setting::Notify => (&mut v.migrate.notify, true),
                    _ => (&mut v.migrate.start_at_once, false),
                };
                *slot = match word.as_str() {
                    "" => default,
                    "on" | "yes" | "true" => true,
                    "off" | "no" | "false" => false,
                    _ => {
                        return Err(ValidationError::new(format!(
                            "{} '{input}': type on or off",
                            self.label().to_lowercase()
                        )));
                    }
                }
            }
            Setting::PollWhileSyncing | Setting::PollOnceSynced | Setting::StallAfter | Setting::ItemTolerance => {
                let m = &mut *v.migrate;
                let (slot, default, range) = match self {
                    Setting::PollWhileSyncing => (&mut m.poll_active_secs, DEFAULT_POLL_ACTIVE_SECS, 10..=3600),
                    Setting::PollOnceSynced => (&mut m.poll_idle_secs, DEFAULT_POLL_IDLE_SECS, 10..=3600),
                    // A day at most: a mailbox still for longer is stalled whatever the engineer hopes.
                    Setting::StallAfter => (&mut m.stall_minutes, DEFAULT_STALL_MINUTES, 5..=1440),
                    _ => (&mut v.verify.item_tolerance_percent, DEFAULT_ITEM_TOLERANCE_PERCENT, 0..=100),
                };
                *slot = match input {
                    "" => default,
                    _ => match number(&self.label().to_lowercase())? {
                        n if range.contains(&n) => n,
                        n => {
                            return Err(ValidationError::new(format!(
                                "{} {n}: type {} to {}",
                                self.label().to_lowercase(),
                                range.start(),
                                range.end()
                            )));
                        }
                    },
                };
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type All = (
        SourceSettings,
        SourceAccess,
        UsersSettings,
        MigrateSettings,
        VerifySettings,
        PostSettings,
        super::super::mx::DnsSettings,
    );

    fn apply(setting: Setting, input: &str) -> Result<All, String> {
        let (mut source, mut access, mut users, mut migrate, mut verify, mut post, mut dns): All = Default::default();
        let v = ValuesMut {
            source: &mut source,
            access: &mut access,
            users: &mut users,
            migrate: &mut migrate,
            verify: &mut verify,
            post: &mut post,
            dns: &mut dns,
        };
        setting.apply(v, input).map_err(|e| e.to_string())?;
        Ok((source, access, users, migrate, verify, post, dns))
    }

    #[test]
    fn every_setting_reads_back_what_it_stored() {
        let cases = [
            (Setting::UploadBandwidth, "100", "100"),
            (Setting::Concurrency, "40", "40"),
            (Setting::LargeMailbox, "40", "40"),
            (Setting::LargeRecoverableItems, "25", "25"),
            (Setting::MailboxLimit, "50", "50"),
            (Setting::ManyItems, "1,000,000", "1000000"),
            (Setting::MigrationAccount, "contoso\\migadmin", "CONTOSO\\migadmin"),
            (Setting::AutodiscoverAddress, "admin@contoso.com", "admin@contoso.com"),
            (Setting::ExchangeServer, "EXCH01.contoso.local", "exch01.contoso.local"),
            (Setting::RpcProxyServer, "mail.contoso.com", "mail.contoso.com"),
            (Setting::Authentication, "NTLM", "Ntlm"),
            (Setting::Permission, "Full Access", "FullAccess"),
            (Setting::Provisioning, "pre-create", "pre-create"),
            (Setting::UsageLocation, "gb", "GB"),
            (Setting::Licence, "exchangestandard", "EXCHANGESTANDARD"),
            (Setting::PollWhileSyncing, "60", "60"),
            (Setting::PollOnceSynced, "", "300"),
            (Setting::StallAfter, "90", "90"),
            (Setting::ItemTolerance, "0", "0"),
            (Setting::StartAtOnce, "Yes", "on"),
            (Setting::Notify, "off", "off"),
            (Setting::TransportRulesFile, " ~/contoso/rules.json ", "~/contoso/rules.json"),
            (Setting::TestMailAddress, "engineer@partner.example", "engineer@partner.example"),
            (Setting::PublicResolvers, "Quad9, 1.1.1.1 quad9", "quad9, 1.1.1.1"),
            (Setting::PublicResolvers, "None", "none"),
            (Setting::PublicResolvers, "", "google, cloudflare, quad9, opendns"),
        ];
        for (setting, input, shown) in cases {
            let (source, access, users, migrate, verify, post, dns) = apply(setting, input).expect(input);
            let values = Values {
                source: &source,
                access: &access,
                users: &users,
                migrate: &migrate,
                verify: &verify,
                post: &post,
                dns: &dns,
            };
            assert_eq!(setting.current(values), shown, "{setting:?}");
            assert!(Setting::of_stage(setting.stage()).contains(&setting));
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_fix() {
        let cases = [
            (Setting::Concurrency, "500", "1 to 100"),
            (Setting::UploadBandwidth, "0", "never finish"),
            (Setting::LargeMailbox, "0", "whole number above 0"),
            (Setting::ManyItems, "lots", "whole number above 0"),
            (Setting::MigrationAccount, "john smith", "CONTOSO\\migadmin or migadmin@contoso.com"),
            (Setting::AutodiscoverAddress, "nobody", "nobody"),
            (Setting::ExchangeServer, "exch 01", "fully qualified host name"),
            (Setting::Authentication, "kerberos", "Basic or NTLM"),
            (Setting::Permission, "owner", "Admin or FullAccess"),
            (Setting::Provisioning, "later", "batch or pre-create"),
            (Setting::UsageLocation, "USA", "two-letter"),
            (Setting::Licence, "E3 plan", "skuPartNumber"),
            (Setting::PollWhileSyncing, "1", "10 to 3600"),
            (Setting::StallAfter, "soon", "not a whole number"),
            (Setting::ItemTolerance, "150", "0 to 100"),
            (Setting::StartAtOnce, "maybe", "type on or off"),
            (Setting::PublicResolvers, "quad9, dns.google", "neither google, cloudflare, quad9, opendns nor an IP"),
        ];
        for (setting, input, fix) in cases {
            let error = apply(setting, input).expect_err(input);
            assert!(error.contains(fix), "{setting:?}: {error}");
        }
    }

    #[test]
    fn an_empty_value_clears_an_optional_setting() {
        let (_, access, users, ..) = apply(Setting::UsageLocation, "").expect("empty");
        assert_eq!((access.admin_user, users.usage_location), (None, None));
        let (source, ..) = apply(Setting::Concurrency, "").expect("empty");
        assert_eq!(source.concurrency, DEFAULT_CONCURRENCY);
    }
}
