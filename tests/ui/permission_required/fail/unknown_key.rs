#[auth::permission_required("accounts.view_report", raise = true)]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
