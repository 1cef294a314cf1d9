auth::auth_urls! {
    logout: "/logout/" => LogoutView { redirect_authenticated_user: true },
}

fn main() {}
