"""Records a WebAuthn registration and two assertions made by
soft-webauthn's software authenticator (python-fido2's CBOR and COSE, the
`cryptography` package's ECDSA): an implementation independent of this
crate's, for the recorded vectors `webauthn/vectors.rs` checks.

    python3 -m venv venv && venv/bin/pip install soft-webauthn==0.1.4
    venv/bin/python record_soft_webauthn.py > soft_webauthn.json
"""

import base64
import json

from soft_webauthn import SoftWebauthnDevice

RP_ID = "example.com"
ORIGIN = "https://example.com"


def b64(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def public(credential):
    """The PublicKeyCredential as a browser's JSON serialisation."""
    response = {
        key: b64(value) if isinstance(value, bytes) else value
        for key, value in credential["response"].items()
    }
    return {
        "id": credential["id"].decode("ascii"),
        "rawId": b64(credential["rawId"]),
        "type": credential["type"],
        "response": response,
    }


device = SoftWebauthnDevice()
create_challenge = bytes(range(32))
created = device.create(
    {
        "publicKey": {
            "rp": {"id": RP_ID, "name": "Example"},
            "user": {"id": b"\x00\x00\x00\x00\x00\x00\x00\x07", "name": "alice", "displayName": "alice"},
            "challenge": create_challenge,
            "pubKeyCredParams": [{"alg": -7, "type": "public-key"}],
            "attestation": "none",
        }
    },
    ORIGIN,
)
assertions = []
for seed in (64, 96):
    challenge = bytes(range(seed, seed + 32))
    got = device.get({"publicKey": {"rpId": RP_ID, "challenge": challenge}}, ORIGIN)
    assertions.append({"challenge": b64(challenge), "credential": json.dumps(public(got))})

print(
    json.dumps(
        {
            "authenticator": "soft-webauthn 0.1.4 (python-fido2 1.2.0, cryptography)",
            "rp_id": RP_ID,
            "origin": ORIGIN,
            "registration": {"challenge": b64(create_challenge), "credential": json.dumps(public(created))},
            "assertions": assertions,
            "user_verified": False,
        },
        indent=2,
    )
)
