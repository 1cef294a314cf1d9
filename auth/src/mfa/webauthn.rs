//! WebAuthn (passkeys) for the relying party's side, as far as this
//! library needs it: ES256 credentials (ECDSA on P-256, what every
//! platform authenticator and security key offers), attestation `none`
//! (attestation statements are not verified: which make of authenticator
//! holds a passkey is neither asked nor checked), registration and assertion
//! verified as the Level 2 recommendation's steps say: the client data's
//! type, challenge and origin, the relying party id's hash, the user
//! presence (and, for a login without password, user verification) flags,
//! the signature, and the sign counter (a counter that goes back means a
//! cloned authenticator: refused).
//!
//! Built on `p256` (RustCrypto) and `ciborium` (CBOR): `webauthn-rs` links
//! OpenSSL, which this library otherwise does without.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use ciborium::Value;
use p256::ecdsa::{Signature, VerifyingKey, signature::Verifier};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::kernel::crypto::constant_time_eq;

/// COSE algorithm ES256.
const ES256: i64 = -7;
/// Authenticator data flags.
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED_DATA: u8 = 0x40;

/// The relying party: this site, as browsers check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RelyingParty {
    /// The host (`example.com`): credentials are scoped to it.
    pub(crate) id: String,
    /// `https://example.com[:port]`: the origin pages run in.
    pub(crate) origin: String,
}

impl RelyingParty {
    /// Whether browsers offer passkeys to pages of this site: on https, or
    /// on `http://localhost` (a secure context), and never on an IP
    /// address (not a valid relying party id).
    pub(crate) fn browsers_allow(&self) -> bool {
        let ip = self.id.parse::<std::net::IpAddr>().is_ok() || self.id.starts_with('[');
        !ip && (self.origin.starts_with("https://") || self.id == "localhost")
    }

    /// The relying party of the site at `site_url` (`AUTH_SITE_URL`).
    pub(crate) fn from_site_url(site_url: &str) -> Result<Self, String> {
        let url = url::Url::parse(site_url).map_err(|err| format!("{site_url}: {err}"))?;
        let host = url
            .host_str()
            .ok_or_else(|| format!("{site_url}: no host"))?
            .to_owned();
        if !matches!(url.scheme(), "https" | "http") {
            return Err(format!("{site_url}: expected an https:// (or http://) URL"));
        }
        Ok(RelyingParty {
            id: host,
            origin: url.origin().ascii_serialization(),
        })
    }
}

