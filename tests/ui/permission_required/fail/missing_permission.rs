#[auth::permission_required(login_url = "/login/")]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
