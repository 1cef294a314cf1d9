auth::auth_urls! {
    login: "/login/" => SignInView,
}

fn main() {}
