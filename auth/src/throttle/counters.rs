//! What each kind of attempt counts against (the tables of the module
//! docs), and how a client is counted.

use std::net::{IpAddr, Ipv6Addr};

use super::Counter;
use crate::settings::Settings;

/// The client as the throttle counts it: an IPv4 address, an IPv6 /64, or
/// `unknown` (no address: outside a request, or a proxy header missing).
pub(crate) fn client_key(client: Option<IpAddr>) -> String {
    match client.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let segments = v6.segments();
            let network = Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            );
            format!("{network}/64")
        }
        None => "unknown".into(),
    }
}

/// Whether attempts from `client` count per address: those with an
/// address, and, behind a trusted proxy, those without one (a missing or
/// garbled header), which all count as one `unknown` address: failing
/// closed, they cannot escape the per-address limit by dropping the
/// header.
pub(crate) fn counts_per_address(settings: &Settings, client: Option<IpAddr>) -> bool {
    client.is_some() || settings.trusted_proxy_header.is_some()
}

/// What a login attempt for `username` (already normalised) from `client`
/// counts against (see the module docs).
pub(crate) fn login_counters(
    settings: &Settings,
    username: &str,
    client: Option<IpAddr>,
) -> Vec<Counter> {
    let address = client_key(client);
    let mut counters = vec![
        Counter::new(
            "login-user-ip",
            format!("{username}\u{0}{address}"),
            settings.login_failure_limit,
        )
        .reset_on_success(),
        Counter::new(
            "login-user",
            username.to_owned(),
            settings.login_failure_limit_per_user,
        ),
    ];
    if counts_per_address(settings, client) {
        counters.push(per_address(settings, client));
    }
    counters
}

/// What a login attempt counts against when it presents a valid device
/// cookie of its username (OWASP's device cookies): that device alone,
/// with the per-address limit of one address (`AUTH_LOGIN_FAILURE_LIMIT`),
/// and never the username's own limits, so guessing from elsewhere cannot
/// lock the owner out of a device they logged in on.
pub(crate) fn device_counters(settings: &Settings, device: &str) -> Vec<Counter> {
    vec![
        Counter::new(
            "login-device",
            device.to_owned(),
            settings.login_failure_limit,
        )
        .reset_on_success(),
    ]
}

/// The failures of `client` across usernames.
pub(crate) fn per_address(settings: &Settings, client: Option<IpAddr>) -> Counter {
    Counter::new(
        "login-ip",
        client_key(client),
        settings.login_failure_limit_per_ip,
    )
}

/// What one password-reset message to user `user_id` at the request of
/// `client` counts against: `AUTH_PASSWORD_RESET_EMAIL_LIMIT` per user and
/// client, `AUTH_PASSWORD_RESET_EMAIL_LIMIT_PER_USER` per user. Keyed on
/// the user matched, not the address typed, so variants of an address
/// that match the same user (case, compatibility forms, a database
/// collation) share one count.
pub(crate) fn reset_mail_counters(
    settings: &Settings,
    user_id: i64,
    client: Option<IpAddr>,
) -> Vec<Counter> {
    vec![
        Counter::new(
            "reset-user-ip",
            format!("{user_id}\u{0}{}", client_key(client)),
            settings.password_reset_email_limit,
        ),
        Counter::new(
            "reset-user",
            user_id.to_string(),
            settings.password_reset_email_limit_per_user,
        ),
    ]
}

/// What one password-reset request from `client` counts against (the
/// per-address login limit: a bound on the lookups one address causes).
pub(crate) fn reset_request_counters(settings: &Settings, client: IpAddr) -> Vec<Counter> {
    vec![Counter::new(
        "reset-ip",
        client_key(Some(client)),
        settings.login_failure_limit_per_ip,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let key = |s: &str| client_key(Some(s.parse().unwrap()));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::ffff:192.0.2.1"), "192.0.2.1", "IPv4-mapped");
        assert_eq!(key("192.0.2.1"), "192.0.2.1");
        assert_eq!(client_key(None), "unknown");
    }

    #[test]
    fn behind_a_proxy_an_address_that_is_missing_counts_as_one() {
        let direct = Settings::default();
        let kinds = |settings: &Settings, client| {
            login_counters(settings, "alice", client)
                .into_iter()
                .map(|c| (c.kind, c.value))
                .collect::<Vec<_>>()
        };
        // Served directly without an address (outside a request): no
        // address to count.
        assert!(
            !kinds(&direct, None)
                .iter()
                .any(|(kind, _)| *kind == "login-ip")
        );
        let proxied = Settings {
            trusted_proxy_header: Some("X-Forwarded-For".into()),
            ..Settings::default()
        };
        assert!(
            kinds(&proxied, None).contains(&("login-ip", "unknown".to_owned())),
            "a missing header is one shared address"
        );
        let client = Some("192.0.2.1".parse().unwrap());
        assert!(kinds(&proxied, client).contains(&("login-ip", "192.0.2.1".to_owned())));
    }
}
