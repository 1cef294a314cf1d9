#[derive(Clone, Debug, auth::AuthUser)]
pub struct Customer {
    #[auth(base)]
    pub base: auth::AbstractUser,
    pub loyalty_points: i64,
}

#[derive(Clone, Debug, auth::AuthUser)]
pub struct StaffMember {
    #[auth(base)]
    pub base: auth::AbstractUser,
    pub desk: Option<String>,
}

fn main() {
    use auth::sea_orm::EntityName;
    assert_eq!(customer_entity::Entity.table_name(), "customers");
    assert_eq!(staff_member_entity::Entity.table_name(), "staff_members");
}
