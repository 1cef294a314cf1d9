//! The user model (Django's `models.py`): [`AbstractUser`] (Django's
//! `AbstractUser` fields), the [`AuthUser`] trait that `#[derive(AuthUser)]`
//! implements, username and email normalisation; the user table the
//! runtime queries (`store.rs`), the manager apps use ([`Users`], Django's
//! `User.objects`), and the type-erased user the request layer passes
//! around (`erased.rs`).

use sea_orm::{ActiveModelBehavior, EntityTrait, FromQueryResult, IntoActiveModel, ModelTrait};

pub(crate) mod codegen;
pub mod columns;
pub(crate) mod erased;
pub(crate) mod normalize;
pub(crate) mod store;

pub use normalize::normalize_email;
pub(crate) use normalize::normalize_username;

use crate::{kernel::DateTime, kernel::error::ValidationError};

/// The longest username accepted, as Django's `AbstractUser.username`.
pub(crate) const USERNAME_MAX_LENGTH: usize = columns::USERNAME as usize;

/// Makes [`AbstractUser`] (its fields, and a `Debug` that leaves the
/// password hash out) and [`BaseColumn`] from the one list of base
/// columns (`columns.rs`).
macro_rules! define_base {
    ($(
        $(#[doc = $doc:literal])*
        $field:ident: $ty:ty = $variant:ident [$($option:tt)*],
    )*) => {
        /// The fields every user has, as in Django's `AbstractUser`.
        ///
        /// A custom user model embeds it as its `#[auth(base)]` field and
        /// derefs to it, so `user.username` works on the custom model. Its
        /// `Debug` output leaves the password hash out.
        #[derive(Clone, PartialEq, Eq)]
        pub struct AbstractUser {
            $(
                $(#[doc = $doc])*
                pub $field: $ty,
            )*
        }

        impl std::fmt::Debug for AbstractUser {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("AbstractUser")
                    $(.field(stringify!($field), show(stringify!($field), &self.$field)))*
                    .finish()
            }
        }

        /// The columns of [`AbstractUser`], so the runtime can query any
        /// user table.
        #[doc(hidden)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum BaseColumn {
            $($variant,)*
        }
    };
}

/// A field as `Debug` shows it: the password hash never.
fn show<'a>(name: &str, value: &'a dyn std::fmt::Debug) -> &'a dyn std::fmt::Debug {
    if name == "password" {
        &"<redacted>"
    } else {
        value
    }
}

crate::__auth_base_columns!(define_base);

impl AbstractUser {
    /// A new, unsaved, active user with an unusable password.
    pub fn new(username: impl Into<String>) -> Self {
        AbstractUser {
            id: 0,
            username: username.into(),
            password: crate::kernel::crypto::make_unusable_password(),
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            is_staff: false,
            is_active: true,
            is_superuser: false,
            last_login: None,
            date_joined: DateTime::now_utc(),
        }
    }

    /// Always true for a real user (Django's `is_authenticated`).
    pub fn is_authenticated(&self) -> bool {
        true
    }

    /// First and last name separated by a space, trimmed.
    pub fn get_full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }

    /// The first name.
    pub fn get_short_name(&self) -> &str {
        &self.first_name
    }

    /// Whether the stored password can ever verify.
    pub fn has_usable_password(&self) -> bool {
        crate::kernel::crypto::is_password_usable(&self.password)
    }

    /// Replaces the stored hash with an unusable password (the user can no
    /// longer log in with a password). Save the user to persist it.
    pub fn set_unusable_password(&mut self) {
        self.password = crate::kernel::crypto::make_unusable_password();
    }
}

/// Django's `AnonymousUser`: no id, empty username, every flag false.
pub(crate) fn anonymous() -> AbstractUser {
    AbstractUser {
        id: 0,
        username: String::new(),
        password: String::new(),
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        is_staff: false,
        is_active: false,
        is_superuser: false,
        last_login: None,
        date_joined: time::OffsetDateTime::UNIX_EPOCH,
    }
}

