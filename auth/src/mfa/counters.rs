//! What the second step of a login and the passkey ceremonies count
//! against in the throttle (see `throttle/` for how counting works).

use std::{net::IpAddr, time::Duration};

#[cfg(feature = "passkeys")]
use crate::throttle::client_key;
use crate::{
    settings::Settings,
    throttle::{Counter, counts_per_address, per_address},
};

/// What one answer at the second step of user `user_id`'s login (a code,
/// a passkey) from `client` counts against: the second factor's own
/// limits, which a correct password does not reset
/// (`AUTH_MFA_FAILURE_LIMIT` per window, cleared by a right answer, and
/// `AUTH_MFA_FAILURE_LIMIT_PER_DAY`: RFC 4226 §7.3's small limit with a
/// longer back-off behind it), and the client's address.
pub(crate) fn second_step_counters(
    settings: &Settings,
    user_id: i64,
    client: Option<IpAddr>,
) -> Vec<Counter> {
    let mut counters = vec![
        Counter::new("mfa-user", user_id.to_string(), settings.mfa_failure_limit)
            .reset_on_success(),
        Counter::new(
            "mfa-user-day",
            user_id.to_string(),
            settings.mfa_failure_limit_per_day,
        )
        .window(Duration::from_secs(86_400)),
    ];
    if counts_per_address(settings, client) {
        counters.push(per_address(settings, client));
    }
    counters
}

#[cfg(feature = "passkeys")]
/// What a passkey login whose credential is unknown (or not its
/// handle's) counts against: the client's address only, so a forged
/// handle never counts against, nor reveals, anyone's account.
pub(crate) fn unknown_credential_counters(
    settings: &Settings,
    client: Option<IpAddr>,
) -> Vec<Counter> {
    let mut counters = Vec::new();
    if counts_per_address(settings, client) {
        counters.push(per_address(settings, client));
    }
    counters
}

#[cfg(feature = "passkeys")]
/// What asking for passkey login options counts against: the client's
/// address, `AUTH_LOGIN_FAILURE_LIMIT_PER_IP` per window (a ceremony
/// writes nothing, but each answer is signed work).
pub(crate) fn passkey_options_counters(
    settings: &Settings,
    client: Option<IpAddr>,
) -> Vec<Counter> {
    let mut counters = Vec::new();
    if counts_per_address(settings, client) {
        counters.push(Counter::new(
            "passkey-options-ip",
            client_key(client),
            settings.login_failure_limit_per_ip,
        ));
    }
    counters
}

#[cfg(feature = "passkeys")]
/// The one use of a WebAuthn challenge (`challenge`, base64url): a
/// counter of limit one that lives as long as the challenge can.
pub(crate) fn challenge_use(challenge: &str, lifetime: Duration) -> Vec<Counter> {
    vec![Counter::new("webauthn-challenge", challenge.to_owned(), 1).window(lifetime)]
}
