#[auth::permission_required(42)]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
