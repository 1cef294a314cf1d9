#[derive(Clone, Debug, auth::AuthUser)]
#[auth(table = "a_user")]
#[auth(table = "b_user")]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
}

fn main() {}
