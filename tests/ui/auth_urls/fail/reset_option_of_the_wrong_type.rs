auth::auth_urls! {
    password_reset_confirm: "/reset/<uidb64>/<token>/" => PasswordResetConfirmView { post_reset_login: "yes", success_url: "/done/" },
}

fn main() {}
