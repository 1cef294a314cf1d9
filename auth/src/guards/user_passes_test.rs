//! Guards on any predicate over the user (Django's `user_passes_test`):
//! what `#[user_passes_test]` expands to, and [`UserPassesTestLayer`] for
//! whole routers. Anonymous users, and users failing the test, are sent to
//! the login page with `next`, as Django's decorator does.

use std::{any::Any, marker::PhantomData, sync::Arc};

use axum::{
    extract::FromRequestParts,
    response::{IntoResponse, Response},
};
use http::request::Parts;
use tower_layer::Layer;

use crate::{
    guards::layer::{Guard, GuardService, Head},
    guards::login_required::LoginRedirect,
    kernel::future::BoxFuture,
    login::request::RequestAuth,
    urls::REDIRECT_FIELD_NAME,
    user::AuthUser,
};

/// The future of a test's answer.
#[doc(hidden)]
pub type TestFuture = BoxFuture<'static, bool>;

/// A loaded user of any model, as a predicate receives it.
#[doc(hidden)]
pub type AnyUser = Arc<dyn Any + Send + Sync>;

/// What `#[user_passes_test]` checks; implemented by a hidden type the
/// macro generates per handler.
#[doc(hidden)]
pub trait UserTest: LoginRedirect {
    /// Whether `user` passes.
    fn test(user: AnyUser) -> TestFuture;
}

/// `user` as the model `predicate` takes (its type names the model).
#[doc(hidden)]
pub fn user_for_test<'x, U: AuthUser, F, R>(user: AnyUser, _predicate: &F) -> Option<Arc<U>>
where
    F: FnOnce(&'x U) -> R,
{
    user.downcast::<U>().ok()
}

/// A predicate's result: `bool` (resolved by the inherent method) or a
/// future of one (by [`AsyncVerdict`]).
#[doc(hidden)]
pub struct Verdict<T>(pub T);

impl Verdict<bool> {
    /// A synchronous predicate's answer.
    pub fn resolve(self) -> std::future::Ready<bool> {
        std::future::ready(self.0)
    }
}

/// What an asynchronous predicate returns.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a `user_passes_test` predicate returns `bool` or a future of `bool`, not `{Self}`",
    label = "this returns `{Self}`"
)]
pub trait TestOutcome: Future<Output = bool> {}

impl<F: Future<Output = bool>> TestOutcome for F {}

/// An asynchronous predicate's answer.
#[doc(hidden)]
pub trait AsyncVerdict {
    /// The future of the answer.
    type Future;
    /// The answer.
    fn resolve(self) -> Self::Future;
}

impl<F> AsyncVerdict for Verdict<F> {
    type Future = F;
    fn resolve(self) -> F {
        self.0
    }
}

/// Checks that a predicate's answer is a `bool` or a future of one, with a
/// message that says so.
#[doc(hidden)]
pub fn outcome<F: TestOutcome>(answer: F) -> F {
    answer
}

/// The guard `#[user_passes_test]` adds as the handler's first argument.
#[doc(hidden)]
pub struct UserPassesTest<C>(PhantomData<fn() -> C>);

impl<C> std::fmt::Debug for UserPassesTest<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserPassesTest")
    }
}

impl<S: Send + Sync, C: UserTest> FromRequestParts<S> for UserPassesTest<C> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request = RequestAuth::from_parts(parts)?;
        let passes = match request.user().await {
            Ok(Some(user)) => C::test(user.as_any()).await,
            Ok(None) => false,
            Err(err) => return Err(err.into_response()),
        };
        if passes {
            Ok(UserPassesTest(PhantomData))
        } else {
            Err(request.login_redirect(C::login_url(), Some(C::REDIRECT_FIELD_NAME)))
        }
    }
}

type Predicate<U> = Arc<dyn Fn(Arc<U>) -> BoxFuture<'static, bool> + Send + Sync>;

/// Requires a user passing a test for every route it wraps; anyone else is
/// sent to the login page with `next`. Put it inside the auth layer:
/// `router.layer(UserPassesTestLayer::new(|user: &User| user.is_staff)).layer(auth.layer())`.
pub struct UserPassesTestLayer<U> {
    predicate: Predicate<U>,
    login_url: Option<String>,
}

impl<U> Clone for UserPassesTestLayer<U> {
    fn clone(&self) -> Self {
        UserPassesTestLayer {
            predicate: self.predicate.clone(),
            login_url: self.login_url.clone(),
        }
    }
}

impl<U> std::fmt::Debug for UserPassesTestLayer<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPassesTestLayer")
            .field("login_url", &self.login_url)
            .finish_non_exhaustive()
    }
}

impl<U: AuthUser> UserPassesTestLayer<U> {
    /// A synchronous test: `|user: &User| user.is_staff`.
    pub fn new(test: impl Fn(&U) -> bool + Send + Sync + 'static) -> Self {
        let test = Arc::new(test);
        Self::asynchronous(move |user: Arc<U>| {
            let passes = test(&user);
            async move { passes }
        })
    }

    /// An asynchronous test, given the user:
    /// `|user: Arc<User>| async move { lookup(&user).await }`.
    pub fn asynchronous<F>(test: impl Fn(Arc<U>) -> F + Send + Sync + 'static) -> Self
    where
        F: Future<Output = bool> + Send + 'static,
    {
        UserPassesTestLayer {
            predicate: Arc::new(move |user| Box::pin(test(user))),
            login_url: None,
        }
    }

    /// Send failing users to this login URL instead of
    /// `settings.login_url()`.
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }
}

impl<S, U> Layer<S> for UserPassesTestLayer<U> {
    type Service = GuardService<S, UserPassesTestLayer<U>>;
    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            inner,
            guard: self.clone(),
        }
    }
}

impl<U: AuthUser> Guard for UserPassesTestLayer<U> {
    async fn check(&self, request: Arc<RequestAuth>, _head: Head) -> Option<Response> {
        let passes = match request.user().await {
            Ok(Some(user)) => match user.as_any().downcast::<U>() {
                Ok(user) => (self.predicate)(user).await,
                Err(_) => false,
            },
            Ok(None) => false,
            Err(err) => return Some(err.into_response()),
        };
        (!passes)
            .then(|| request.login_redirect(self.login_url.as_deref(), Some(REDIRECT_FIELD_NAME)))
    }
}
