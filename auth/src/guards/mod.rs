//! Access guards (Django's `decorators.py`, `mixins.py` and
//! `LoginRequiredMiddleware`): what `#[login_required]`,
//! `#[permission_required]` and `#[user_passes_test]` expand to, and the
//! router layers that guard whole routers ([`layer`]).

pub(crate) mod layer;
pub(crate) mod login_required;
pub(crate) mod permission_required;
pub(crate) mod user_passes_test;
