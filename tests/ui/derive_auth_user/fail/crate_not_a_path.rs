#[derive(Clone, Debug, auth::AuthUser)]
#[auth(crate = "my auth")]
pub struct User {
    #[auth(base)]
    pub base: auth::AbstractUser,
}

fn main() {}
