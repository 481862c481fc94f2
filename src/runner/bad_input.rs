//! Every kickoff field and every stage setting, given a bad value through the runner (the one path the wizard's
//! editor and `cutover set` share): refused with a reason that names the value or the setting and says what to
//! type, and nothing written: state.json and audit.jsonl keep their bytes.

use super::{Command, Event, execute};
use crate::plan::PLAN;
use crate::plan::kickoff::Field;
use crate::plan::settings::Setting;
use crate::project::{AUDIT_FILE, DataHome, Project, ProjectName, STATE_FILE};

/// A bad value of each kickoff field, and words its refusal must hold (the value or field, and the fix).
const FIELDS: [(Field, &str, &[&str]); 11] = [
    (Field::Customer, "Acme\u{1b}[2J", &["customer name", "plain text"]),
    (Field::PartnerName, "Ann\u{7}", &["partner contact name", "plain text"]),
    (Field::PartnerEmail, "ann.partner.example", &["ann.partner.example", "name@example.com"]),
    (Field::PartnerPhone, "call me", &["call me"]),
    (Field::ClientName, "x\ny", &["client contact name", "plain text"]),
    (Field::ClientEmail, "bob@", &["bob@", "name@example.com"]),
    (Field::ClientPhone, "+1 (555) CALL", &["+1 (555) CALL"]),
    (Field::Tenant, "contoso.com", &["contoso.com", "onmicrosoft.com"]),
    (Field::Domains, "contoso..com", &["contoso..com"]),
    (Field::Cutover, "friday", &["friday", "YYYY-MM-DD HH:MM"]),
    (Field::Mailboxes, "-3", &["-3", "e.g. 120"]),
];

/// A bad value of each setting, and words its refusal must hold.
const SETTINGS: [(Setting, &str, &[&str]); 24] = [
    (Setting::UploadBandwidth, "fast", &["upload bandwidth", "'fast'", "whole number"]),
    (Setting::Concurrency, "0", &["concurrency 0", "1 to 100"]),
    (Setting::LargeMailbox, "-5", &["high-risk size gb", "whole number above 0"]),
    (Setting::LargeRecoverableItems, "lots", &["recoverable items gb", "whole number above 0"]),
    (Setting::MailboxLimit, "1e3", &["mailbox limit gb", "whole number above 0"]),
    (Setting::ManyItems, "0", &["items, long sync", "whole number above 0"]),
    (Setting::MigrationAccount, "john smith", &["john smith", "CONTOSO\\migadmin or migadmin@contoso.com"]),
    (Setting::AutodiscoverAddress, "nobody", &["nobody", "name@example.com"]),
    (Setting::ExchangeServer, "exch 01", &["exch 01", "fully qualified host name"]),
    (Setting::RpcProxyServer, "https://mail.contoso.com/rpc", &["https://mail.contoso.com/rpc"]),
    (Setting::Authentication, "kerberos", &["kerberos", "Basic or NTLM"]),
    (Setting::Permission, "owner", &["owner", "Admin or FullAccess"]),
    (Setting::Provisioning, "later", &["later", "batch or pre-create"]),
    (Setting::UsageLocation, "USA", &["USA", "two-letter"]),
    (Setting::Licence, "E3 plan", &["E3 plan", "skuPartNumber"]),
    (Setting::PollWhileSyncing, "5", &["poll while syncing s 5", "10 to 3600"]),
    (Setting::PollOnceSynced, "hourly", &["hourly", "not a whole number"]),
    (Setting::StallAfter, "2000", &["stalled after min 2000", "5 to 1440"]),
    (Setting::Notify, "loud", &["notify 'loud'", "on or off"]),
    (Setting::StartAtOnce, "maybe", &["start at once 'maybe'", "on or off"]),
    (Setting::ItemTolerance, "150", &["item count tolerance % 150", "0 to 100"]),
    (Setting::TransportRulesFile, "/nonexistent/rules.json", &["/nonexistent/rules.json", "cannot be opened"]),
    (Setting::TestMailAddress, "engineer at partner", &["engineer at partner", "not an email address"]),
    (Setting::PublicResolvers, "quad9, dns.google", &["dns.google", "google, cloudflare, quad9, opendns"]),
];

fn project(dir: &std::path::Path) -> Project {
    let home = DataHome::at(dir);
    Project::create(&home, &ProjectName::parse("acme").unwrap_or_else(|e| panic!("{e}")), false)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn files(p: &Project) -> (Vec<u8>, Vec<u8>) {
    let read = |name: &str| std::fs::read(p.dir().join(name)).unwrap_or_default();
    (read(STATE_FILE), read(AUDIT_FILE))
}

fn refused(p: &mut Project, command: Command, words: &[&str], what: &str) {
    let before = files(p);
    match execute(p, command) {
        Event::Refused { reason, .. } => {
            for word in words {
                assert!(reason.contains(word), "{what}: {reason:?} lacks {word:?}");
            }
        }
        other => panic!("{what}: a bad value was not refused: {other:?}"),
    }
    let after = files(p);
    assert!(after.0 == before.0, "{what}: state.json changed");
    assert!(after.1 == before.1, "{what}: audit.jsonl changed");
}

#[test]
fn every_kickoff_field_refuses_a_bad_value_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut p = project(dir.path());
    for field in Field::ALL {
        assert!(FIELDS.iter().any(|(f, ..)| *f == field), "{field:?} has no bad value here");
    }
    for (field, value, words) in FIELDS {
        refused(&mut p, Command::SetKickoffField { field, value: value.into() }, words, &format!("{field:?}"));
    }
}

#[test]
fn every_setting_refuses_a_bad_value_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut p = project(dir.path());
    for setting in PLAN.iter().flat_map(|s| s.settings.iter()) {
        assert!(SETTINGS.iter().any(|(s, ..)| s == setting), "{setting:?} has no bad value here");
    }
    for (setting, value, words) in SETTINGS {
        refused(&mut p, Command::SetSetting { setting, value: value.into() }, words, &format!("{setting:?}"));
    }
}

#[test]
fn a_transport_rules_file_that_is_not_an_export_is_refused_when_set() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut p = project(dir.path());
    let file = dir.path().join("rules.json");
    for (body, words) in [
        (&b"{\"rules\": ["[..], &["rules.json"][..]),
        (b"[1, 2]", &["rules.json"]),
        (b"\xff\xfe garbage", &["rules.json"]),
    ] {
        std::fs::write(&file, body).unwrap_or_else(|e| panic!("{e}"));
        let value = file.display().to_string();
        refused(&mut p, Command::SetSetting { setting: Setting::TransportRulesFile, value }, words, "rules file");
    }
    let folder = dir.path().display().to_string();
    refused(
        &mut p,
        Command::SetSetting { setting: Setting::TransportRulesFile, value: folder },
        &["not a regular file (a folder)"],
        "a folder",
    );
}
