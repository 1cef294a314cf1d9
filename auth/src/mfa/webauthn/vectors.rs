//! Registrations and assertions recorded from two authenticators written
//! independently of this crate, checked as they were recorded: Chromium's
//! virtual CTAP2 authenticator (user verified; recorded by the example's
//! browser suite, `record_chromium_webauthn_vectors`), and soft-webauthn
//! (python-fido2's CBOR and COSE with the `cryptography` package's ECDSA,
//! user present only; `record_soft_webauthn.py`), whose second signature
//! is high-S.

use p256::ecdsa::Signature;
use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
struct Ceremony {
    challenge: String,
    credential: String,
}

#[derive(Deserialize)]
struct Recorded {
    rp_id: String,
    origin: String,
    registration: Ceremony,
    assertions: Vec<Ceremony>,
    user_verified: bool,
}

const CHROMIUM: &str = include_str!("../../../testdata/webauthn/chromium.json");
const SOFT_WEBAUTHN: &str = include_str!("../../../testdata/webauthn/soft_webauthn.json");

/// Registers the recorded credential and checks each recorded assertion
/// in turn; the credential, and the assertions as parsed.
fn replay(text: &str) -> (RelyingParty, Credential, Vec<(Vec<u8>, Assertion)>) {
    let recorded: Recorded = serde_json::from_str(text).unwrap();
    let rp = RelyingParty {
        id: recorded.rp_id,
        origin: recorded.origin,
    };
    let challenge = unb64(&recorded.registration.challenge).unwrap();
    let mut credential =
        verify_registration(&rp, &challenge, &recorded.registration.credential).unwrap();
    let mut assertions = Vec::new();
    for ceremony in recorded.assertions {
        let challenge = unb64(&ceremony.challenge).unwrap();
        let assertion = parse_assertion(&ceremony.credential).unwrap();
        let count = verify_assertion(
            &rp,
            &challenge,
            &assertion,
            &credential,
            recorded.user_verified,
        )
        .unwrap();
        credential.sign_count = count;
        assertions.push((challenge, assertion));
    }
    (rp, credential, assertions)
}

#[test]
fn chromiums_virtual_authenticator_registers_and_asserts() {
    let (rp, credential, assertions) = replay(CHROMIUM);
    assert_eq!(credential.public_key.len(), 65);
    assert_eq!(assertions.len(), 2);
    for (_, assertion) in &assertions {
        assert_eq!(
            assertion.user_handle.as_deref(),
            Some(&[0, 0, 0, 0, 0, 0, 0, 7][..])
        );
    }
    // Replayed against the counter it left, or another challenge: refused.
    let (challenge, first) = &assertions[0];
    assert!(verify_assertion(&rp, challenge, first, &credential, true).is_err());
    let other = [9u8; 32];
    let fresh = Credential {
        sign_count: 0,
        ..credential.clone()
    };
    assert_eq!(
        verify_assertion(&rp, &other, first, &fresh, true),
        Err(WebauthnError::WrongRequest("challenge"))
    );
}

#[test]
fn soft_webauthns_authenticator_registers_and_asserts_high_s_included() {
    let (rp, credential, assertions) = replay(SOFT_WEBAUTHN);
    let high = assertions
        .iter()
        .filter(|(_, assertion)| {
            let signature = Signature::from_der(&assertion.signature).unwrap();
            signature.normalize_s() != signature
        })
        .count();
    assert!(high >= 1, "the recording holds a high-S signature");
    // Presence only: it does not pass where user verification is needed.
    let (challenge, last) = assertions.last().unwrap();
    let fresh = Credential {
        sign_count: 0,
        ..credential
    };
    assert_eq!(
        verify_assertion(&rp, challenge, last, &fresh, true),
        Err(WebauthnError::UserNotChecked("verification"))
    );
}

/// Both forms of one signature (`s` and `n - s`) are the same signature:
/// each verifies, through its low-S form.
#[test]
fn a_signature_verifies_in_either_form_of_s() {
    let (rp, credential, assertions) = replay(CHROMIUM);
    let (challenge, assertion) = &assertions[1];
    let signature = Signature::from_der(&assertion.signature).unwrap();
    let (r, s) = signature.split_scalars();
    let flipped = Signature::from_scalars(r, -*s).unwrap();
    assert_ne!(flipped, signature);
    assert_eq!(flipped.normalize_s(), signature.normalize_s());
    let fresh = Credential {
        sign_count: 0,
        ..credential
    };
    for form in [signature, flipped] {
        let twin = Assertion {
            signature: form.to_der().as_bytes().to_vec(),
            id: assertion.id.clone(),
            user_handle: assertion.user_handle.clone(),
            client_data: assertion.client_data.clone(),
            auth_data: assertion.auth_data.clone(),
        };
        assert!(verify_assertion(&rp, challenge, &twin, &fresh, true).is_ok());
    }
}
