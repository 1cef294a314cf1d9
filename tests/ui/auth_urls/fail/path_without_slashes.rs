auth::auth_urls! {
    login: "login" => LoginView,
}

fn main() {}
