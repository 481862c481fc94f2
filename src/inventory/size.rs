//! Sizes and counts as Exchange and PowerShell print them, in any locale: `30551458399`,
//! `28.45 GB (30,551,458,399 bytes)`, `28,45 GB (30.551.458.399 bytes)`, `1.2 MB`, `0 B (0 bytes)`.

/// Why a size could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a size: {why}")]
pub struct SizeError {
    pub text: String,
    pub why: &'static str,
}

/// How exactly a size was known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Exact,
    /// Read from a rounded unit such as `28.45 GB`, without the byte count.
    Rounded,
}

/// Bytes from a size. Exchange's units are binary (1 GB = 1,073,741,824 bytes).
pub fn parse_size(text: &str) -> Result<(u64, Precision), SizeError> {
    let t = text.trim();
    let err = |why| SizeError { text: t.to_owned(), why };
    if t.is_empty() {
        return Ok((0, Precision::Exact));
    }
    if t.eq_ignore_ascii_case("unlimited") {
        return Err(err("'Unlimited' is a quota, not a size"));
    }
    // The exact count in parentheses wins: "… (30,551,458,399 bytes)".
    if let Some(open) = t.rfind('(') {
        let inner = t[open + 1..].trim_end_matches(')').trim();
        let digits = inner.strip_suffix("bytes").or_else(|| inner.strip_suffix("Bytes")).map(str::trim);
        return match digits.and_then(parse_grouped) {
            Some(n) => Ok((n, Precision::Exact)),
            None => Err(err("the part in parentheses should read like (30,551,458,399 bytes)")),
        };
    }
    if let Some(n) = parse_grouped(t) {
        return Ok((n, Precision::Exact));
    }
    let split = t.find(|c: char| c.is_alphabetic()).ok_or_else(|| err("no unit and not a whole number"))?;
    let (number, unit) = t.split_at(split);
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "B" | "BYTES" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return Err(err("unknown unit; expected B, KB, MB, GB or TB")),
    };
    let value: f64 =
        number.trim().replace(',', ".").parse().map_err(|_| err("the number before the unit is not a number"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(err("negative or not finite"));
    }
    let bytes = value * factor as f64;
    if bytes > u64::MAX as f64 {
        return Err(err("too large"));
    }
    Ok((bytes.round() as u64, Precision::Rounded))
}

/// A whole number, with or without thousands separators (`,` `.` `'`, space, no-break space) between groups of
/// three digits.
pub fn parse_grouped(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.chars().all(|c| c.is_ascii_digit()) {
        return t.parse().ok();
    }
    let sep = t.chars().find(|c| !c.is_ascii_digit())?;
    if !matches!(sep, ',' | '.' | '\'' | ' ' | '\u{a0}' | '\u{202f}') {
        return None;
    }
    let groups: Vec<&str> = t.split(sep).collect();
    let well_formed = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3);
    if !well_formed {
        return None;
    }
    groups.concat().parse().ok()
}

/// `30551458399` as `28.45 GB`, in Exchange's binary units.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.2} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_sizes_in_every_locale_give_the_exact_bytes() {
        for text in [
            "28.45 GB (30,551,458,399 bytes)",
            "28,45 GB (30.551.458.399 bytes)",
            "28,45 GB (30 551 458 399 bytes)",
            "28,45 GB (30\u{a0}551\u{a0}458\u{a0}399 bytes)",
            "28.45 GB (30'551'458'399 bytes)",
            "30551458399",
            "30,551,458,399",
        ] {
            assert_eq!(parse_size(text), Ok((30_551_458_399, Precision::Exact)), "{text}");
        }
        assert_eq!(parse_size("0 B (0 bytes)"), Ok((0, Precision::Exact)));
        assert_eq!(parse_size(""), Ok((0, Precision::Exact)));
    }

    #[test]
    fn rounded_sizes_use_binary_units() {
        assert_eq!(parse_size("1 GB"), Ok((1 << 30, Precision::Rounded)));
        assert_eq!(parse_size("1,5 MB"), Ok((1_572_864, Precision::Rounded)));
        assert_eq!(parse_size("512 KB"), Ok((524_288, Precision::Rounded)));
    }

    #[test]
    fn things_that_are_not_sizes_are_refused_with_why() {
        for text in ["Unlimited", "big", "12 XB", "28.45 GB (about 30 bytes)", "-1 GB", "1,23,456"] {
            let err = parse_size(text).expect_err(text);
            assert!(err.to_string().contains(text.trim()), "{err}");
        }
    }

    #[test]
    fn grouped_numbers_need_groups_of_three() {
        assert_eq!(parse_grouped("1.234.567"), Some(1_234_567));
        assert_eq!(parse_grouped("1234"), Some(1234));
        assert_eq!(parse_grouped("12,34"), None);
        assert_eq!(parse_grouped("1,234.5"), None);
    }

    #[test]
    fn sizes_print_as_exchange_does() {
        assert_eq!(format_size(30_551_458_399), "28.45 GB");
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(50 << 30), "50.00 GB");
    }
}
