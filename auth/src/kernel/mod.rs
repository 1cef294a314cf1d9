//! What every other part of the crate stands on, and which imports none of
//! them above the settings: the error type, the database handle and its
//! schema helpers, the clock, the migration report, the system-check
//! message and its registry, constant-time comparison and random strings,
//! and the boxed future of trait objects.
//!
//! The composition root (`app/`: `Auth`, the builder, shutdown) is at the
//! other end: it imports everything, and nothing but `lib.rs` and the
//! middleware imports it.

/// A calendar date (a column type for custom user fields).
pub type Date = time::Date;
/// A point in time with a UTC offset (a column type for custom user fields).
pub type DateTime = time::OffsetDateTime;
/// A UUID (a column type for custom user fields).
pub type Uuid = uuid::Uuid;

pub(crate) mod checks;
pub(crate) mod clock;
pub(crate) mod crypto;
pub(crate) mod database;
pub(crate) mod error;
pub(crate) mod future;
pub(crate) mod migration;
pub(crate) mod registry;
