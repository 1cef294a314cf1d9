auth::auth_urls! {
    password_reset: "/password-reset/" => PasswordResetView,
    password_reset_done: "/password-reset/done/" => PasswordResetDoneView,
    password_reset_confirm: "/reset/<uidb64>/" => PasswordResetConfirmView,
    password_reset_complete: "/reset/done/" => PasswordResetCompleteView,
}

fn main() {}
