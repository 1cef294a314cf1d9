#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
    #[auth(max_length = 10)]
    age: i32,
}

fn main() {}