/// Why a credential was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WebauthnError {
    /// Not the JSON, base64url or CBOR a browser sends.
    #[error("malformed credential: {0}")]
    Malformed(&'static str),
    /// The client data is for another ceremony, challenge or origin.
    #[error("the credential answers another request ({0})")]
    WrongRequest(&'static str),
    /// The authenticator data is for another site.
    #[error("the credential is for another site")]
    WrongSite,
    /// The user was not present, or not verified when that was asked.
    #[error("the authenticator did not check the user ({0})")]
    UserNotChecked(&'static str),
    /// Not an ES256 key.
    #[error("unsupported key type (only ES256 passkeys are accepted)")]
    UnsupportedKey,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// The sign counter did not go up: a cloned authenticator.
    #[error("the sign counter went from {stored} to {got}: a cloned authenticator")]
    CounterRegressed {
        /// The counter stored from the last use.
        stored: u32,
        /// The counter the authenticator sent.
        got: u32,
    },
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>, WebauthnError> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| WebauthnError::Malformed("not base64url"))
}

/// The `publicKey` options of `navigator.credentials.create()` (values
/// that are bytes in base64url, for the page's script to decode).
pub(crate) fn creation_options(
    rp: &RelyingParty,
    site_name: &str,
    user_handle: &[u8],
    username: &str,
    challenge: &[u8],
    exclude: &[Vec<u8>],
) -> serde_json::Value {
    serde_json::json!({
        "rp": { "id": rp.id, "name": site_name },
        "user": { "id": b64(user_handle), "name": username, "displayName": username },
        "challenge": b64(challenge),
        "pubKeyCredParams": [{ "type": "public-key", "alg": ES256 }],
        "timeout": 300_000,
        "excludeCredentials": exclude
            .iter()
            .map(|id| serde_json::json!({ "type": "public-key", "id": b64(id) }))
            .collect::<Vec<_>>(),
        "authenticatorSelection": { "residentKey": "preferred", "userVerification": "preferred" },
        "attestation": "none",
    })
}

/// The `publicKey` options of `navigator.credentials.get()`: `allow`
/// empty lets the user pick any passkey of this site (a login without
/// password).
pub(crate) fn request_options(
    rp: &RelyingParty,
    challenge: &[u8],
    allow: &[Vec<u8>],
    user_verification: &str,
) -> serde_json::Value {
    serde_json::json!({
        "rpId": rp.id,
        "challenge": b64(challenge),
        "timeout": 300_000,
        "allowCredentials": allow
            .iter()
            .map(|id| serde_json::json!({ "type": "public-key", "id": b64(id) }))
            .collect::<Vec<_>>(),
        "userVerification": user_verification,
    })
}

/// A new challenge (32 random bytes).
pub(crate) fn challenge() -> Vec<u8> {
    use rand::Rng;
    let mut bytes = vec![0u8; 32];
    rand::rng().fill(&mut bytes[..]);
    bytes
}

/// A registered credential, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Credential {
    /// The credential id.
    pub(crate) id: Vec<u8>,
    /// The public key, SEC1 uncompressed (65 bytes).
    pub(crate) public_key: Vec<u8>,
    /// The sign counter at the last use.
    pub(crate) sign_count: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttestationJson {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    attestation_object: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssertionJson {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    authenticator_data: String,
    signature: String,
    #[serde(default)]
    user_handle: Option<String>,
}

#[derive(Deserialize)]
struct CredentialJson<R> {
    id: String,
    response: R,
}

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
}

/// Checks the client data of a `kind` ceremony against the challenge and
/// the origin.
fn check_client_data(
    rp: &RelyingParty,
    raw: &[u8],
    kind: &str,
    challenge: &[u8],
) -> Result<(), WebauthnError> {
    let data: ClientData =
        serde_json::from_slice(raw).map_err(|_| WebauthnError::Malformed("client data"))?;
    if data.kind != kind {
        return Err(WebauthnError::WrongRequest("ceremony"));
    }
    let sent = unb64(&data.challenge)?;
    if !constant_time_eq(&sent, challenge) {
        return Err(WebauthnError::WrongRequest("challenge"));
    }
    if data.origin != rp.origin {
        return Err(WebauthnError::WrongRequest("origin"));
    }
    Ok(())
}

/// The fixed part of authenticator data: the relying party id's hash
/// checked, the flags and the counter returned, and what follows.
fn parse_auth_data<'a>(
    rp: &RelyingParty,
    data: &'a [u8],
) -> Result<(u8, u32, &'a [u8]), WebauthnError> {
    if data.len() < 37 {
        return Err(WebauthnError::Malformed("authenticator data too short"));
    }
    let expected = Sha256::digest(rp.id.as_bytes());
    if data[..32] != expected[..] {
        return Err(WebauthnError::WrongSite);
    }
    let flags = data[32];
    let count = u32::from_be_bytes([data[33], data[34], data[35], data[36]]);
    Ok((flags, count, &data[37..]))
}

/// Checks the user presence flag, and user verification when `verify`.
fn check_flags(flags: u8, verify: bool) -> Result<(), WebauthnError> {
    if flags & USER_PRESENT == 0 {
        return Err(WebauthnError::UserNotChecked("presence"));
    }
    if verify && flags & USER_VERIFIED == 0 {
        return Err(WebauthnError::UserNotChecked("verification"));
    }
    Ok(())
}

/// The value at integer key `key` of a CBOR map.
fn map_get(map: &[(Value, Value)], key: i64) -> Option<&Value> {
    map.iter()
        .find(|(k, _)| k.as_integer().and_then(|i| i64::try_from(i).ok()) == Some(key))
        .map(|(_, v)| v)
}

