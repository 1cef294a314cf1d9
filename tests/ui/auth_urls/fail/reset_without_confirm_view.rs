auth::auth_urls! {
    password_reset: "/password-reset/" => PasswordResetView,
    password_reset_done: "/password-reset/done/" => PasswordResetDoneView,
}

fn main() {}
