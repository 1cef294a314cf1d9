//! Property-based fuzzing of what a client posts for passkeys (attacker
//! input): arbitrary text and bytes, hostile CBOR headers, and valid
//! registrations and assertions with one part structurally mutated (the
//! client data's fields, the CBOR tree of the attestation object, the
//! authenticator data's bytes and lengths, the COSE key, the signature).
//!
//! The properties: nothing panics or aborts (a capacity overflow would);
//! and an answer is accepted only when every part its signature or
//! challenge covers is the original. A short run is part of the unit
//! tests; `AUTH_WEBAUTHN_FUZZ_CASES=1000000 cargo test -p contrib-auth
//! --release --lib webauthn::fuzz` runs a million cases per property.

use ciborium::Value;
use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};

use super::{soft::SoftPasskey, *};

fn rp() -> RelyingParty {
    RelyingParty::from_site_url("https://example.com").unwrap()
}

const CHALLENGE: [u8; 32] = [7; 32];

/// How many cases each property runs: `AUTH_WEBAUTHN_FUZZ_CASES`, else a
/// short run.
fn cases() -> u32 {
    std::env::var("AUTH_WEBAUTHN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500)
}

fn run<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new(config).run(&strategy, test).unwrap();
}

/// Any CBOR value, nested up to a few levels.
fn cbor() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..80).prop_map(Value::Bytes),
        ".{0,24}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(Value::Float),
        Just(Value::Null),
        // The integers a COSE key is made of.
        prop_oneof![
            Just(-7i64),
            Just(-3),
            Just(-2),
            Just(-1),
            Just(1),
            Just(2),
            Just(3)
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..6).prop_map(Value::Map),
            (any::<u64>(), inner).prop_map(|(tag, value)| Value::Tag(tag, Box::new(value))),
        ]
    })
}

fn encode(value: &Value) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(value, &mut bytes).unwrap();
    bytes
}