/// The SEC1 bytes of a COSE EC2 P-256 ES256 key.
fn cose_to_sec1(key: &Value) -> Result<Vec<u8>, WebauthnError> {
    let map = key
        .as_map()
        .ok_or(WebauthnError::Malformed("the public key is not a map"))?;
    let int = |k| {
        map_get(map, k)
            .and_then(Value::as_integer)
            .and_then(|i| i64::try_from(i).ok())
    };
    // kty 2 (EC2), alg -7 (ES256), crv 1 (P-256).
    if int(1) != Some(2) || int(3) != Some(ES256) || int(-1) != Some(1) {
        return Err(WebauthnError::UnsupportedKey);
    }
    let coordinate = |k| {
        map_get(map, k)
            .and_then(Value::as_bytes)
            .filter(|b| b.len() == 32)
            .ok_or(WebauthnError::Malformed("a key coordinate"))
    };
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(0x04);
    sec1.extend_from_slice(coordinate(-2)?);
    sec1.extend_from_slice(coordinate(-3)?);
    VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| WebauthnError::UnsupportedKey)?;
    Ok(sec1)
}

/// Verifies a registration (the JSON the page posts after
/// `navigator.credentials.create()`) against the challenge it was given;
/// the new credential.
pub(crate) fn verify_registration(
    rp: &RelyingParty,
    challenge: &[u8],
    json: &str,
) -> Result<Credential, WebauthnError> {
    let posted: CredentialJson<AttestationJson> =
        serde_json::from_str(json).map_err(|_| WebauthnError::Malformed("JSON"))?;
    let client_data = unb64(&posted.response.client_data_json)?;
    check_client_data(rp, &client_data, "webauthn.create", challenge)?;
    let object = unb64(&posted.response.attestation_object)?;
    let object: Value = ciborium::de::from_reader(&object[..])
        .map_err(|_| WebauthnError::Malformed("attestation object"))?;
    let auth_data = object
        .as_map()
        .and_then(|map| {
            map.iter()
                .find(|(k, _)| k.as_text() == Some("authData"))
                .and_then(|(_, v)| v.as_bytes())
        })
        .ok_or(WebauthnError::Malformed("no authData"))?;
    let (flags, count, rest) = parse_auth_data(rp, auth_data)?;
    check_flags(flags, false)?;
    if flags & ATTESTED_DATA == 0 || rest.len() < 18 {
        return Err(WebauthnError::Malformed("no attested credential"));
    }
    let id_len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
    let after_id = 18 + id_len;
    if rest.len() < after_id || id_len == 0 || id_len > 1023 {
        return Err(WebauthnError::Malformed("credential id"));
    }
    let id = rest[18..after_id].to_vec();
    let mut key_bytes = &rest[after_id..];
    let key: Value = ciborium::de::from_reader(&mut key_bytes)
        .map_err(|_| WebauthnError::Malformed("public key"))?;
    if unb64(&posted.id)? != id {
        return Err(WebauthnError::Malformed("the id is not the attested one"));
    }
    Ok(Credential {
        id,
        public_key: cose_to_sec1(&key)?,
        sign_count: count,
    })
}

/// An assertion as posted, before it is checked: which credential, and
/// (for a login without password) whose.
pub(crate) struct Assertion {
    /// The credential id.
    pub(crate) id: Vec<u8>,
    /// The user handle the authenticator returned, if any.
    pub(crate) user_handle: Option<Vec<u8>>,
    client_data: Vec<u8>,
    auth_data: Vec<u8>,
    signature: Vec<u8>,
}

/// Reads the JSON the page posts after `navigator.credentials.get()`.
pub(crate) fn parse_assertion(json: &str) -> Result<Assertion, WebauthnError> {
    let posted: CredentialJson<AssertionJson> =
        serde_json::from_str(json).map_err(|_| WebauthnError::Malformed("JSON"))?;
    let response = posted.response;
    Ok(Assertion {
        id: unb64(&posted.id)?,
        user_handle: match response.user_handle.as_deref() {
            Some(handle) if !handle.is_empty() => Some(unb64(handle)?),
            _ => None,
        },
        client_data: unb64(&response.client_data_json)?,
        auth_data: unb64(&response.authenticator_data)?,
        signature: unb64(&response.signature)?,
    })
}

