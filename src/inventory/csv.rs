//! Reads an inventory CSV as Exchange admins really produce it: UTF-8 with or without a BOM, UTF-16 (Windows
//! PowerShell's `-Encoding Unicode`), or Windows-1252; a `#TYPE` first line (Windows PowerShell's `Export-Csv`
//! without `-NoTypeInformation`); commas, or semicolons from European locales, or tabs; quoted fields holding
//! separators and line breaks; sizes as Exchange prints them. Every bad row is reported with its line number
//! and why; good rows are kept.

use super::size::{Precision, parse_grouped, parse_size};
use super::{Archive, Mailbox, RecipientType};
use crate::text::validate_email;
use chrono::{DateTime, NaiveDateTime, Utc};
use std::collections::HashMap;

/// A problem with one row, by its line in the file (1-based, counting the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: u64,
    /// The row's primary SMTP address when it could be read, so a rejected row does not lose that mailbox.
    pub key: Option<String>,
    pub reason: String,
}

impl RowProblem {
    /// A problem whose reason quotes the file: its control characters are escaped, so none reaches a terminal.
    fn new(line: u64, key: Option<String>, reason: &str) -> RowProblem {
        RowProblem { line, key, reason: crate::safe_text::escape_controls(reason, false).into_owned() }
    }
}

/// What an import found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub mailboxes: Vec<Mailbox>,
    /// Rows left out, with why.
    pub rejected: Vec<RowProblem>,
    /// Rows kept with something worth knowing (a rounded size, an unreadable date).
    pub warnings: Vec<RowProblem>,
    /// Columns the file lacks, whose values are therefore unknown.
    pub missing_columns: Vec<&'static str>,
    pub delimiter: char,
    pub encoding: &'static str,
}

/// Why a whole file could not be read as an inventory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("the file is empty; export the inventory with assets/Get-CutoverInventory.ps1")]
    Empty,
    #[error(
        "the file has no {0} column, so its mailboxes cannot be told apart; export the inventory with assets/Get-CutoverInventory.ps1"
    )]
    NoIdentity(&'static str),
    #[error("line {line}: {reason}")]
    Unreadable { line: u64, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    DisplayName,
    PrimarySmtp,
    Upn,
    ProxyAddresses,
    RecipientType,
    TotalItemSize,
    ItemCount,
    DeletedItemSize,
    Archive,
    Hidden,
    Forwarding,
    ForwardingSmtp,
    LastLogon,
    Database,
    LegacyDn,
}

impl Column {
    const ALL: [Column; 15] = [
        Column::DisplayName,
        Column::PrimarySmtp,
        Column::Upn,
        Column::ProxyAddresses,
        Column::RecipientType,
        Column::TotalItemSize,
        Column::ItemCount,
        Column::DeletedItemSize,
        Column::Archive,
        Column::Hidden,
        Column::Forwarding,
        Column::ForwardingSmtp,
        Column::LastLogon,
        Column::Database,
        Column::LegacyDn,
    ];

    /// The script's header first, then the names other exports use (compared without case, spaces or `_`).
    fn names(self) -> &'static [&'static str] {
        match self {
            Column::DisplayName => &["displayname", "name"],
            Column::PrimarySmtp => {
                &["primarysmtpaddress", "primarysmtp", "windowsemailaddress", "emailaddress", "smtp"]
            }
            Column::Upn => &["userprincipalname", "upn"],
            Column::ProxyAddresses => &["emailaddresses", "proxyaddresses"],
            Column::RecipientType => &["recipienttypedetails", "recipienttype"],
            Column::TotalItemSize => &["totalitemsizebytes", "totalitemsize", "mailboxsize", "size"],
            Column::ItemCount => &["itemcount", "items"],
            Column::DeletedItemSize => {
                &["totaldeleteditemsizebytes", "totaldeleteditemsize", "recoverableitemssize", "deleteditemsize"]
            }
            Column::Archive => &["archivestate", "archivestatus"],
            Column::Hidden => &["hiddenfromaddresslistsenabled", "hiddenfromaddresslists", "hidden"],
            Column::Forwarding => &["forwardingaddress"],
            Column::ForwardingSmtp => &["forwardingsmtpaddress"],
            Column::LastLogon => &["lastlogontime", "lastlogon"],
            Column::Database => &["database"],
            Column::LegacyDn => &["legacyexchangedn"],
        }
    }

    fn label(self) -> &'static str {
        self.names()[0]
    }
}

