auth::auth_urls! {
    login: "/login/{id}/" => LoginView,
}

fn main() {}
