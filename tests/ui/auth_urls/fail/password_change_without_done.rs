auth::auth_urls! {
    password_change: "/password-change/" => PasswordChangeView,
}

fn main() {}
