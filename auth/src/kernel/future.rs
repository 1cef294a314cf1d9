//! The boxed future that trait objects' async methods return.

use std::{future::Future, pin::Pin};

/// A boxed, sendable future: what a trait object's async method returns.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
