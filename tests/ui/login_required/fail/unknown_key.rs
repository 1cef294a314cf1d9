#[auth::login_required(login = "/login/")]
async fn profile() -> &'static str {
    "profile"
}

fn main() {}
