#[auth::permission_required([])]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
