#[auth::login_required(login_url = "/login/")]
fn profile() -> &'static str {
    "profile"
}

fn main() {}
