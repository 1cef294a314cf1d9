// The passkeys page in a build without the `passkeys` feature.
auth::auth_urls! {
    login: "/login/" => LoginView,
    passkeys: "/account/mfa/passkeys/" => PasskeysView,
}

fn main() {}
