mod urls {
    pub const LOGIN: String = String::new();
}

#[auth::login_required(login_url = urls::LOGIN)]
async fn profile() -> &'static str {
    "profile"
}

fn main() {}
