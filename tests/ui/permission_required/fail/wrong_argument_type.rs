const VIEW_REPORT: i32 = 1;

#[auth::permission_required(VIEW_REPORT)]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
