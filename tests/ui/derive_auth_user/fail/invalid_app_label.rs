#[derive(Clone, Debug, auth::AuthUser)]
#[auth(app_label = "My Accounts")]
pub struct User {
    #[auth(base)]
    pub base: auth::AbstractUser,
}

fn main() {}
