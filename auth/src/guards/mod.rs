//! Access guards (Django's `decorators.py`, `mixins.py` and
//! `LoginRequiredMiddleware`): what `#[login_required]`,
//! `#[permission_required]`, `#[user_passes_test]` and
//! `#[reauth_required]` expand to, and the router layers that guard whole
//! routers ([`layer`]).

pub(crate) mod layer;
pub(crate) mod login_required;
pub(crate) mod permission_required;
pub(crate) mod reauth_required;
pub(crate) mod user_passes_test;