fn normalise(header: &str) -> String {
    header.chars().filter(|c| !c.is_whitespace() && *c != '_' && *c != '-').collect::<String>().to_ascii_lowercase()
}

/// Decodes the file's bytes by their byte-order mark, else as UTF-8, else as Windows-1252.
fn decode(bytes: &[u8]) -> (String, &'static str) {
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _, _) = encoding.decode(bytes);
        return (text.into_owned(), encoding.name());
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), "UTF-8"),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (text.into_owned(), "windows-1252")
        }
    }
}

/// The separator that splits the header line into the most fields, outside quotes.
fn sniff_delimiter(header: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in &mut counts {
                if b == *d {
                    *n += 1;
                }
            }
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).map_or(b',', |(d, _)| *d)
}

/// Parses an inventory file.
pub fn parse(bytes: &[u8]) -> Result<Parsed, InventoryError> {
    let (text, encoding) = decode(bytes);
    let mut body = text.as_str();
    let mut skipped_lines = 0u64;
    // Windows PowerShell writes "#TYPE Selected.System.Management.Automation.PSCustomObject" first.
    while let Some(rest) = body.strip_prefix('#') {
        body = rest.split_once('\n').map_or("", |(_, r)| r);
        skipped_lines += 1;
    }
    let header_line = body.lines().find(|l| !l.trim().is_empty()).ok_or(InventoryError::Empty)?;
    let delimiter = sniff_delimiter(header_line);
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(body.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| InventoryError::Unreadable { line: skipped_lines + 1, reason: e.to_string() })?
        .clone();
    let mut index: HashMap<Column, usize> = HashMap::new();
    for (i, header) in headers.iter().enumerate() {
        let name = normalise(header);
        for column in Column::ALL {
            if column.names().contains(&name.as_str()) {
                index.entry(column).or_insert(i);
            }
        }
    }
    if !index.contains_key(&Column::PrimarySmtp) {
        return Err(InventoryError::NoIdentity("PrimarySmtpAddress"));
    }
    let missing_columns = Column::ALL
        .iter()
        .filter(|c| !index.contains_key(c) && !matches!(c, Column::ForwardingSmtp | Column::Forwarding))
        .map(|c| c.label())
        .collect();

    let mut parsed = Parsed {
        mailboxes: Vec::new(),
        rejected: Vec::new(),
        warnings: Vec::new(),
        missing_columns,
        delimiter: char::from(delimiter),
        encoding,
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    // Line numbers come from byte offsets: the csv crate's own line count lags behind on CRLF files.
    let mut lines = LineCounter::new(body.as_bytes(), skipped_lines);
    // A file cut short (a copy or a disk that stopped) ends inside its last row: without a final line break and
    // with fewer fields than the header, or inside a quoted field. Taking that row would zero what was cut off.
    let open_quote = body.bytes().filter(|&b| b == b'"').count() % 2 == 1;
    let ends_cleanly = body.ends_with('\n') || body.ends_with('\r');
    let records: Vec<_> = reader.records().collect();
    let last = records.len().saturating_sub(1);
    for (n, record) in records.into_iter().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                parsed.rejected.push(RowProblem::new(line, None, &format!("not a CSV row ({e})")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        let get = |c: Column| index.get(&c).and_then(|&i| record.get(i)).unwrap_or("");
        if n == last && (open_quote || (!ends_cleanly && record.len() < headers.len())) {
            // The address is whole only when a later field follows it.
            let whole = index.get(&Column::PrimarySmtp).is_some_and(|&i| i + 1 < record.len());
            let key = whole.then(|| validate_email(get(Column::PrimarySmtp)).ok()).flatten();
            parsed.rejected.push(RowProblem::new(
                line,
                key.map(|k| k.to_ascii_lowercase()),
                &if open_quote {
                    "the file is cut short in its last row (it ends inside a quoted field); copy or export it again"
                        .to_owned()
                } else {
                    format!(
                        "the file is cut short in its last row ({} of {} fields, no final line break); copy or export it again",
                        record.len(),
                        headers.len()
                    )
                },
            ));
            continue;
        }
        let mut row = Row { warnings: Vec::new() };
        match row.mailbox(&get) {
            Ok(mailbox) => {
                let key = mailbox.key();
                if let Some(first) = seen.get(&key) {
                    parsed.rejected.push(RowProblem::new(
                        line,
                        Some(key),
                        &format!(
                            "{} appears again (first on line {first}); only the first row is kept",
                            mailbox.primary_smtp
                        ),
                    ));
                    continue;
                }
                seen.insert(key.clone(), line);
                parsed
                    .warnings
                    .extend(row.warnings.iter().map(|reason| RowProblem::new(line, Some(key.clone()), reason)));
                parsed.mailboxes.push(mailbox);
            }
            Err(reason) => {
                let key = validate_email(get(Column::PrimarySmtp)).ok().map(|s| s.to_ascii_lowercase());
                parsed.rejected.push(RowProblem::new(line, key, &reason));
            }
        }
    }
    Ok(parsed)
}

/// Turns byte offsets, met in increasing order, into 1-based line numbers of the original file.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8], lines_before: u64) -> Self {
        LineCounter { text, offset: 0, line: lines_before + 1 }
    }

    fn line_at(&mut self, byte: u64) -> u64 {
        let mut target = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        // On CRLF files a record is said to start at the '\n' that ends the one before.
        while matches!(self.text.get(target), Some(b'\r' | b'\n')) {
            target += 1;
        }
        if target > self.offset {
            self.line += self.text[self.offset..target].iter().filter(|&&b| b == b'\n').count() as u64;
            self.offset = target;
        }
        self.line
    }
}

