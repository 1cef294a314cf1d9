#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
    email: String,
}

fn main() {}
