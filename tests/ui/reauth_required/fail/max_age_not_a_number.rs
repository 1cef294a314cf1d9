#[auth::reauth_required(max_age = "300")]
async fn delete_account() -> &'static str {
    "deleted"
}

fn main() {}
