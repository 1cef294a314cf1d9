//! The columns of [`AbstractUser`](super::AbstractUser), declared once:
//! the list below makes `AbstractUser`'s fields, the runtime's
//! `BaseColumn`, and, handed to `#[derive(AuthUser)]` through
//! `auth::__private::base_columns!`, the base half of every user table
//! (its `Model` fields, their column types, the collision checks of extra
//! fields). Each entry: docs, field and type, the `BaseColumn` variant,
//! and its column options (`primary_key`, `unique`, `max_length = <a
//! length below>`).

/// The username's length (characters; Django's `AbstractUser.username`).
pub const USERNAME: u32 = 150;
/// The password column's length (a PHC string or an unusable password).
pub const PASSWORD: u32 = 255;
/// The email's length (RFC 5321's path limit, Django's `EmailField`).
pub const EMAIL: u32 = 254;
/// A first or last name's length.
pub const NAME: u32 = 150;

/// The list, handed to `$callback!` (with `$args` first).
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_base_columns {
    ($callback:path $(, $($args:tt)*)?) => {
        $callback! {
            $($($args)*)?

            /// Primary key; 0 for a user that has not been saved yet.
            id: i64 = Id [primary_key],
            /// Unique login name (at most 150 characters, case-sensitive).
            username: String = Username [unique, max_length = USERNAME],
            /// The stored password hash (a PHC string), or an unusable password.
            password: String = Password [max_length = PASSWORD],
            /// Email address; may be empty.
            email: String = Email [max_length = EMAIL],
            /// Given name; may be empty.
            first_name: String = FirstName [max_length = NAME],
            /// Family name; may be empty.
            last_name: String = LastName [max_length = NAME],
            /// Whether the user may log into an admin site.
            is_staff: bool = IsStaff [],
            /// Inactive users cannot log in, and existing sessions of theirs are
            /// treated as anonymous.
            is_active: bool = IsActive [],
            /// Whether the user has every permission.
            is_superuser: bool = IsSuperuser [],
            /// When the user last logged in, if ever.
            last_login: Option<DateTime> = LastLogin [],
            /// When the account was created.
            date_joined: DateTime = DateJoined [],
        }
    };
}
