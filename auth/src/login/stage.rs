//! What a login became once its stages ran (see
//! [`stage_login`](crate::stage_login)): a type of its own, below
//! everything that logs in, so the views' type-erased operations can name
//! it.

/// What [`stage_login`](crate::stage_login) did with a login.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginStage {
    /// The user is logged in.
    LoggedIn,
    /// The login waits for a second step (the second factor, or setting
    /// one up): send the browser to `url` (`303`), which carries the
    /// `next` given when it was safe. The session stays anonymous until
    /// that step passes.
    Pending {
        /// The path of the view that takes the step, with `next`.
        url: String,
    },
}
