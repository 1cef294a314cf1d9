#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
    nickname: String,
    #[auth(column = "nickname")]
    alias: String,
}

fn main() {}
