#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    base: auth::AbstractUser,
    bio: String,
}

fn main() {}
