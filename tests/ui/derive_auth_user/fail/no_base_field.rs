#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    bio: String,
}

fn main() {}
