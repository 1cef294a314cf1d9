#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base, unique)]
    base: auth::AbstractUser,
}

fn main() {}
