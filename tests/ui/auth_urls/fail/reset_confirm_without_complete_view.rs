auth::auth_urls! {
    password_reset: "/password-reset/" => PasswordResetView,
    password_reset_done: "/password-reset/done/" => PasswordResetDoneView,
    password_reset_confirm: "/reset/<uidb64>/<token>/" => PasswordResetConfirmView,
}

fn main() {}
