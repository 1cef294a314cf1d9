#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
    #[auth(nullable)]
    bio: String,
}

fn main() {}