/// A user model: implemented by `#[derive(AuthUser)]`, not by hand.
///
/// It ties the user struct to the SeaORM entity the derive generates. The
/// base fields are reached through `Deref` (`user.username`); the rest is
/// what the runtime needs and is hidden from the docs.
pub trait AuthUser:
    Clone + Send + Sync + std::fmt::Debug + std::ops::Deref<Target = AbstractUser> + 'static
{
    /// The SeaORM entity of the user table.
    type Entity: EntityTrait<Model = Self::Model, ActiveModel = Self::ActiveModel> + Default;
    #[doc(hidden)]
    /// A row of the user table.
    type Model: ModelTrait<Entity = Self::Entity>
        + FromQueryResult
        + IntoActiveModel<Self::ActiveModel>
        + Send
        + Sync;
    #[doc(hidden)]
    /// The active model of the user table.
    type ActiveModel: ActiveModelBehavior<Entity = Self::Entity> + Send + Sync;

    #[doc(hidden)]
    /// The embedded base fields.
    fn base(&self) -> &AbstractUser;
    #[doc(hidden)]
    /// The embedded base fields, mutably.
    fn base_mut(&mut self) -> &mut AbstractUser;
    /// A user with these base fields and every extra field at its default
    /// (`#[auth(default = ...)]`, else empty, zero, false, `None`, now, or a
    /// random UUID).
    fn from_base(base: AbstractUser) -> Self;
    #[doc(hidden)]
    /// Converts a row of the user table.
    fn from_model(model: Self::Model) -> Self;
    #[doc(hidden)]
    /// Converts into an active model with every column set, except `id` when
    /// it is 0 (unsaved).
    fn into_active_model(self) -> Self::ActiveModel;
    #[doc(hidden)]
    /// The entity column for a base field.
    fn column(column: BaseColumn) -> <Self::Entity as EntityTrait>::Column;
    #[doc(hidden)]
    /// What the derive knows of the model, as data (Django's
    /// `Model._meta`): its permission names and the fields it adds to
    /// [`AbstractUser`], which templates, the CLI, forms and the admin read.
    const META: &'static ModelMeta<Self> = &ModelMeta {
        app_label: "auth",
        model_name: "user",
        verbose_name: "user",
        fields: &[],
    };
}

/// Django's `UnicodeUsernameValidator` (`^[\w.@+-]+\Z`) and the 150
/// character limit.
pub fn validate_username(username: &str) -> Result<(), ValidationError> {
    let count = username.chars().count();
    if count > USERNAME_MAX_LENGTH {
        return Err(ValidationError::new(
            "max_length",
            format!(
                "Ensure this value has at most {USERNAME_MAX_LENGTH} characters (it has {count})."
            ),
        ));
    }
    let valid = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '+' | '-');
    if username.is_empty() || !username.chars().all(valid) {
        return Err(ValidationError::new(
            "invalid",
            "Enter a valid username. This value may contain only letters, numbers, \
             and @/./+/-/_ characters.",
        ));
    }
    Ok(())
}

/// A user model as data (Django's `Model._meta`), made by
/// `#[derive(AuthUser)]` as [`AuthUser::META`]. Not a public API.
#[doc(hidden)]
pub struct ModelMeta<U: 'static> {
    /// The app label of the model's default permissions (`accounts` in
    /// `accounts.add_user`).
    pub app_label: &'static str,
    /// The model's name in those permissions (`user`).
    pub model_name: &'static str,
    /// The name people read ("Can add user").
    pub verbose_name: &'static str,
    /// The fields the model adds to [`AbstractUser`], in declaration
    /// order.
    pub fields: &'static [ModelField<U>],
}

impl<U> ModelMeta<U> {
    /// The added field called `name`.
    pub fn field(&self, name: &str) -> Option<&ModelField<U>> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// Sets field `name` of `user` from text typed at a prompt or given
    /// as an option; an error says what was expected.
    pub fn set(&self, user: &mut U, name: &str, raw: &str) -> Result<(), ValidationError> {
        let field = self.field(name).ok_or_else(|| unknown_field(name))?;
        (field.set)(user, raw)
    }
}

/// One field a user model adds to [`AbstractUser`]: what it is and how to
/// read and write it. Not a public API.
#[doc(hidden)]
pub struct ModelField<U: 'static> {
    /// The field's name (`display_name`).
    pub name: &'static str,
    /// The label people read (`Display name`).
    pub label: &'static str,
    /// The kind of value, as Django's field classes name it.
    pub kind: FieldKind,
    /// Whether the value may be absent (`Option<T>`).
    pub optional: bool,
    /// Whether `createsuperuser`/`createuser` ask for it (Django's
    /// `REQUIRED_FIELDS`).
    pub required: bool,
    /// Whether two users cannot share a value.
    pub unique: bool,
    /// The value as templates see it (`{{ user.display_name }}`).
    pub get: fn(&U) -> minijinja::Value,
    /// Sets the value from text; an error says what was expected.
    pub set: fn(&mut U, &str) -> Result<(), ValidationError>,
    /// For a unique field, the condition matching a row with this user's
    /// value (to say "already taken" before inserting).
    pub taken: Option<fn(&U) -> sea_orm::sea_query::Expr>,
}

