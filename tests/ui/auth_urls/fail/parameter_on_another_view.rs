auth::auth_urls! {
    login: "/login/<next>/" => LoginView,
}

fn main() {}
