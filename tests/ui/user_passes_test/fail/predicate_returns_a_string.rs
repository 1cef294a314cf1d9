#[derive(Clone, Debug, auth::AuthUser)]
pub struct User {
    #[auth(base)]
    pub base: auth::AbstractUser,
}

fn is_staff(user: &User) -> String {
    user.username.clone()
}

#[auth::user_passes_test(is_staff)]
async fn staff() -> &'static str {
    "staff"
}

fn main() {}