/// The kind of a model field's value, by Django's field class.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// `CharField`/`TextField`: `String`.
    Text,
    /// `BooleanField`: `bool`.
    Boolean,
    /// `IntegerField`: `i32`.
    Integer,
    /// `BigIntegerField`: `i64`.
    BigInteger,
    /// `FloatField`: `f64`.
    Float,
    /// `DateField`.
    Date,
    /// `DateTimeField`.
    DateTime,
    /// `UUIDField`.
    Uuid,
}

/// The error for a field name the model does not have.
fn unknown_field(name: &str) -> ValidationError {
    ValidationError::new("unknown_field", format!("There is no field `{name}`."))
}

/// Text from a prompt or an option, turned into a field's type with
/// Django's form messages.
#[doc(hidden)]
pub trait FromInput: Sized {
    /// Parses `raw`.
    fn from_input(raw: &str) -> Result<Self, ValidationError>;
}

fn invalid(message: &str) -> ValidationError {
    ValidationError::new("invalid", message)
}

impl FromInput for String {
    fn from_input(raw: &str) -> Result<Self, ValidationError> {
        Ok(raw.to_owned())
    }
}

impl FromInput for bool {
    fn from_input(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "y" | "on" => Ok(true),
            "0" | "false" | "no" | "n" | "off" => Ok(false),
            _ => Err(invalid("Enter yes or no.")),
        }
    }
}

macro_rules! from_input_number {
    ($($ty:ty => $message:literal),*) => {$(
        impl FromInput for $ty {
            fn from_input(raw: &str) -> Result<Self, ValidationError> {
                raw.trim().parse().map_err(|_| invalid($message))
            }
        }
    )*};
}
from_input_number!(
    i32 => "Enter a whole number.",
    i64 => "Enter a whole number.",
    f64 => "Enter a number."
);

impl FromInput for crate::kernel::Date {
    fn from_input(raw: &str) -> Result<Self, ValidationError> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        crate::kernel::Date::parse(raw.trim(), &format)
            .map_err(|_| invalid("Enter a valid date (YYYY-MM-DD)."))
    }
}

impl FromInput for DateTime {
    fn from_input(raw: &str) -> Result<Self, ValidationError> {
        DateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339).map_err(|_| {
            invalid("Enter a valid date/time (RFC 3339, such as 2026-01-31T12:00:00Z).")
        })
    }
}

impl FromInput for crate::kernel::Uuid {
    fn from_input(raw: &str) -> Result<Self, ValidationError> {
        raw.trim()
            .parse()
            .map_err(|_| invalid("Enter a valid UUID."))
    }
}

impl<T: FromInput> FromInput for Option<T> {
    fn from_input(raw: &str) -> Result<Self, ValidationError> {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            T::from_input(raw).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules_match_django() {
        assert!(validate_username("alice.b+c@d-e_f").is_ok());
        assert!(validate_username("émilie").is_ok());
        assert!(validate_username("has space").is_err());
        assert!(validate_username("semi;colon").is_err());
        assert!(
            validate_username(&"a".repeat(151))
                .unwrap_err()
                .message()
                .contains("(it has 151)")
        );
    }

    #[test]
    fn input_is_parsed_with_djangos_messages() {
        assert_eq!(i32::from_input(" 42 ").unwrap(), 42);
        assert_eq!(
            i32::from_input("forty").unwrap_err().message(),
            "Enter a whole number."
        );
        assert_eq!(
            f64::from_input("x").unwrap_err().message(),
            "Enter a number."
        );
        assert!(bool::from_input("yes").unwrap());
        assert!(bool::from_input("maybe").is_err());
        assert_eq!(Option::<i64>::from_input("").unwrap(), None);
        assert_eq!(Option::<i64>::from_input("7").unwrap(), Some(7));
        assert!(crate::kernel::Date::from_input("2026-02-30").is_err());
        assert!(crate::kernel::Date::from_input("2026-02-28").is_ok());
        assert!(crate::kernel::Uuid::from_input("not-a-uuid").is_err());
    }

    #[test]
    fn debug_output_leaves_the_password_hash_out() {
        let mut user = AbstractUser::new("alice");
        user.password = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$c2VjcmV0aGFzaA".into();
        let shown = format!("{user:?}");
        assert!(shown.contains("alice"), "{shown}");
        assert!(!shown.contains("argon2"), "{shown}");
        assert!(!shown.contains("c2VjcmV0aGFzaA"), "{shown}");
    }
}