/// Sizes past this are an export error, not a mailbox: Exchange Online caps a mailbox with its auto-expanding
/// archive at 1.5 TB, and no on-premises mailbox comes near 100 TB. It also keeps totals far from overflowing.
pub const MAX_MAILBOX_BYTES: u64 = 100 << 40;
/// Item counts past this are an export error too (Exchange's folder limits put real mailboxes in the millions).
pub const MAX_MAILBOX_ITEMS: u64 = 100_000_000;

/// Reads one row, collecting what is worth a warning.
struct Row {
    warnings: Vec<String>,
}

impl Row {
    fn mailbox<'r>(&mut self, get: &dyn Fn(Column) -> &'r str) -> Result<Mailbox, String> {
        let smtp_text = get(Column::PrimarySmtp);
        if smtp_text.is_empty() {
            return Err("PrimarySmtpAddress is empty; a mailbox without one cannot be migrated".to_owned());
        }
        let primary_smtp = validate_email(smtp_text).map_err(|e| format!("PrimarySmtpAddress: {e}"))?;
        let total_item_size = self.size(get(Column::TotalItemSize), "TotalItemSize")?;
        let deleted_item_size = self.size(get(Column::DeletedItemSize), "TotalDeletedItemSize")?;
        let item_count_text = get(Column::ItemCount);
        let item_count = if item_count_text.is_empty() {
            0
        } else {
            parse_grouped(item_count_text)
                .ok_or_else(|| format!("ItemCount '{item_count_text}' is not a whole number"))?
        };
        if item_count > MAX_MAILBOX_ITEMS {
            return Err(format!(
                "ItemCount '{item_count_text}' is more than {MAX_MAILBOX_ITEMS} items, which no mailbox holds; export the inventory again"
            ));
        }
        let hidden = parse_bool(get(Column::Hidden)).ok_or_else(|| {
            format!("HiddenFromAddressListsEnabled '{}' is neither True nor False", get(Column::Hidden))
        })?;
        let proxy_addresses = split_proxies(get(Column::ProxyAddresses));
        if proxy_addresses.iter().any(|p| p.starts_with("Microsoft.Exchange") || p.starts_with("System.")) {
            return Err(
                "EmailAddresses holds a .NET type name instead of the addresses; export with assets/Get-CutoverInventory.ps1, which joins them"
                    .to_owned(),
            );
        }
        let forwarding = [get(Column::ForwardingSmtp), get(Column::Forwarding)]
            .into_iter()
            .map(|f| f.trim_start_matches("smtp:").trim_start_matches("SMTP:"))
            .find(|f| !f.is_empty())
            .map(str::to_owned);
        let last_logon_text = get(Column::LastLogon);
        let last_logon = if last_logon_text.is_empty() {
            None
        } else {
            let parsed = parse_time(last_logon_text);
            if parsed.is_none() {
                self.warnings
                    .push(format!("LastLogonTime '{last_logon_text}' is not a date this import reads; left empty"));
            }
            parsed
        };
        Ok(Mailbox {
            display_name: get(Column::DisplayName).to_owned(),
            upn: get(Column::Upn).to_owned(),
            recipient_type: RecipientType::parse(get(Column::RecipientType)),
            archive: Archive::parse(get(Column::Archive)),
            database: get(Column::Database).to_owned(),
            legacy_exchange_dn: get(Column::LegacyDn).to_owned(),
            primary_smtp,
            proxy_addresses,
            total_item_size,
            item_count,
            deleted_item_size,
            hidden,
            forwarding,
            last_logon,
        })
    }

    fn size(&mut self, text: &str, column: &str) -> Result<u64, String> {
        let (bytes, precision) = parse_size(text).map_err(|e| format!("{column}: {e}"))?;
        if bytes > MAX_MAILBOX_BYTES {
            return Err(format!(
                "{column} '{text}' is more than {}, which no mailbox holds; export the inventory again",
                super::size::format_size(MAX_MAILBOX_BYTES)
            ));
        }
        if precision == Precision::Rounded {
            self.warnings.push(format!("{column} '{text}' is rounded; the exact byte count was not in the file"));
        }
        Ok(bytes)
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" | "$false" => Some(false),
        "true" | "1" | "yes" | "$true" => Some(true),
        _ => None,
    }
}

