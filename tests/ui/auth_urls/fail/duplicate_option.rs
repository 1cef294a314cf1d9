auth::auth_urls! {
    login: "/login/" => LoginView { next_page: "/a/", next_page: "/b/" },
}

fn main() {}
