auth::auth_urls! {
    login: "/login/" => LoginView,
    logout: "/login/" => LogoutView,
}

fn main() {}
