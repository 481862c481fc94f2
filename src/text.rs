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

/// An email address: `local@domain`, with a dot-atom local part.
pub fn validate_email(input: &str) -> Result<String, ValidationError> {
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
