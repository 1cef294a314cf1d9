#[derive(Clone, Debug, auth::AuthUser)]
#[auth(table = "members", entity = "member_table")]
pub struct Member {
    #[auth(base)]
    pub base: auth::AbstractUser,
    #[auth(max_length = 500, default = "")]
    pub bio: String,
    #[auth(unique, column = "handle_name")]
    pub handle: String,
    #[auth(indexed, default = 18)]
    pub age: i32,
    pub karma: i64,
    #[auth(default = 1.5)]
    pub ratio: f64,
    #[auth(default = true)]
    pub newsletter: bool,
    pub birth_date: Option<auth::Date>,
    pub verified_at: Option<auth::DateTime>,
    pub joined_on: auth::Date,
    pub seen_at: auth::DateTime,
    pub api_key: auth::Uuid,
    pub referrer: Option<auth::Uuid>,
    pub nickname: Option<String>,
    pub score: Option<f64>,
    pub level: Option<i32>,
    pub points: Option<i64>,
    pub admin_flag: Option<bool>,
}

fn main() {
    let _column = member_table::Column::Handle;
}
