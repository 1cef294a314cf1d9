auth::permissions! {
    #[auth(crate = "auth", crate = "auth")]
    pub mod perms;
    notes: view_note = "Can view a note";
}

fn main() {}
