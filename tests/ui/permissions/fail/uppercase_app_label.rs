auth::permissions! {
    Accounts: view_report = "Can view reports";
}

fn main() {}
