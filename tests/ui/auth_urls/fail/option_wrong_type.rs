auth::auth_urls! {
    login: "/login/" => LoginView { redirect_authenticated_user: "yes" },
}

fn main() {}
