//! Test oracles of two-factor login (feature `test-util`): what an
//! authenticator app or a platform authenticator would answer, for tests
//! of the two-factor views without a phone or a browser. Not for apps: no
//! stability promise.

use crate::{app::Auth, user::AuthUser};

/// The TOTP code of `secret` (base32, as `TotpActivateView` shows it) at
/// Unix time `at`: what an authenticator app shows then; `None` when
/// `secret` is not base32.
pub fn code_at(secret: &str, at: u64) -> Option<String> {
    let secret = super::totp::from_base32(secret)?;
    Some(super::totp::code(&secret, super::totp::step_at(at)))
}

/// The TOTP code of `secret` (base32, as `TotpActivateView` shows it) by
/// the app's clock: what an authenticator app would show now.
pub fn current_code<U: AuthUser>(auth: &Auth<U>, secret: &str) -> String {
    let now = crate::session::metadata::unix(auth.shared.clock.now());
    code_at(secret, now.max(0) as u64).expect("a base32 secret")
}

/// A software passkey authenticator (ES256, as a platform authenticator
/// signs), for tests of the passkey views without a browser.
#[cfg(feature = "passkeys")]
pub struct SoftPasskey(crate::mfa::webauthn::soft::SoftPasskey);

#[cfg(feature = "passkeys")]
impl SoftPasskey {
    /// Answers `navigator.credentials.create()` with the options a
    /// `PasskeysView` returned (JSON) for a page at `origin`: the passkey,
    /// and the `credential` JSON the page would post.
    pub fn create(options: &str, origin: &str) -> (SoftPasskey, String) {
        let options: serde_json::Value = serde_json::from_str(options).expect("options JSON");
        let (passkey, json) = crate::mfa::webauthn::soft::SoftPasskey::create(&options, origin);
        (SoftPasskey(passkey), json)
    }

    /// [`create`](Self::create) as a synced passkey, whose sign counter
    /// stays 0 (only the challenge then tells a replay).
    pub fn create_synced(options: &str, origin: &str) -> (SoftPasskey, String) {
        let options: serde_json::Value = serde_json::from_str(options).expect("options JSON");
        let (passkey, json) =
            crate::mfa::webauthn::soft::SoftPasskey::create_synced(&options, origin);
        (SoftPasskey(passkey), json)
    }

    /// Answers `navigator.credentials.get()` with `options` (JSON), the
    /// user verified.
    pub fn get(&mut self, options: &str, origin: &str) -> String {
        let options: serde_json::Value = serde_json::from_str(options).expect("options JSON");
        self.0.get(&options, origin)
    }

    /// [`get`](Self::get) without user verification.
    pub fn get_unverified(&mut self, options: &str, origin: &str) -> String {
        let options: serde_json::Value = serde_json::from_str(options).expect("options JSON");
        self.0.get_unverified(&options, origin)
    }

    /// Sets the next sign counter back by `by`, as a clone of an older
    /// copy of this authenticator would send it.
    pub fn rewind(&mut self, by: u32) {
        self.0.counter = self.0.counter.saturating_sub(by);
    }

    /// Makes its answers name user `user_id` in their user handle (a
    /// forged handle: the key still signs).
    pub fn claim_user(&mut self, user_id: i64) {
        self.0.user_handle = crate::mfa::user_handle(user_id);
    }

    /// Gives it a credential id nobody registered (the key still signs).
    pub fn forget_registration(&mut self) {
        self.0.id = (0..16).map(|_| rand::random::<u8>()).collect();
    }
}
