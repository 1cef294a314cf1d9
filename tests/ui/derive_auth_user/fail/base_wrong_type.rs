#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base)]
    base: String,
}

fn main() {}
