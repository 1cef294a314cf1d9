#[derive(Clone, Debug, auth::AuthUser)]
#[auth(table = "accounts user; drop")]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
}

fn main() {}
