#[derive(Clone, Debug, auth::AuthUser)]
enum User {
    Admin,
    Member,
}

fn main() {}
