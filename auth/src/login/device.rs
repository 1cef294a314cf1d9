//! The device line of a session ("Firefox on Linux"), read from its user
//! agent with woothee, for the session list, `listsessions` and security
//! emails.

/// "Firefox on Linux", from a user agent.
pub(crate) fn device(agent: &str) -> String {
    let parsed = woothee::parser::Parser::new().parse(agent);
    let known = |value: &str| !value.is_empty() && value != woothee::woothee::VALUE_UNKNOWN;
    match parsed {
        Some(ua) if known(ua.name) && known(ua.os) => format!("{} on {}", ua.name, ua.os),
        Some(ua) if known(ua.name) => ua.name.to_owned(),
        Some(ua) if known(ua.os) => format!("Unknown browser on {}", ua.os),
        _ if agent.is_empty() => "Unknown device".to_owned(),
        _ => "Unknown browser".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_read_as_browser_on_system() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device(firefox), "Firefox on Linux");
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(device(chrome), "Chrome on Windows 10");
        assert_eq!(device(""), "Unknown device");
        assert_eq!(device("\u{0}garbage"), "Unknown browser");
    }
}
