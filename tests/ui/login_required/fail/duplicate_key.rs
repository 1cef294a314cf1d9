#[auth::login_required(login_url = "/a/", login_url = "/b/")]
async fn profile() -> &'static str {
    "profile"
}

fn main() {}
