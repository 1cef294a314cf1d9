auth::permissions! {
    accounts: view_report = "Can view reports";
}

#[auth::permission_required(perms::accounts::VIEW_REPORTS)]
async fn reports() -> &'static str {
    "reports"
}

fn main() {}
