#[auth::user_passes_test("is_staff")]
async fn staff() -> &'static str {
    "staff"
}

fn main() {}
