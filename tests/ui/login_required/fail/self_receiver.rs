struct Views;

impl Views {
    #[auth::login_required]
    async fn profile(&self) -> &'static str {
        "profile"
    }
}

fn main() {}
