#[auth::permission_required("accounts.view_report", raise_exception = "yes")]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
