//! Password hashing: argon2id PHC strings, legacy Django formats, unusable
//! passwords and the validators.
//!
//! New hashes are argon2id with the OWASP parameters (m=19456 KiB, t=2, p=1)
//! unless a [`Hasher`] with other parameters is configured. Verification also
//! accepts argon2 hashes with other parameters, Django's `argon2$…` format and
//! Django's `pbkdf2_sha256$…` format, and reports that those need upgrading so
//! the caller can re-hash after a successful login.
//!
//! Hashing costs tens of milliseconds of CPU by design: the async functions
//! here run it on hashing threads of their own (one per core by default),
//! so it never stalls the executor. An app hashes through its configured
//! hasher, within its bound: `auth.users().set_password(..)`, or
//! `auth.hasher().make_async(..)`.

mod limiter;
mod pbkdf2;
#[cfg(feature = "pwned")]
mod pwned;
pub mod validation;

#[cfg(feature = "pwned")]
pub(crate) use pwned::from_settings as breach_list;
#[cfg(feature = "pwned")]
pub use pwned::{PwnedFail, PwnedLookupError, PwnedPasswordValidator};

#[cfg(feature = "test-util")]
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use limiter::Limiter;

use crate::{
    kernel::crypto::{constant_time_eq, random_string},
    kernel::error::Result,
};

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use rand::Rng;

use crate::kernel::crypto::UNUSABLE_PASSWORD_SUFFIX_LENGTH;
pub use crate::kernel::crypto::{
    UNUSABLE_PASSWORD_PREFIX, is_password_usable, make_unusable_password,
};

/// The outcome of [`Hasher::check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The password does not match (or the stored hash is unusable or
    /// unreadable).
    Mismatch,
    /// The password matches. `needs_upgrade` is true when the stored hash uses
    /// another algorithm, format or parameters than the configured hasher, so
    /// the caller should store a fresh hash.
    Match {
        /// Whether the stored hash should be replaced by a fresh one.
        needs_upgrade: bool,
    },
}

impl Check {
    /// Whether the password matched.
    pub fn is_match(self) -> bool {
        matches!(self, Check::Match { .. })
    }
}

/// Errors from configuring a [`Hasher`].
#[derive(Debug, thiserror::Error)]
#[error("invalid argon2 parameters: {0}")]
pub struct InvalidParams(String);

/// The largest argon2 costs accepted from a stored hash: a crafted or
/// corrupt row must not make one login allocate gigabytes or spin for
/// minutes. Django's own default (m=102400 KiB, t=2, p=8) fits.
const MAX_STORED_MEMORY_KIB: u32 = 128 * 1024;
const MAX_STORED_ITERATIONS: u32 = 10;
const MAX_STORED_PARALLELISM: u32 = 16;

/// Whether a stored hash's costs are within the `MAX_STORED_*` bounds.
fn costs_acceptable(params: &Params) -> bool {
    params.m_cost() <= MAX_STORED_MEMORY_KIB
        && params.t_cost() <= MAX_STORED_ITERATIONS
        && params.p_cost() <= MAX_STORED_PARALLELISM
}

/// How many hashes may wait for a turn, per hash that may run.
const QUEUE_PER_RUNNER: usize = 32;

/// An argon2id password hasher with fixed parameters.
///
/// The default is the OWASP recommendation: 19456 KiB of memory, 2
/// iterations, 1 lane, 32-byte output. The async methods run on the
/// hasher's own threads, at most one hash per core at a time with a
/// bounded queue behind them (see [`Hasher::with_bounds`]).
#[derive(Clone, Debug)]
pub struct Hasher {
    params: Params,
    limiter: Arc<Limiter>,
    blocks: Arc<BlockPool>,
    /// How many hashes this hasher (and its clones) computed: hashing and
    /// verifying both count, as does the dummy hash that equalises timing.
    #[cfg(feature = "test-util")]
    computed: Arc<AtomicU64>,
}

/// Argon2's working memory, kept between hashes: a fresh 19 MiB buffer per
/// hash made glibc's adaptive `mmap` threshold keep every freed one in its
/// arenas (a 200-login flood grew the process by 600 MiB with two hashes
/// at a time). One buffer per hash that may run at once is reused instead.
#[derive(Debug, Default)]
struct BlockPool {
    spare: Mutex<Vec<Vec<Block>>>,
}

