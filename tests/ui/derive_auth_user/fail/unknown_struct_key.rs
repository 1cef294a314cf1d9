#[derive(Clone, Debug, auth::AuthUser)]
#[auth(tabel = "accounts_user")]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
}

fn main() {}
