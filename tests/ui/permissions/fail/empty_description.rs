auth::permissions! {
    accounts: view_report = "  ";
}

fn main() {}
