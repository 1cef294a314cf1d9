#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
    #[auth(default = "yes")]
    newsletter: bool,
}

fn main() {}
