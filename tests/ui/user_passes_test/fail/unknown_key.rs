#[derive(Clone, Debug, auth::AuthUser)]
pub struct User {
    #[auth(base)]
    pub base: auth::AbstractUser,
}

fn is_staff(user: &User) -> bool {
    user.is_staff
}

#[auth::user_passes_test(is_staff, raise_exception = true)]
async fn staff() -> &'static str {
    "staff"
}

fn main() {}