/// Proxy addresses joined by `;` (the script) or by spaces (PowerShell's default array-to-text).
fn split_proxies(text: &str) -> Vec<String> {
    text.split([';', ' ', '\n']).map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

/// ISO 8601 (what the script writes), or the US and European forms PowerShell prints by locale.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    const FORMATS: [&str; 6] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%m/%d/%Y %I:%M:%S %p",
        "%d.%m.%Y %H:%M:%S",
        "%d/%m/%Y %H:%M:%S",
        "%d-%m-%Y %H:%M:%S",
    ];
    FORMATS.iter().find_map(|f| NaiveDateTime::parse_from_str(text, f).ok()).map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "DisplayName,PrimarySmtpAddress,UserPrincipalName,EmailAddresses,RecipientTypeDetails,TotalItemSizeBytes,ItemCount,TotalDeletedItemSizeBytes,ArchiveState,HiddenFromAddressListsEnabled,ForwardingSmtpAddress,LastLogonTime,Database,LegacyExchangeDN";

    #[test]
    fn the_scripts_output_is_read_whole() {
        let csv = format!(
            "{HEADER}\n\"Bowen, Megan\",MeganB@contoso.com,meganb@contoso.local,\"SMTP:MeganB@contoso.com;smtp:megan@contoso.net;X500:/o=Contoso/ou=First/cn=Recipients/cn=meganb\",UserMailbox,30551458399,\"120,311\",1073741824,None,False,,2026-11-20T08:15:00.0000000Z,DB01,/o=Contoso/ou=First/cn=Recipients/cn=meganb\n"
        );
        let parsed = parse(csv.as_bytes()).expect("parse");
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        assert!(parsed.missing_columns.is_empty(), "{:?}", parsed.missing_columns);
        let m = &parsed.mailboxes[0];
        assert_eq!(m.display_name, "Bowen, Megan");
        assert_eq!(m.primary_smtp, "MeganB@contoso.com");
        assert_eq!(m.key(), "meganb@contoso.com");
        assert_eq!(m.proxy_addresses.len(), 3);
        assert_eq!(m.total_item_size, 30_551_458_399);
        assert_eq!(m.item_count, 120_311);
        assert_eq!(m.deleted_item_size, 1 << 30);
        assert_eq!(m.last_logon.map(|t| t.to_rfc3339()), Some("2026-11-20T08:15:00+00:00".into()));
        assert_eq!(m.legacy_exchange_dn, "/o=Contoso/ou=First/cn=Recipients/cn=meganb");
    }

    #[test]
    fn a_european_export_with_a_bom_semicolons_and_exchange_sizes_is_read() {
        let csv = "\u{feff}#TYPE Selected.Microsoft.Exchange.Data.Mapi.MailboxStatistics\n\"DisplayName\";\"PrimarySmtpAddress\";\"TotalItemSize\";\"ItemCount\";\"TotalDeletedItemSize\";\"HiddenFromAddressListsEnabled\"\n\"Müller, Jürgen\";\"j.mueller@contoso.de\";\"28,45 GB (30.551.458.399 bytes)\";\"1.204\";\"0 B (0 bytes)\";\"True\"\n";
        let parsed = parse(csv.as_bytes()).expect("parse");
        assert_eq!(parsed.delimiter, ';');
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let m = &parsed.mailboxes[0];
        assert_eq!(
            (m.display_name.as_str(), m.total_item_size, m.item_count, m.hidden),
            ("Müller, Jürgen", 30_551_458_399, 1_204, true)
        );
        assert!(parsed.missing_columns.contains(&"userprincipalname"));
    }

    #[test]
    fn utf16_and_windows_1252_files_are_decoded() {
        let text =
            "PrimarySmtpAddress,DisplayName,TotalItemSize\r\nzoe@contoso.com,Zoë,\"1 GB (1,073,741,824 bytes)\"\r\n";
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let parsed = parse(&utf16).expect("utf-16");
        assert_eq!(parsed.encoding, "UTF-16LE");
        assert_eq!(parsed.mailboxes[0].display_name, "Zoë");
        let latin: Vec<u8> = text.chars().map(|c| u8::try_from(u32::from(c)).expect("latin-1 char")).collect();
        let parsed = parse(&latin).expect("windows-1252");
        assert_eq!(parsed.encoding, "windows-1252");
        assert_eq!(parsed.mailboxes[0].display_name, "Zoë");
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_good_rows_kept() {
        let csv = "PrimarySmtpAddress,TotalItemSize,ItemCount,HiddenFromAddressListsEnabled,EmailAddresses\n\
            ok@contoso.com,100,1,False,SMTP:ok@contoso.com\n\
            not-an-address,100,1,False,\n\
            size@contoso.com,lots,1,False,\n\
            count@contoso.com,100,many,False,\n\
            \"quoted\nline\"@contoso.com,100,1,False,\n\
            hidden@contoso.com,100,1,Maybe,\n\
            types@contoso.com,100,1,False,Microsoft.Exchange.Data.ProxyAddressCollection\n\
            OK@contoso.com,100,1,False,\n\
            ,100,1,False,\n\
            last@contoso.com,1.5 GB,2,True,\n";
        let parsed = parse(csv.as_bytes()).expect("parse");
        let kept: Vec<&str> = parsed.mailboxes.iter().map(|m| m.primary_smtp.as_str()).collect();
        assert_eq!(kept, vec!["ok@contoso.com", "last@contoso.com"]);
        let lines: Vec<u64> = parsed.rejected.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 8, 9, 10, 11]);
        let reasons: Vec<&str> = parsed.rejected.iter().map(|p| p.reason.as_str()).collect();
        assert!(reasons[0].contains("not-an-address"), "{reasons:?}");
        assert!(reasons[1].contains("'lots'"), "{reasons:?}");
        assert!(reasons[2].contains("ItemCount 'many'"), "{reasons:?}");
        assert!(reasons[4].contains("'Maybe'"), "{reasons:?}");
        assert!(reasons[5].contains(".NET type name"), "{reasons:?}");
        assert!(reasons[6].contains("first on line 2"), "{reasons:?}");
        assert!(reasons[7].contains("empty"), "{reasons:?}");
        assert_eq!(parsed.rejected[1].key.as_deref(), Some("size@contoso.com"), "a rejected row keeps its key");
        assert_eq!(parsed.warnings.len(), 1, "1.5 GB is rounded: {:?}", parsed.warnings);
        assert_eq!(parsed.warnings[0].line, 12);
    }

    #[test]
    fn a_file_cut_in_its_last_row_rejects_that_row() {
        let header = "PrimarySmtpAddress,TotalItemSize,ItemCount";
        let parsed = parse(format!("{header}\na@c.com,100,1\nb@c.com,2000").as_bytes()).expect("parse");
        assert_eq!(parsed.mailboxes.len(), 1, "{:?}", parsed.mailboxes);
        assert_eq!(parsed.rejected.len(), 1);
        assert_eq!(parsed.rejected[0].line, 3);
        assert!(parsed.rejected[0].reason.contains("cut short"), "{:?}", parsed.rejected);
        assert_eq!(parsed.rejected[0].key.as_deref(), Some("b@c.com"), "the address was whole: a later field follows");
        // Cut inside the address itself: the address read may not be the mailbox's.
        let parsed = parse(format!("{header}\na@c.com,100,1\nbob@c.co").as_bytes()).expect("parse");
        assert_eq!((parsed.mailboxes.len(), parsed.rejected[0].key.as_deref()), (1, None));
        // Cut inside a quoted field.
        let parsed = parse(format!("{header}\na@c.com,100,1\nb@c.com,\"1,00").as_bytes()).expect("parse");
        assert_eq!(parsed.mailboxes.len(), 1, "{:?}", parsed.mailboxes);
        // A whole last row without a final line break, and a short row followed by a line break, are fine.
        let parsed = parse(format!("{header}\na@c.com,100\nb@c.com,100,1").as_bytes()).expect("parse");
        assert_eq!((parsed.mailboxes.len(), parsed.rejected.len()), (2, 0));
    }

    #[test]
    fn line_numbers_are_right_with_crlf_and_multiline_fields() {
        let csv = "#TYPE x\r\nPrimarySmtpAddress;DisplayName\r\na@c.com;\"two\r\nlines\"\r\nbad;x\r\nb@c.com;y\r\nworse;z\r\n";
        let parsed = parse(csv.as_bytes()).expect("parse");
        let lines: Vec<u64> = parsed.rejected.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![5, 7]);
        assert_eq!(parsed.mailboxes.len(), 2);
    }

    #[test]
    fn a_file_without_addresses_or_rows_is_refused_with_the_fix() {
        assert_eq!(parse(b""), Err(InventoryError::Empty));
        assert_eq!(parse(b"\xef\xbb\xbf\n\n"), Err(InventoryError::Empty));
        let stats_only = b"DisplayName,TotalItemSize,ItemCount\nMegan,1 GB,3\n";
        let err = parse(stats_only).expect_err("no smtp column");
        assert!(err.to_string().contains("Get-CutoverInventory.ps1"));
    }

    #[test]
    fn terminal_escapes_in_a_field_do_not_reach_the_reason() {
        let parsed =
            parse(b"PrimarySmtpAddress,TotalItemSize\n\x1b]0;owned\x07x@c.com,1\ny@c.com,\x1b[2J\n").expect("parse");
        assert_eq!(parsed.rejected.len(), 2);
        for row in &parsed.rejected {
            assert!(!row.reason.chars().any(char::is_control), "{:?}", row.reason);
            assert!(row.reason.contains("\\u{1b}"), "escaped, not dropped: {:?}", row.reason);
        }
    }

    #[test]
    fn sizes_and_counts_past_any_mailbox_are_rejected_rows() {
        let csv = "PrimarySmtpAddress,TotalItemSize,ItemCount,TotalDeletedItemSize\n\
            big@c.com,18446744073709551615,1,0\n\
            items@c.com,1,18446744073709551615,0\n\
            deleted@c.com,1,1,200 TB\n\
            ok@c.com,99 TB,99000000,0\n";
        let parsed = parse(csv.as_bytes()).expect("parse");
        let kept: Vec<&str> = parsed.mailboxes.iter().map(|m| m.primary_smtp.as_str()).collect();
        assert_eq!(kept, vec!["ok@c.com"]);
        assert_eq!(parsed.rejected.len(), 3);
        assert!(parsed.rejected.iter().all(|r| r.reason.contains("more than")), "{:?}", parsed.rejected);
        assert_eq!(parsed.rejected[0].key.as_deref(), Some("big@c.com"), "the mailbox is kept from before");
    }

    #[test]
    fn dates_in_the_forms_powershell_prints() {
        assert!(parse_time("11/24/2026 3:15:22 PM").is_some());
        assert!(parse_time("24.11.2026 15:15:22").is_some());
        assert!(parse_time("2026-11-24T15:15:22.1234567Z").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}

/// Property tests: any bytes, and the sample export spoiled, never panic; a mailbox kept is always one a
/// migration can use (a valid address, sizes in bounds, the size read as `parse_size` reads it).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::fuzz_support::{apply, spoil, wild_text};
    use proptest::prelude::*;

    const SAMPLE: &[u8] = include_bytes!("../../assets/samples/inventory-typical.csv");

    /// The sample's header and first rows: enough to hold every column, small enough to parse fast.
    fn sample_head() -> Vec<u8> {
        let text = String::from_utf8_lossy(SAMPLE);
        text.lines().take(6).map(|l| format!("{l}\n")).collect::<String>().into_bytes()
    }

    fn usable(parsed: &Parsed, lines: u64) {
        for m in &parsed.mailboxes {
            assert!(validate_email(&m.primary_smtp).is_ok(), "kept an unusable address {:?}", m.primary_smtp);
            assert!(m.total_item_size <= MAX_MAILBOX_BYTES && m.deleted_item_size <= MAX_MAILBOX_BYTES);
            assert!(m.item_count <= MAX_MAILBOX_ITEMS);
        }
        for p in parsed.rejected.iter().chain(&parsed.warnings) {
            assert!(p.line <= lines + 1, "line {} of a file of {lines}", p.line);
            assert!(!p.reason.is_empty());
            assert!(!p.reason.chars().any(|c| c.is_control() && c != '\n'), "{:?}", p.reason);
        }
    }

    fn line_count(bytes: &[u8]) -> u64 {
        bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1
    }

    proptest! {
        #[test]
        fn fuzz_inventory_any_bytes(bytes in any::<Vec<u8>>()) {
            if let Ok(parsed) = parse(&bytes) {
                usable(&parsed, line_count(&bytes));
            }
        }

        #[test]
        fn fuzz_inventory_any_text(text in wild_text()) {
            let with_header = format!("PrimarySmtpAddress,TotalItemSize,ItemCount\n{text}");
            for bytes in [text.as_bytes(), with_header.as_bytes()] {
                if let Ok(parsed) = parse(bytes) {
                    usable(&parsed, line_count(bytes));
                }
            }
        }

        #[test]
        fn fuzz_inventory_spoiled_sample(how in spoil()) {
            let bytes = apply(&sample_head(), &how);
            if let Ok(parsed) = parse(&bytes) {
                usable(&parsed, line_count(&bytes));
                prop_assert!(parsed.mailboxes.len() + parsed.rejected.len() <= 2 * 5 + 1);
            }
        }

        /// One field of a good row set to wild text: the row is kept only with what that text means.
        #[test]
        fn fuzz_inventory_one_bad_field(column in 0usize..14, value in wild_text()) {
            let head = String::from_utf8_lossy(&sample_head()).into_owned();
            let mut lines = head.lines();
            let header = lines.next().unwrap_or_default();
            let row = lines.next().unwrap_or_default();
            let mut record = ::csv::ReaderBuilder::new().has_headers(false).from_reader(row.as_bytes());
            let fields: Vec<String> = record
                .records()
                .next()
                .and_then(Result::ok)
                .map(|r| r.iter().map(str::to_owned).collect())
                .unwrap_or_default();
            let mut writer = ::csv::Writer::from_writer(Vec::new());
            let mut spoiled = fields.clone();
            if let Some(slot) = spoiled.get_mut(column) {
                slot.clone_from(&value);
            }
            writer.write_record(&spoiled).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let body = writer.into_inner().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let file = [header.as_bytes(), b"\n", &body].concat();
            let parsed = parse(&file).map_err(|e| TestCaseError::fail(e.to_string()))?;
            usable(&parsed, line_count(&file));
            prop_assert_eq!(parsed.mailboxes.len() + parsed.rejected.len(), 1, "{:?}", parsed);
            if let Some(m) = parsed.mailboxes.first() {
                // Column 5 is TotalItemSizeBytes in the sample.
                if column == 5 {
                    prop_assert_eq!(Some(m.total_item_size), parse_size(&value).ok().map(|(b, _)| b));
                }
            }
        }
    }
}
