use auth::AuthUser as _;

#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
}

fn main() {
    let user = User::from_base(auth::AbstractUser::new("alice"));
    assert_eq!(user.username, "alice");
    let _entity: user_entity::Entity = user_entity::Entity;
}
