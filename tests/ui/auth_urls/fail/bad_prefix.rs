auth::auth_urls! {
    prefix = "/accounts/";
    login: "/login/" => LoginView,
}

fn main() {}
