#![deny(warnings)]

mod site {
    auth::auth_urls! {
        pub mod account_urls;
        sign_in: "/sign-in/" => LoginView { redirect_authenticated_user: true, next_page: "/home/" },
        change: "/change/" => PasswordChangeView { success_url: "/changed/", template_name: "change.html" },
    }
}

fn main() {
    let _router: axum::Router<&'static str> = site::account_urls::router();
    assert_eq!(site::account_urls::SIGN_IN, "/sign-in/");
    assert_eq!(site::account_urls::CHANGE, "/change/");
}
