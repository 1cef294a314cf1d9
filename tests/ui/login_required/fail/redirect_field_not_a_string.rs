#[auth::login_required(redirect_field_name = next)]
async fn profile() -> &'static str {
    "profile"
}

fn main() {}
