auth::auth_urls! {
    #[auth(table = "urls")]
    pub mod urls;
    login: "/login/" => LoginView,
}

fn main() {}
