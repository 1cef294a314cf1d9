#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
    #[auth(unique, unique)]
    nickname: String,
}

fn main() {}
