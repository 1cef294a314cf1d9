auth::permissions! {
    accounts: view_report = "Can view reports", view_report = "Can view reports again";
}

fn main() {}
