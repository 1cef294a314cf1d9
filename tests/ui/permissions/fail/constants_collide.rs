auth::permissions! {
    accounts: view_report = "Can view reports", VIEW_REPORT = "Can view reports, loudly";
}

fn main() {}
