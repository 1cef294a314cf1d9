// The session list in a build without the `user-sessions` feature.
auth::auth_urls! {
    login: "/login/" => LoginView,
    sessions: "/account/sessions/" => SessionListView,
}

fn main() {}
