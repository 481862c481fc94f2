//! Text as people type and read it, shared by the plan, the inventory and the screens: why a typed value was
//! refused, email addresses, and numbers with thousands separators. Neutral ground, so that the inventory need
//! not import the plan that reads it.

/// Why a value typed into a form was refused. The message names the value and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValidationError(String);

impl ValidationError {
    pub fn new(msg: impl Into<String>) -> Self {
        ValidationError(msg.into())
    }
}

fn invalid(msg: impl Into<String>) -> ValidationError {
    ValidationError::new(msg)
}

/// Where the `user:password@` part of `input` is: the user information of a URL (`https://user:pass@host/`),
/// or of a host typed with one (`user:pass@host`). A plain `name@domain` has none.
fn credentials_span(input: &str) -> Option<std::ops::Range<usize>> {
    let (start, url) = input.find("://").map_or((0, false), |i| (i + 3, true));
    let rest = &input[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = authority.rfind('@')?;
    (url || authority[..at].contains(':')).then_some(start..start + at + 1)
}

/// Refuses a URL or host that carries a user name or password (`https://user:pass@host/`): whatever is typed in
/// a setting is stored in `state.json`, and secrets belong in the OS keyring. The error names `what` and shows
/// the input without that part, so the password is never echoed.
pub fn refuse_url_credentials(what: &str, input: &str) -> Result<(), ValidationError> {
    match credentials_span(input) {
        None => Ok(()),
        Some(span) => Err(invalid(format!(
            "{what} has a user name and password in it (user:password@): drop that part and give {}{}; secrets go to the OS keyring (the password prompt, `cutover source --password-stdin`, `cutover auth login`), never into a setting",
            &input[..span.start],
            &input[span.end..]
        ))),
    }
}

/// `input` with anything that may be a URL's user information cut out, for an error that must show it.
pub fn without_credentials(input: &str) -> String {
    match credentials_span(input) {
        Some(span) => format!("{}{}", &input[..span.start], &input[span.end..]),
        None => input.to_owned(),
    }
}

/// An email address: `local@domain`, with a dot-atom local part.
pub fn validate_email(input: &str) -> Result<String, ValidationError> {
    refuse_url_credentials("email", input.trim())?;
    let s = input.trim();
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err(invalid(format!("email '{input}' has no @; type it as name@example.com")));
    };
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || SPECIALS.contains(c));
    if !local_ok {
        return Err(invalid(format!(
            "email '{input}': the part before @ may hold letters, digits and . _ - + only, without leading, trailing or double dots"
        )));
    }
    let domain = domain.to_ascii_lowercase();
    let labels_ok = domain.split('.').count() >= 2
        && domain.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !labels_ok {
        return Err(invalid(format!("email '{input}': '{domain}' is not a valid domain; type it as name@example.com")));
    }
    Ok(format!("{local}@{domain}"))
}

/// `1234567` as `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_url_or_host_are_refused_without_echoing_them() {
        for (input, shown) in [
            ("https://admin:s3cret@graph.example/v1.0", "https://graph.example/v1.0"),
            ("https://s3cret@graph.example", "https://graph.example"),
            ("admin:s3cret@mail.contoso.com", "mail.contoso.com"),
            ("https://a:b@c:s3cret@host/x@y", "https://host/x@y"),
        ] {
            let err = refuse_url_credentials("--graph-url", input).expect_err(input).to_string();
            assert!(err.starts_with("--graph-url has a user name and password"), "{err}");
            assert!(err.contains(&format!("give {shown};")), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
            assert_eq!(without_credentials(input), shown);
        }
        for fine in ["https://graph.example/v1.0/users/a@b.com", "migadmin@contoso.com", "mail.contoso.com", ""] {
            assert_eq!(refuse_url_credentials("x", fine), Ok(()), "{fine}");
        }
        let err = validate_email("https://ceo:s3cret@contoso.com").expect_err("a URL").to_string();
        assert!(err.starts_with("email has a user name and password") && !err.contains("s3cret"), "{err}");
    }

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert_eq!(validate_email("Chris.Client+mig@Contoso.COM"), Ok("Chris.Client+mig@contoso.com".into()));
        for bad in [
            "chris",
            "@contoso.com",
            "chris@",
            "chris@contoso",
            ".chris@contoso.com",
            "chris..c@contoso.com",
            "chris @contoso.com",
        ] {
            let err = validate_email(bad).expect_err(bad);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn thousands_are_grouped_by_commas() {
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(0), "0");
    }
}
