auth::auth_urls! {
    prefx = "/accounts";
    login: "/login/" => LoginView,
}

fn main() {}