/// Verifies `assertion` by `credential` against the challenge; with
/// `verify`, the authenticator must have verified the user (PIN,
/// biometrics). The new sign counter to store.
pub(crate) fn verify_assertion(
    rp: &RelyingParty,
    challenge: &[u8],
    assertion: &Assertion,
    credential: &Credential,
    verify: bool,
) -> Result<u32, WebauthnError> {
    if assertion.id != credential.id {
        return Err(WebauthnError::WrongRequest("credential"));
    }
    check_client_data(rp, &assertion.client_data, "webauthn.get", challenge)?;
    let (flags, count, _) = parse_auth_data(rp, &assertion.auth_data)?;
    check_flags(flags, verify)?;
    let key = VerifyingKey::from_sec1_bytes(&credential.public_key)
        .map_err(|_| WebauthnError::UnsupportedKey)?;
    // Authenticators sign with either `s` (the specification does not ask
    // for low-S, and about half of real signatures are high-S): the
    // signature is checked in its low-S form, so exactly one form of it
    // is ever verified, whatever the ECDSA crate's own policy.
    let signature = Signature::from_der(&assertion.signature)
        .map_err(|_| WebauthnError::BadSignature)?
        .normalize_s();
    let mut signed = assertion.auth_data.clone();
    signed.extend_from_slice(&Sha256::digest(&assertion.client_data));
    key.verify(&signed, &signature)
        .map_err(|_| WebauthnError::BadSignature)?;
    // Authenticators that keep no counter send 0 every time.
    if (count != 0 || credential.sign_count != 0) && count <= credential.sign_count {
        return Err(WebauthnError::CounterRegressed {
            stored: credential.sign_count,
            got: count,
        });
    }
    Ok(count)
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod vectors;

/// A software authenticator for tests: ES256 credentials that sign as a
/// platform authenticator does.
#[cfg(any(test, feature = "test-util"))]
pub(crate) mod soft {
    use super::*;
    use p256::ecdsa::{SigningKey, signature::Signer};

    /// One credential of the software authenticator.
    pub(crate) struct SoftPasskey {
        /// The credential id.
        pub(crate) id: Vec<u8>,
        key: SigningKey,
        /// The next counter to send.
        pub(crate) counter: u32,
        /// The user handle it was made for.
        pub(crate) user_handle: Vec<u8>,
        /// A synced passkey's: the counter is always 0.
        pub(crate) synced: bool,
    }

    fn client_data(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "type": kind, "challenge": b64(challenge), "origin": origin, "crossOrigin": false,
        }))
        .unwrap()
    }

    fn auth_data(rp_id: &str, flags: u8, counter: u32) -> Vec<u8> {
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&counter.to_be_bytes());
        data
    }

    impl SoftPasskey {
        /// Answers `navigator.credentials.create()` with `options` (as
        /// [`creation_options`] makes them) for a page at `origin`: the
        /// passkey and the JSON the page would post.
        pub(crate) fn create(options: &serde_json::Value, origin: &str) -> (SoftPasskey, String) {
            Self::create_with(options, origin, false)
        }

        /// [`create`](Self::create) as a synced passkey, whose counter
        /// stays 0 (as platform passkeys that sync between devices send).
        #[cfg_attr(not(feature = "test-util"), allow(dead_code))]
        pub(crate) fn create_synced(
            options: &serde_json::Value,
            origin: &str,
        ) -> (SoftPasskey, String) {
            Self::create_with(options, origin, true)
        }

        fn create_with(
            options: &serde_json::Value,
            origin: &str,
            synced: bool,
        ) -> (SoftPasskey, String) {
            let challenge = unb64(options["challenge"].as_str().unwrap()).unwrap();
            let rp_id = options["rp"]["id"].as_str().unwrap();
            let user_handle = unb64(options["user"]["id"].as_str().unwrap()).unwrap();
            let mut secret = [0u8; 32];
            use rand::Rng;
            rand::rng().fill(&mut secret[..]);
            let key = SigningKey::from_slice(&secret).unwrap();
            let id: Vec<u8> = (0..16).map(|_| rand::random::<u8>()).collect();
            let point = key.verifying_key().to_sec1_point(false);
            let cose = Value::Map(vec![
                (Value::from(1), Value::from(2)),
                (Value::from(3), Value::from(ES256)),
                (Value::from(-1), Value::from(1)),
                (Value::from(-2), Value::Bytes(point.x().unwrap().to_vec())),
                (Value::from(-3), Value::Bytes(point.y().unwrap().to_vec())),
            ]);
            let flags = USER_PRESENT | USER_VERIFIED | ATTESTED_DATA;
            let mut data = auth_data(rp_id, flags, u32::from(!synced));
            data.extend_from_slice(&[0u8; 16]);
            data.extend_from_slice(&(id.len() as u16).to_be_bytes());
            data.extend_from_slice(&id);
            ciborium::ser::into_writer(&cose, &mut data).unwrap();
            let object = Value::Map(vec![
                (Value::from("fmt"), Value::from("none")),
                (Value::from("attStmt"), Value::Map(vec![])),
                (Value::from("authData"), Value::Bytes(data)),
            ]);
            let mut object_bytes = Vec::new();
            ciborium::ser::into_writer(&object, &mut object_bytes).unwrap();
            let json = serde_json::json!({
                "id": b64(&id), "rawId": b64(&id), "type": "public-key",
                "response": {
                    "clientDataJSON": b64(&client_data("webauthn.create", &challenge, origin)),
                    "attestationObject": b64(&object_bytes),
                },
            });
            let passkey = SoftPasskey {
                id,
                key,
                counter: if synced { 0 } else { 2 },
                user_handle,
                synced,
            };
            (passkey, json.to_string())
        }

        /// Answers `navigator.credentials.get()` with `options` for a page
        /// at `origin`, with the given flags (user present and verified by
        /// default) and the next counter.
        pub(crate) fn get(&mut self, options: &serde_json::Value, origin: &str) -> String {
            self.get_with(options, origin, USER_PRESENT | USER_VERIFIED)
        }

        /// [`get`](Self::get) as an authenticator that checked presence
        /// but not the user (no PIN, no biometrics).
        #[cfg_attr(not(feature = "test-util"), allow(dead_code))]
        pub(crate) fn get_unverified(
            &mut self,
            options: &serde_json::Value,
            origin: &str,
        ) -> String {
            self.get_with(options, origin, USER_PRESENT)
        }

        /// [`get`](Self::get) with `flags`.
        pub(crate) fn get_with(
            &mut self,
            options: &serde_json::Value,
            origin: &str,
            flags: u8,
        ) -> String {
            let challenge = unb64(options["challenge"].as_str().unwrap()).unwrap();
            let rp_id = options["rpId"].as_str().unwrap();
            let data = auth_data(rp_id, flags, self.counter);
            if !self.synced {
                self.counter += 1;
            }
            let client = client_data("webauthn.get", &challenge, origin);
            let mut signed = data.clone();
            signed.extend_from_slice(&Sha256::digest(&client));
            let signature: Signature = self.key.sign(&signed);
            serde_json::json!({
                "id": b64(&self.id), "rawId": b64(&self.id), "type": "public-key",
                "response": {
                    "clientDataJSON": b64(&client),
                    "authenticatorData": b64(&data),
                    "signature": b64(signature.to_der().as_bytes()),
                    "userHandle": b64(&self.user_handle),
                },
            })
            .to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{soft::SoftPasskey, *};

    fn rp() -> RelyingParty {
        RelyingParty::from_site_url("https://example.com").unwrap()
    }

    fn registered() -> (SoftPasskey, Credential) {
        let challenge = challenge();
        let options = creation_options(
            &rp(),
            "Example",
            b"\0\0\0\0\0\0\0\x07",
            "alice",
            &challenge,
            &[],
        );
        let (passkey, json) = SoftPasskey::create(&options, "https://example.com");
        let credential = verify_registration(&rp(), &challenge, &json).unwrap();
        assert_eq!(credential.id, passkey.id);
        (passkey, credential)
    }

    #[test]
    fn a_registration_and_an_assertion_through_a_software_authenticator() {
        let (mut passkey, mut credential) = registered();
        assert_eq!(credential.public_key.len(), 65);
        for _ in 0..3 {
            let challenge = challenge();
            let options = request_options(&rp(), &challenge, &[credential.id.clone()], "required");
            let json = passkey.get(&options, "https://example.com");
            let assertion = parse_assertion(&json).unwrap();
            assert_eq!(
                assertion.user_handle.as_deref(),
                Some(&b"\0\0\0\0\0\0\0\x07"[..])
            );
            let count = verify_assertion(&rp(), &challenge, &assertion, &credential, true).unwrap();
            assert!(count > credential.sign_count);
            credential.sign_count = count;
        }
    }

    #[test]
    fn a_counter_that_goes_back_is_a_cloned_authenticator() {
        let (mut passkey, mut credential) = registered();
        let challenge = challenge();
        let options = request_options(&rp(), &challenge, &[], "preferred");
        let first = passkey.get(&options, "https://example.com");
        let second = passkey.get(&options, "https://example.com");
        let count = verify_assertion(
            &rp(),
            &challenge,
            &parse_assertion(&second).unwrap(),
            &credential,
            false,
        )
        .unwrap();
        credential.sign_count = count;
        // The clone replays an older state of the counter.
        let refused = verify_assertion(
            &rp(),
            &challenge,
            &parse_assertion(&first).unwrap(),
            &credential,
            false,
        );
        assert_eq!(
            refused,
            Err(WebauthnError::CounterRegressed {
                stored: count,
                got: count - 1
            })
        );
    }

    #[test]
    fn wrong_challenge_origin_site_flags_and_signature_are_refused() {
        let (mut passkey, credential) = registered();
        let challenge = challenge();
        let options = request_options(&rp(), &challenge, &[], "required");
        let good = passkey.get(&options, "https://example.com");
        let check = |json: &str, rp: &RelyingParty, challenge: &[u8], verify: bool| {
            verify_assertion(
                rp,
                challenge,
                &parse_assertion(json).unwrap(),
                &credential,
                verify,
            )
        };
        assert!(check(&good, &rp(), &challenge, true).is_ok());
        assert_eq!(
            check(&good, &rp(), &super::challenge(), true),
            Err(WebauthnError::WrongRequest("challenge"))
        );
        let evil = passkey.get(&options, "https://evil.example");
        assert_eq!(
            check(&evil, &rp(), &challenge, true),
            Err(WebauthnError::WrongRequest("origin"))
        );
        let other_site = RelyingParty {
            id: "other.example".into(),
            origin: "https://example.com".into(),
        };
        assert_eq!(
            check(&good, &other_site, &challenge, true),
            Err(WebauthnError::WrongSite)
        );
        let absent = passkey.get_with(&options, "https://example.com", 0);
        assert_eq!(
            check(&absent, &rp(), &challenge, false),
            Err(WebauthnError::UserNotChecked("presence"))
        );
        let unverified = passkey.get_with(&options, "https://example.com", USER_PRESENT);
        assert_eq!(
            check(&unverified, &rp(), &challenge, true),
            Err(WebauthnError::UserNotChecked("verification"))
        );
        // Another key's signature.
        let (mut stranger, _) = registered();
        stranger.id = credential.id.clone();
        let forged = stranger.get(&options, "https://example.com");
        assert_eq!(
            check(&forged, &rp(), &challenge, true),
            Err(WebauthnError::BadSignature)
        );
        // A registration answer is not an assertion, and garbage is refused.
        for bad in ["", "{}", "not json", r#"{"id":"!!","response":{}}"#] {
            assert!(parse_assertion(bad).is_err(), "{bad}");
            assert!(
                verify_registration(&rp(), &challenge, bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_registration_for_another_challenge_or_origin_is_refused() {
        let challenge = challenge();
        let options = creation_options(&rp(), "Example", b"1", "alice", &challenge, &[]);
        let (_, json) = SoftPasskey::create(&options, "https://example.com");
        assert_eq!(
            verify_registration(&rp(), &super::challenge(), &json),
            Err(WebauthnError::WrongRequest("challenge"))
        );
        let (_, json) = SoftPasskey::create(&options, "http://example.com");
        assert_eq!(
            verify_registration(&rp(), &challenge, &json),
            Err(WebauthnError::WrongRequest("origin"))
        );
    }

    #[test]
    fn the_site_url_gives_the_relying_party() {
        let rp = RelyingParty::from_site_url("https://accounts.example.com:8443/x").unwrap();
        assert_eq!(rp.id, "accounts.example.com");
        assert_eq!(rp.origin, "https://accounts.example.com:8443");
        assert!(rp.browsers_allow());
        let local = RelyingParty::from_site_url("http://localhost:8000").unwrap();
        assert!(local.browsers_allow());
        for site in [
            "http://example.com",
            "http://127.0.0.1:8000",
            "https://127.0.0.1",
            "https://[::1]:8443",
        ] {
            let rp = RelyingParty::from_site_url(site).unwrap();
            assert!(!rp.browsers_allow(), "{site}");
        }
        assert!(RelyingParty::from_site_url("nonsense").is_err());
        assert!(RelyingParty::from_site_url("ftp://example.com").is_err());
    }
}
