#[auth::reauth_required(max_age = 60)]
fn delete_account() -> &'static str {
    "deleted"
}

fn main() {}
