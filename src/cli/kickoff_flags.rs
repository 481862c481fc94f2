//! The kickoff fields as flags of `cutover new`: each checked by the kickoff form's own validation before the
//! project is created, then stored through the runner like a key in the form.

use crate::plan::kickoff::{Field, Kickoff};
use color_eyre::eyre::eyre;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct KickoffFlags {
    /// The customer's company name
    #[arg(long)]
    pub customer: Option<String>,
    /// The partner's engineer: full name
    #[arg(long)]
    pub partner_contact: Option<String>,
    #[arg(long)]
    pub partner_email: Option<String>,
    #[arg(long)]
    pub partner_phone: Option<String>,
    /// The client's point of contact: full name
    #[arg(long)]
    pub client_contact: Option<String>,
    #[arg(long)]
    pub client_email: Option<String>,
    #[arg(long)]
    pub client_phone: Option<String>,
    /// An email domain that moves (repeat for more)
    #[arg(long = "domain", value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// When the MX record changes: "YYYY-MM-DD HH:MM Area/City"
    #[arg(long, value_name = "WHEN")]
    pub cutover: Option<String>,
    /// The estimated number of mailboxes
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub mailboxes: Option<String>,
}

/// One given flag: its name as typed, the form's field and the value.
pub struct Given {
    pub flag: &'static str,
    pub field: Field,
    pub value: String,
}

impl KickoffFlags {
    /// The flags given, in the form's order.
    pub fn given(&self) -> Vec<Given> {
        let one = |flag, field, value: &Option<String>| value.clone().map(|value| Given { flag, field, value });
        let domains = (!self.domains.is_empty()).then(|| self.domains.join(", ")).map(|value| Given {
            flag: "--domain",
            field: Field::Domains,
            value,
        });
        [
            one("--customer", Field::Customer, &self.customer),
            one("--partner-contact", Field::PartnerName, &self.partner_contact),
            one("--partner-email", Field::PartnerEmail, &self.partner_email),
            one("--partner-phone", Field::PartnerPhone, &self.partner_phone),
            one("--client-contact", Field::ClientName, &self.client_contact),
            one("--client-email", Field::ClientEmail, &self.client_email),
            one("--client-phone", Field::ClientPhone, &self.client_phone),
            domains,
            one("--cutover", Field::Cutover, &self.cutover),
            one("--mailboxes", Field::Mailboxes, &self.mailboxes),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Refuses the first bad value before anything is created, naming its flag and what to type. The form's own
    /// validation, on a scratch copy; the runner validates again when it stores the values.
    pub fn validate(&self) -> color_eyre::Result<()> {
        let mut scratch = Kickoff::default();
        for Given { flag, field, value } in self.given() {
            if value.trim().is_empty() {
                return Err(eyre!("{flag} is empty: give {}, or leave the flag out", field.hint()));
            }
            // The form's messages name the fix already.
            field.apply(&mut scratch, &value).map_err(|e| eyre!("{flag}: {e}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_joined_and_bad_values_name_their_flag() {
        let flags = KickoffFlags {
            customer: Some("Contoso".into()),
            domains: vec!["contoso.com".into(), "contoso.co.uk".into()],
            mailboxes: Some("1,200".into()),
            ..Default::default()
        };
        flags.validate().expect("valid");
        let given = flags.given();
        assert_eq!(given.len(), 3);
        assert_eq!(given[1].value, "contoso.com, contoso.co.uk");
        let bad = KickoffFlags { partner_email: Some("not-an-address".into()), ..Default::default() };
        let err = bad.validate().expect_err("invalid").to_string();
        assert!(err.starts_with("--partner-email:") && err.contains("name@example.com"), "{err}");
        let bad = KickoffFlags { cutover: Some("next friday".into()), ..Default::default() };
        let err = bad.validate().expect_err("invalid").to_string();
        assert!(err.starts_with("--cutover:") && err.contains("YYYY-MM-DD HH:MM"), "{err}");
        let empty = KickoffFlags { customer: Some(" ".into()), ..Default::default() };
        assert!(empty.validate().expect_err("empty").to_string().starts_with("--customer is empty"));
    }
}
