#[auth::reauth_required(login_url = "/login/")]
async fn delete_account() -> &'static str {
    "deleted"
}

fn main() {}
