// A two-factor view in a build without the `mfa` feature: the error names
// the feature to turn on.
auth::auth_urls! {
    login: "/login/" => LoginView,
    mfa_authenticate: "/login/verify/" => MfaAuthenticateView,
}

fn main() {}
