#[auth::login_required(login_url = "")]
async fn profile() -> &'static str {
    "profile"
}

fn main() {}
