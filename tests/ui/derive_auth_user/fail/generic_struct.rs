#[derive(Clone, Debug, auth::AuthUser)]
struct User<T> {
    #[auth(base)]
    base: auth::AbstractUser,
    extra: T,
}

fn main() {}
