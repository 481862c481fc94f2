//! Exchange Server versions: build numbers (from EWS `ServerVersionInfo`, or the hexadecimal `ServerVersion` of
//! an Autodiscover answer) and the product names engineers know them by.

use std::fmt;

/// An Exchange build, such as 15.1.2507.6 (Exchange Server 2016).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ExchangeBuild {
    pub major: u16,
    pub minor: u16,
    pub build: u16,
    pub revision: Option<u16>,
}

impl ExchangeBuild {
    pub fn new(major: u16, minor: u16, build: u16, revision: Option<u16>) -> Self {
        Self { major, minor, build, revision }
    }

    /// Decodes the 8 hexadecimal digits of a POX Autodiscover `ServerVersion`: 4 bits of flags, then 6 bits of
    /// major version, 6 bits of minor version, 1 bit of flag and 15 bits of build number.
    pub fn from_pox_server_version(hex: &str) -> Option<Self> {
        let hex = hex.trim();
        // from_str_radix would take a leading '+' as a sign.
        if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        let major = ((v >> 22) & 0x3f) as u16;
        let minor = ((v >> 16) & 0x3f) as u16;
        let build = (v & 0x7fff) as u16;
        Some(Self { major, minor, build, revision: None })
    }

    /// The product name, with the service level where the minor version says it.
    pub fn product(&self) -> String {
        match (self.major, self.minor) {
            (6, 5) => "Exchange Server 2003".to_owned(),
            (8, m) => with_sp("Exchange Server 2007", m),
            (14, m) => with_sp("Exchange Server 2010", m),
            (15, 0) => "Exchange Server 2013".to_owned(),
            (15, 1) => "Exchange Server 2016".to_owned(),
            // Exchange Server Subscription Edition kept version 15.2; its first build was 15.2.2562.
            (15, 2) if self.build >= 2562 => "Exchange Server Subscription Edition".to_owned(),
            (15, 2) => "Exchange Server 2019".to_owned(),
            (major, minor) => format!("an Exchange version this tool does not know ({major}.{minor})"),
        }
    }
}

fn with_sp(base: &str, minor: u16) -> String {
    if minor == 0 { base.to_owned() } else { format!("{base} SP{minor}") }
}

impl fmt::Display for ExchangeBuild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.build)?;
        if let Some(r) = self.revision {
            write!(f, ".{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pox_server_version() {
        // Exchange 2010 SP1, build 14.1.218.
        let b = ExchangeBuild::from_pox_server_version("738180DA").unwrap();
        assert_eq!((b.major, b.minor, b.build), (14, 1, 218));
        assert_eq!(b.product(), "Exchange Server 2010 SP1");
        // The value in Microsoft's sample POX response: an Exchange 2007 build.
        let b = ExchangeBuild::from_pox_server_version("72008287").unwrap();
        assert_eq!((b.major, b.minor, b.build), (8, 0, 647));
        assert_eq!(b.product(), "Exchange Server 2007");
        assert!(ExchangeBuild::from_pox_server_version("xyz").is_none());
        assert!(ExchangeBuild::from_pox_server_version("12").is_none());
    }

    #[test]
    fn product_names() {
        assert_eq!(ExchangeBuild::new(15, 0, 1497, Some(2)).product(), "Exchange Server 2013");
        assert_eq!(ExchangeBuild::new(15, 1, 2507, Some(6)).product(), "Exchange Server 2016");
        assert_eq!(ExchangeBuild::new(15, 2, 1544, Some(4)).product(), "Exchange Server 2019");
        assert_eq!(ExchangeBuild::new(15, 2, 2562, Some(17)).product(), "Exchange Server Subscription Edition");
        assert_eq!(ExchangeBuild::new(14, 3, 123, Some(4)).product(), "Exchange Server 2010 SP3");
        assert_eq!(ExchangeBuild::new(15, 1, 2507, Some(6)).to_string(), "15.1.2507.6");
        assert!(ExchangeBuild::new(16, 0, 1, None).product().contains("does not know"));
    }
}
