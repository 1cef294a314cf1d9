#[auth::permission_required("accounts.view_report")]
fn reports() -> &'static str {
    "reports"
}

fn main() {}
