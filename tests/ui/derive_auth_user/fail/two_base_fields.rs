#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
    #[auth(base)]
    other: auth::AbstractUser,
}

fn main() {}
