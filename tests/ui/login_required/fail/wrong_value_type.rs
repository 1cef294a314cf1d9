#[auth::login_required(login_url = 5)]
async fn profile() -> &'static str {
    "profile"
}

fn main() {}
