auth::permissions! {
    accounts: view_report, publish_report = "Can publish reports";
}

fn main() {}
