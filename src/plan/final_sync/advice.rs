//! What the tool does not do and the customer must, once the mailboxes are in Exchange Online: shown on stage
//! 8's screen with the exact commands and kept for the closeout report, which reads [`advice`]. Pure.

/// One thing for the customer to do by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub title: &'static str,
    pub text: String,
    /// The exact command to run, when there is one.
    pub command: Option<String>,
}

/// The advice for this project; `source_server` is the on-premises Exchange server's name when known (stage 2).
pub fn advice(source_server: Option<&str>) -> Vec<Advice> {
    let server = source_server.map(str::trim).filter(|s| !s.is_empty());
    let identity = server.map_or_else(|| "<server>".to_owned(), |s| format!("\"{s}\""));
    vec![
        Advice {
            title: "Outlook profiles on the desktops",
            text: "The migration service moves mailboxes, not Outlook profiles: each desktop's Outlook needs a new \
                   profile (or a repaired one) that connects to Exchange Online. This is outside the tool and the \
                   service; plan it with the users."
                .to_owned(),
            command: None,
        },
        Advice {
            title: "The on-premises SCP for domain-joined Outlook",
            text: format!(
                "Domain-joined Outlook looks up Autodiscover in Active Directory (the service connection point) \
                 before DNS, and would keep finding the old server. Clear the SCP on {} in the Exchange \
                 Management Shell:",
                server.unwrap_or("each Client Access server (name it for <server>)")
            ),
            command: Some(format!(
                "Set-ClientAccessService -Identity {identity} -AutoDiscoverServiceInternalUri $null"
            )),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scp_command_names_the_source_server_when_known() {
        let known = advice(Some("EX01"));
        assert_eq!(known.len(), 2);
        assert_eq!(
            known[1].command.as_deref(),
            Some("Set-ClientAccessService -Identity \"EX01\" -AutoDiscoverServiceInternalUri $null")
        );
        let unknown = advice(None);
        assert!(unknown[1].command.as_deref().is_some_and(|c| c.contains("-Identity <server>")));
        assert!(unknown[0].command.is_none());
    }
}
