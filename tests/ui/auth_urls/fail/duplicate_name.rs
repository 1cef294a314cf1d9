auth::auth_urls! {
    login: "/login/" => LoginView,
    login: "/sign-in/" => LoginView,
}

fn main() {}
