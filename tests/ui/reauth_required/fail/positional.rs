#[auth::reauth_required(300)]
async fn delete_account() -> &'static str {
    "deleted"
}

fn main() {}
