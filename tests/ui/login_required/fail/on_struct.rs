#[auth::login_required]
struct Profile;

fn main() {}
