#[auth::permission_required("accounts.view_report", "accounts.publish_report")]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
