#[auth::user_passes_test]
async fn staff() -> &'static str {
    "staff"
}

fn main() {}
