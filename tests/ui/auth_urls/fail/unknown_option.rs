auth::auth_urls! {
    login: "/login/" => LoginView { template: "login.html" },
}

fn main() {}
