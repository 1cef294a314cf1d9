// The struct has a mistake (no base field); code using the model reports
// nothing more.
#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    bio: String,
}

fn username(user: &User) -> &str {
    &user.username
}

async fn handler(user: User) -> String {
    user.bio
}

fn main() {
    let _: Option<auth::Auth<User>> = None;
    let _ = user_entity::Entity;
    let _ = username;
    let _: axum::routing::MethodRouter = axum::routing::get(handler);
}
