fn login() -> &'static str {
    "/login/"
}

#[auth::login_required(login_url = login)]
async fn profile() -> &'static str {
    "profile"
}

fn main() {}
