auth::auth_urls! {
    password_reset_confirm: "/reset/<uidb64>/x<token>/" => PasswordResetConfirmView { success_url: "/done/" },
}

fn main() {}