/// CBOR that lies about its own size or depth: lengths of up to 2^64-1
/// bytes or items, indefinite lengths that never end, deep nesting.
fn hostile_cbor() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        Just(vec![0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Just(vec![0x7b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Just(vec![0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        Just(vec![0xbb, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]),
        Just(vec![0x5f, 0x5a, 0xff, 0xff, 0xff, 0xff]),
        Just(vec![0x9f; 64]),
        (1usize..5000).prop_map(|depth| vec![0x81; depth]),
        (1usize..5000).prop_map(|depth| [0xa1, 0x01].repeat(depth)),
        (any::<u64>()).prop_map(|tag| {
            let mut bytes = vec![0xdb];
            bytes.extend_from_slice(&tag.to_be_bytes());
            bytes
        }),
    ];
    (header, proptest::collection::vec(any::<u8>(), 0..32)).prop_map(|(mut head, tail)| {
        head.extend(tail);
        head
    })
}

/// A JSON document shaped like a credential, with any values.
fn credential_like() -> impl Strategy<Value = String> {
    let text = prop_oneof![".{0,40}", "[A-Za-z0-9_-]{0,200}={0,2}"];
    (text.clone(), text.clone(), text.clone(), text.clone(), text).prop_map(
        |(id, client, object, data, signature)| {
            serde_json::json!({
                "id": id,
                "response": {
                    "clientDataJSON": client,
                    "attestationObject": object,
                    "authenticatorData": data,
                    "signature": signature,
                    "userHandle": "AAAAAAAAAAc",
                },
            })
            .to_string()
        },
    )
}

#[test]
fn arbitrary_text_is_refused_without_a_panic() {
    let anything = prop_oneof![".{0,300}", credential_like()];
    run(anything, |text| {
        let _ = parse_assertion(&text);
        prop_assert!(verify_registration(&rp(), &CHALLENGE, &text).is_err());
        Ok(())
    });
}

/// A registration whose attestation object is `object`, its client data
/// and id the valid one's.
fn registration_with(valid: &serde_json::Value, object: &[u8]) -> String {
    let mut posted = valid.clone();
    posted["response"]["attestationObject"] = b64(object).into();
    posted.to_string()
}

#[test]
fn cbor_of_any_shape_or_size_is_refused_without_a_panic() {
    let options = creation_options(&rp(), "Example", b"7", "alice", &CHALLENGE, &[]);
    let (_, json) = SoftPasskey::create(&options, "https://example.com");
    let valid: serde_json::Value = serde_json::from_str(&json).unwrap();
    let object = prop_oneof![
        cbor().prop_map(|value| encode(&value)),
        hostile_cbor(),
        proptest::collection::vec(any::<u8>(), 0..200),
    ];
    run(object, |object| {
        let posted = registration_with(&valid, &object);
        prop_assert!(verify_registration(&rp(), &CHALLENGE, &posted).is_err());
        Ok(())
    });
}

/// One structural change to a valid registration.
#[derive(Clone, Debug)]
enum RegistrationMutation {
    /// A node of the attestation object's CBOR tree replaced.
    ObjectNode(usize, Value),
    /// A byte of the authenticator data changed.
    AuthDataByte(usize, u8),
    /// The authenticator data cut to this length.
    AuthDataCut(usize),
    /// The credential id's length field set to this.
    IdLength(u16),
    /// The COSE key replaced.
    Key(Value),
    /// A client data field set to this value.
    ClientField(&'static str, String),
}

fn registration_mutation() -> impl Strategy<Value = RegistrationMutation> {
    prop_oneof![
        (0usize..16, cbor()).prop_map(|(i, v)| RegistrationMutation::ObjectNode(i, v)),
        (0usize..256, any::<u8>()).prop_map(|(i, b)| RegistrationMutation::AuthDataByte(i, b)),
        (0usize..256).prop_map(RegistrationMutation::AuthDataCut),
        any::<u16>().prop_map(RegistrationMutation::IdLength),
        cbor().prop_map(RegistrationMutation::Key),
        (
            prop_oneof![Just("type"), Just("challenge"), Just("origin")],
            ".{0,60}"
        )
            .prop_map(|(field, value)| RegistrationMutation::ClientField(field, value)),
    ]
}

/// Replaces the `index`-th node (depth first) of `tree` with `value`.
fn replace_node(tree: &mut Value, index: &mut usize, value: &Value) -> bool {
    if *index == 0 {
        *tree = value.clone();
        return true;
    }
    *index -= 1;
    match tree {
        Value::Array(items) => items
            .iter_mut()
            .any(|item| replace_node(item, index, value)),
        Value::Map(entries) => entries
            .iter_mut()
            .any(|(_, v)| replace_node(v, index, value)),
        Value::Tag(_, inner) => replace_node(inner, index, value),
        _ => false,
    }
}

#[test]
fn a_mutated_registration_is_accepted_only_unchanged() {
    let options = creation_options(&rp(), "Example", b"7", "alice", &CHALLENGE, &[]);
    let (_, json) = SoftPasskey::create(&options, "https://example.com");
    let original = verify_registration(&rp(), &CHALLENGE, &json).unwrap();
    let valid: serde_json::Value = serde_json::from_str(&json).unwrap();
    let object_bytes = unb64(valid["response"]["attestationObject"].as_str().unwrap()).unwrap();
    let object: Value = ciborium::de::from_reader(&object_bytes[..]).unwrap();
    let auth_data = object
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_text() == Some("authData"))
        .and_then(|(_, v)| v.as_bytes())
        .unwrap()
        .clone();
    let client: serde_json::Value = serde_json::from_slice(
        &unb64(valid["response"]["clientDataJSON"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let with_auth_data = |data: Vec<u8>| {
        let mut object = object.clone();
        if let Value::Map(entries) = &mut object {
            for (k, v) in entries.iter_mut() {
                if k.as_text() == Some("authData") {
                    *v = Value::Bytes(data.clone());
                }
            }
        }
        registration_with(&valid, &encode(&object))
    };
    // Where the COSE key starts: rp id hash, flags, counter, AAGUID, the
    // id's length and the id.
    let key_at = 37 + 16 + 2 + original.id.len();
    run(registration_mutation(), |mutation| {
        let posted = match &mutation {
            RegistrationMutation::ObjectNode(index, value) => {
                let mut tree = object.clone();
                replace_node(&mut tree, &mut index.clone(), value);
                registration_with(&valid, &encode(&tree))
            }
            RegistrationMutation::AuthDataByte(index, byte) => {
                let mut data = auth_data.clone();
                let at = index % data.len();
                data[at] = *byte;
                with_auth_data(data)
            }
            RegistrationMutation::AuthDataCut(length) => {
                with_auth_data(auth_data[..(*length).min(auth_data.len())].to_vec())
            }
            RegistrationMutation::IdLength(length) => {
                let mut data = auth_data.clone();
                data[53..55].copy_from_slice(&length.to_be_bytes());
                with_auth_data(data)
            }
            RegistrationMutation::Key(key) => {
                let mut data = auth_data[..key_at].to_vec();
                data.extend(encode(key));
                with_auth_data(data)
            }
            RegistrationMutation::ClientField(field, value) => {
                let mut client = client.clone();
                client[*field] = value.clone().into();
                let mut posted = valid.clone();
                posted["response"]["clientDataJSON"] =
                    b64(&serde_json::to_vec(&client).unwrap()).into();
                posted.to_string()
            }
        };
        if let Ok(credential) = verify_registration(&rp(), &CHALLENGE, &posted) {
            // Only changes that leave what is checked as it was: the same
            // key and id, for this site, from its origin.
            prop_assert_eq!(
                &credential.public_key,
                &original.public_key,
                "{:?}",
                mutation
            );
            prop_assert_eq!(&credential.id, &original.id, "{:?}", mutation);
        }
        Ok(())
    });
}

/// One change to a valid assertion.
#[derive(Clone, Debug)]
enum AssertionMutation {
    AuthDataByte(usize, u8),
    AuthDataCut(usize),
    AuthDataExtra(Vec<u8>),
    SignatureByte(usize, u8),
    Signature(Vec<u8>),
    ClientField(&'static str, String),
    ClientBytes(Vec<u8>),
    Id(Vec<u8>),
}

fn assertion_mutation() -> impl Strategy<Value = AssertionMutation> {
    prop_oneof![
        (0usize..64, any::<u8>()).prop_map(|(i, b)| AssertionMutation::AuthDataByte(i, b)),
        (0usize..64).prop_map(AssertionMutation::AuthDataCut),
        proptest::collection::vec(any::<u8>(), 1..40).prop_map(AssertionMutation::AuthDataExtra),
        (0usize..80, any::<u8>()).prop_map(|(i, b)| AssertionMutation::SignatureByte(i, b)),
        proptest::collection::vec(any::<u8>(), 0..100).prop_map(AssertionMutation::Signature),
        (
            prop_oneof![Just("type"), Just("challenge"), Just("origin")],
            ".{0,60}"
        )
            .prop_map(|(field, value)| AssertionMutation::ClientField(field, value)),
        proptest::collection::vec(any::<u8>(), 0..120).prop_map(AssertionMutation::ClientBytes),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(AssertionMutation::Id),
    ]
}

#[test]
fn a_mutated_assertion_is_accepted_only_with_what_was_signed() {
    let options = creation_options(&rp(), "Example", b"7", "alice", &CHALLENGE, &[]);
    let (mut passkey, json) = SoftPasskey::create(&options, "https://example.com");
    let credential = verify_registration(&rp(), &CHALLENGE, &json).unwrap();
    let options = request_options(&rp(), &CHALLENGE, &[], "required");
    let answer = passkey.get(&options, "https://example.com");
    let original = parse_assertion(&answer).unwrap();
    let client: serde_json::Value = serde_json::from_slice(&original.client_data).unwrap();
    run(assertion_mutation(), |mutation| {
        let mut changed = Assertion {
            id: original.id.clone(),
            user_handle: original.user_handle.clone(),
            client_data: original.client_data.clone(),
            auth_data: original.auth_data.clone(),
            signature: original.signature.clone(),
        };
        match &mutation {
            AssertionMutation::AuthDataByte(index, byte) => {
                let at = index % changed.auth_data.len();
                changed.auth_data[at] = *byte;
            }
            AssertionMutation::AuthDataCut(length) => {
                changed.auth_data.truncate(*length);
            }
            AssertionMutation::AuthDataExtra(extra) => changed.auth_data.extend(extra),
            AssertionMutation::SignatureByte(index, byte) => {
                let at = index % changed.signature.len();
                changed.signature[at] = *byte;
            }
            AssertionMutation::Signature(bytes) => changed.signature = bytes.clone(),
            AssertionMutation::ClientField(field, value) => {
                let mut client = client.clone();
                client[*field] = value.clone().into();
                changed.client_data = serde_json::to_vec(&client).unwrap();
            }
            AssertionMutation::ClientBytes(bytes) => changed.client_data = bytes.clone(),
            AssertionMutation::Id(id) => changed.id = id.clone(),
        }
        if verify_assertion(&rp(), &CHALLENGE, &changed, &credential, true).is_ok() {
            prop_assert_eq!(&changed.auth_data, &original.auth_data, "{:?}", mutation);
            prop_assert_eq!(
                &changed.client_data,
                &original.client_data,
                "{:?}",
                mutation
            );
            prop_assert_eq!(&changed.id, &original.id, "{:?}", mutation);
        }
        // The same, posted as a browser would post it.
        let posted = serde_json::json!({
            "id": b64(&changed.id),
            "response": {
                "clientDataJSON": b64(&changed.client_data),
                "authenticatorData": b64(&changed.auth_data),
                "signature": b64(&changed.signature),
            },
        })
        .to_string();
        prop_assert!(parse_assertion(&posted).is_ok());
        Ok(())
    });
}
