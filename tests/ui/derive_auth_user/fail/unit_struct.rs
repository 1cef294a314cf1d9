#[derive(Clone, Debug, auth::AuthUser)]
struct User;

fn main() {}
