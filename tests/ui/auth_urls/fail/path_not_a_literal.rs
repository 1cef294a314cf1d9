const LOGIN: &str = "/login/";

auth::auth_urls! {
    login: LOGIN => LoginView,
}

fn main() {}
