#[auth::login_required(crate = authn)]
async fn profile() -> &'static str {
    "profile"
}

fn main() {}