impl BlockPool {
    /// Runs `f` on `count` blocks: a kept buffer of the hasher's own size,
    /// or (another cost, from a legacy hash) a buffer of its own.
    fn with<R>(
        &self,
        count: usize,
        own: usize,
        keep: usize,
        f: impl FnOnce(&mut [Block]) -> R,
    ) -> R {
        if count != own {
            return f(&mut vec![Block::default(); count]);
        }
        let reused = self.spare.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut buffer = reused.unwrap_or_else(|| vec![Block::default(); count]);
        let out = f(&mut buffer);
        let mut spare = self.spare.lock().unwrap_or_else(|p| p.into_inner());
        if spare.len() < keep {
            spare.push(buffer);
        }
        out
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher::new(
            Params::DEFAULT_M_COST,
            Params::DEFAULT_T_COST,
            Params::DEFAULT_P_COST,
        )
        .expect("the OWASP parameters are valid")
    }
}

impl Hasher {
    /// A hasher with the given memory cost (KiB), time cost (iterations) and
    /// parallelism (lanes).
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
    ) -> std::result::Result<Self, InvalidParams> {
        let params = Params::new(memory_kib, iterations, parallelism, Some(32))
            .map_err(|e| InvalidParams(e.to_string()))?;
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Hasher {
            params,
            limiter: Arc::new(Limiter::new(cores, cores * QUEUE_PER_RUNNER)),
            blocks: Arc::default(),
            #[cfg(feature = "test-util")]
            computed: Arc::default(),
        })
    }

    /// The hasher `settings` describe: the argon2 costs of
    /// `AUTH_PASSWORD_HASHER_*`, bounded by `AUTH_PASSWORD_HASH_CONCURRENCY`
    /// and `AUTH_PASSWORD_HASH_QUEUE`.
    ///
    /// ```
    /// let hasher = auth::password::Hasher::from_settings(&auth::Settings::default())
    ///     .expect("the default costs are valid");
    /// let stored = hasher.make("secret");
    /// assert!(matches!(hasher.check("secret", &stored), auth::password::Check::Match { .. }));
    /// ```
    pub fn from_settings(
        settings: &crate::settings::Settings,
    ) -> std::result::Result<Self, InvalidParams> {
        Ok(Hasher::new(
            settings.password_hasher_memory_kib,
            settings.password_hasher_iterations,
            settings.password_hasher_parallelism,
        )?
        .with_bounds(
            settings.password_hash_concurrency,
            settings.password_hash_queue,
        ))
    }

    /// The same hasher with another bound: at most `concurrency` hashes at
    /// once (0: one per core) and `queue` more waiting; past that
    /// [`make_async`](Hasher::make_async) and
    /// [`check_async`](Hasher::check_async) fail at once with
    /// [`Error::Overloaded`](crate::Error::Overloaded).
    pub fn with_bounds(mut self, concurrency: usize, queue: usize) -> Self {
        self.limiter = Arc::new(Limiter::new(concurrency, queue));
        self
    }

    /// How many hashes may run at once, and how many may wait.
    pub fn bounds(&self) -> (usize, usize) {
        self.limiter.bounds()
    }

    /// How many hashes this hasher computed so far (hashing, verifying and
    /// the dummy hash that equalises timing all count): how tests prove
    /// that every login costs exactly one hash, and a refused one none.
    #[cfg(feature = "test-util")]
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    /// The most hashes that ran at once since the last
    /// [`reset_peak`](Hasher::reset_peak).
    #[cfg(feature = "test-util")]
    pub fn peak_concurrency(&self) -> usize {
        self.limiter.peak()
    }

    /// Forgets the peak of [`peak_concurrency`](Hasher::peak_concurrency).
    #[cfg(feature = "test-util")]
    pub fn reset_peak(&self) {
        self.limiter.reset_peak();
    }

    /// Counts one hash (with the `test-util` feature).
    fn count_hash(&self) {
        #[cfg(feature = "test-util")]
        self.computed.fetch_add(1, Ordering::Relaxed);
    }

    /// The memory cost, time cost and parallelism, in that order.
    pub fn params(&self) -> (u32, u32, u32) {
        (
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost(),
        )
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes `raw` into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    ///
    /// CPU-heavy: call it from a blocking context, or use [`Hasher::make_async`].
    pub fn make(&self, raw: &str) -> String {
        use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD};
        self.count_hash();
        let salt: [u8; 16] = rand::rng().random();
        let mut out = [0u8; 32];
        self.run_argon2(&self.argon2(), &self.params, raw, &salt, &mut out)
            .expect("argon2 hashing with validated parameters and a 16-byte salt cannot fail");
        format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost(),
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(out)
        )
    }

    /// One argon2 computation in pooled memory.
    fn run_argon2(
        &self,
        argon2: &Argon2<'_>,
        params: &Params,
        raw: &str,
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), argon2::Error> {
        let (concurrency, _) = self.limiter.bounds();
        self.blocks.with(
            params.block_count(),
            self.params.block_count(),
            concurrency,
            |blocks| argon2.hash_password_into_with_memory(raw.as_bytes(), salt, out, blocks),
        )
    }

    /// Checks `raw` against a stored hash.
    ///
    /// An unusable or unreadable stored hash still costs one hash computation,
    /// so the time taken does not reveal which case applied.
    pub fn check(&self, raw: &str, encoded: &str) -> Check {
        if let Some(rest) = encoded
            .strip_prefix("argon2")
            .filter(|rest| rest.starts_with('$'))
        {
            // Django's format: "argon2" followed by a PHC string.
            return match self.verify_argon2(raw, rest) {
                Some(true) => Check::Match {
                    needs_upgrade: true,
                },
                Some(false) => Check::Mismatch,
                None => self.fake_check(),
            };
        }
        if encoded.starts_with("pbkdf2_sha256$") {
            return match pbkdf2::verify(raw, encoded) {
                Some(true) => {
                    self.count_hash();
                    Check::Match {
                        needs_upgrade: true,
                    }
                }
                Some(false) => {
                    self.count_hash();
                    Check::Mismatch
                }
                None => self.fake_check(),
            };
        }
        if encoded.starts_with("$argon2") {
            return match self.verify_argon2(raw, encoded) {
                Some(true) => Check::Match {
                    needs_upgrade: self.must_update(encoded),
                },
                Some(false) => Check::Mismatch,
                None => self.fake_check(),
            };
        }
        self.fake_check()
    }

    /// Runs one hash and reports a mismatch: the cost of a real check for
    /// inputs that cannot match.
    fn fake_check(&self) -> Check {
        let _ = self.make(&random_string(UNUSABLE_PASSWORD_SUFFIX_LENGTH));
        Check::Mismatch
    }

    /// `None` when the hash cannot be parsed, or asks for more than the
    /// `MAX_STORED_*` costs.
    fn verify_argon2(&self, raw: &str, phc: &str) -> Option<bool> {
        let parsed = PasswordHash::new(phc).ok()?;
        // Algorithm, version and parameters come from the hash.
        let params = Params::try_from(&parsed).ok()?;
        if !costs_acceptable(&params) {
            tracing::warn!(
                m = params.m_cost(),
                t = params.t_cost(),
                p = params.p_cost(),
                "a stored argon2 hash asks for more than the accepted costs; treated as unusable"
            );
            return None;
        }
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
        let version = match parsed.version {
            Some(version) => Version::try_from(version).ok()?,
            None => Version::default(),
        };
        let (salt, expected) = (parsed.salt.as_ref()?, parsed.hash.as_ref()?);
        let mut out = vec![0u8; expected.len()];
        let argon2 = Argon2::new(algorithm, version, params.clone());
        self.run_argon2(&argon2, &params, raw, salt, &mut out)
            .ok()?;
        self.count_hash();
        Some(constant_time_eq(&out, expected.as_bytes()))
    }

    /// Whether a (valid) argon2 PHC string differs from what [`Hasher::make`]
    /// would produce now.
    fn must_update(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        parsed.algorithm.as_str() != "argon2id"
            || parsed.version != Some(Version::V0x13.into())
            || params.m_cost() != self.params.m_cost()
            || params.t_cost() != self.params.t_cost()
            || params.p_cost() != self.params.p_cost()
            || params.output_len() != self.params.output_len()
    }

    /// [`Hasher::make`] on a hashing thread, within the bound.
    pub async fn make_async(&self, raw: &str) -> Result<String> {
        let hasher = self.clone();
        let raw = raw.to_owned();
        self.limiter.run(move || hasher.make(&raw)).await
    }

    /// [`Hasher::check`] on a hashing thread, within the bound.
    pub async fn check_async(&self, raw: &str, encoded: &str) -> Result<Check> {
        let hasher = self.clone();
        let (raw, encoded) = (raw.to_owned(), encoded.to_owned());
        self.limiter.run(move || hasher.check(&raw, &encoded)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak() -> Hasher {
        Hasher::new(8, 1, 1).unwrap()
    }

    #[test]
    fn default_hash_is_owasp_argon2id() {
        let hasher = Hasher::default();
        let hash = hasher.make("s3cret");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            hasher.check("s3cret", &hash),
            Check::Match {
                needs_upgrade: false
            }
        );
        assert_eq!(hasher.check("S3cret", &hash), Check::Mismatch);
    }

    #[test]
    fn salts_differ() {
        let h = weak();
        assert_ne!(h.make("x"), h.make("x"));
    }

    #[test]
    fn other_parameters_need_upgrade_only_on_match() {
        let old = weak().make("pw");
        let current = Hasher::default();
        assert_eq!(
            current.check("pw", &old),
            Check::Match {
                needs_upgrade: true
            }
        );
        assert_eq!(current.check("nope", &old), Check::Mismatch);
    }

    #[test]
    fn empty_password_is_a_password() {
        let h = weak();
        let hash = h.make("");
        assert!(h.check("", &hash).is_match());
        assert!(!h.check(" ", &hash).is_match());
    }

    #[test]
    fn unusable_passwords_never_verify_but_cost_a_hash() {
        let unusable = make_unusable_password();
        assert_eq!(unusable.len(), 41);
        assert!(!is_password_usable(&unusable));
        let h = weak();
        assert_eq!(h.check("", &unusable), Check::Mismatch);
        assert_eq!(h.check(&unusable[1..], &unusable), Check::Mismatch);
        #[cfg(feature = "test-util")]
        assert_eq!(h.computed(), 2);
    }

    #[test]
    fn garbage_hashes_are_mismatches() {
        let h = weak();
        for encoded in [
            "",
            "$argon2id$",
            "$argon2id$v=19$m=x",
            "md5$a$b",
            "pbkdf2_sha256$x$y$z",
        ] {
            assert_eq!(h.check("pw", encoded), Check::Mismatch, "{encoded}");
        }
    }

    #[test]
    fn django_argon2_vectors_verify_and_need_upgrade() {
        let h = Hasher::default();
        let argon2i = "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q";
        let argon2id =
            "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw";
        for encoded in [argon2i, argon2id] {
            assert_eq!(
                h.check("secret", encoded),
                Check::Match {
                    needs_upgrade: true
                }
            );
            assert_eq!(h.check("Secret", encoded), Check::Mismatch);
        }
    }

    #[test]
    fn django_pbkdf2_vector_verifies() {
        // Django 6.1's own test vector (1.5M iterations).
        let encoded = "pbkdf2_sha256$1500000$seasalt$P4UiMPVduVWIL/oS1GzH+IofsccjJNM5hUTikBvi5to=";
        let h = weak();
        assert_eq!(
            h.check("lètmein", encoded),
            Check::Match {
                needs_upgrade: true
            }
        );
        // A vector made with Python's hashlib, with few iterations to keep the test quick.
        let cheap = "pbkdf2_sha256$1000$pepper$QaTwlQZS+av8xpxxEwll5NAb1iuYWklZWVbdjHtudhY=";
        assert!(h.check("lètmein", cheap).is_match());
        assert_eq!(h.check("letmein", cheap), Check::Mismatch);
    }

    #[tokio::test]
    async fn async_variants_agree() {
        let h = weak();
        let hash = h.make_async("pw").await.unwrap();
        assert!(h.check_async("pw", &hash).await.unwrap().is_match());
    }

    #[test]
    fn stored_costs_are_capped() {
        let costs = |phc: &str| {
            let parsed = PasswordHash::new(phc).unwrap();
            costs_acceptable(&Params::try_from(&parsed).unwrap())
        };
        // 4 GiB, 100 000 passes, 64 lanes: refused before any work.
        for phc in [
            "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
            "$argon2id$v=19$m=8,t=100000,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
            "$argon2id$v=19$m=1024,t=1,p=64$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
        ] {
            assert!(!costs(phc), "{phc}");
            assert_eq!(weak().check("pw", phc), Check::Mismatch, "{phc}");
        }
        assert!(costs(
            "$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw"
        ));
        // Django's default costs are accepted.
        assert!(
            Hasher::default()
                .check(
                    "secret",
                    "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw"
                )
                .is_match()
        );
    }
}
