#[derive(Clone, Debug, auth::AuthUser)]
struct User(#[auth(base)] auth::AbstractUser);

fn main() {}
