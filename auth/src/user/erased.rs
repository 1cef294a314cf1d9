//! A loaded user of any model behind one type, so the request layer and
//! the built-in views serve every user model without being generic.

use std::{any::Any, sync::Arc};

use super::{AbstractUser, AuthUser};

/// A loaded user of some model, behind a type-erased pointer, so the
/// request layer and the built-in views serve any user model without being
/// generic.
pub(crate) trait ErasedUser: Any + Send + Sync {
    fn base(&self) -> &AbstractUser;
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
    fn as_any_ref(&self) -> &dyn Any;
    /// The names of the fields the model adds.
    fn extra_names(&self) -> Vec<&'static str>;
    /// One extra field, as templates see it.
    fn extra_field(&self, name: &str) -> Option<minijinja::Value>;
}

impl<U: AuthUser> ErasedUser for U {
    fn base(&self) -> &AbstractUser {
        AuthUser::base(self)
    }
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
    fn as_any_ref(&self) -> &dyn Any {
        self
    }
    fn extra_names(&self) -> Vec<&'static str> {
        U::META.fields.iter().map(|field| field.name).collect()
    }
    fn extra_field(&self, name: &str) -> Option<minijinja::Value> {
        U::META.field(name).map(|field| (field.get)(self))
    }
}

/// A loaded user, shared by every extractor of one request.
pub(crate) type LoadedUser = Arc<dyn ErasedUser>;

/// The typed user inside a [`LoadedUser`]: moved out when this is the last
/// reference, cloned otherwise; `None` for another model.
pub(crate) fn downcast<U: AuthUser>(user: LoadedUser) -> Option<U> {
    let user = user.as_any().downcast::<U>().ok()?;
    Some(Arc::try_unwrap(user).unwrap_or_else(|shared| (*shared).clone()))
}
