//! The k-anonymity range protocol of Have I Been Pwned's Pwned Passwords
//! API: only the first 5 hex digits of the password's SHA-1 leave the
//! server (`GET {url}{PREFIX}` with `Add-Padding: true`); the answer lists
//! the remaining 35 digits of every breached hash with that prefix
//! (`SUFFIX:COUNT` lines, padding lines with a count of 0), and the
//! suffix is compared here. Answers are cached ([`RangeCache`]).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use super::cache::{CAPACITY, Range, RangeCache};

/// The largest range answer read: a real one is ~40 KB with padding.
const MAX_BODY: usize = 1 << 20;

/// Why a range could not be fetched.
#[derive(Debug, thiserror::Error)]
pub(super) enum RangeError {
    /// No answer in time, no connection, or a broken transfer.
    #[error("{0}")]
    Transport(#[from] reqwest::Error),
    /// An answer other than 200.
    #[error("the range service answered {0}")]
    Status(reqwest::StatusCode),
    /// An answer that is not a range.
    #[error("the range service's answer is not a list of SUFFIX:COUNT lines ({0})")]
    Malformed(&'static str),
}

/// A client of one range service.
pub(super) struct RangeApi {
    url: String,
    timeout: Duration,
    client: reqwest::Client,
    cache: RangeCache,
}

impl std::fmt::Debug for RangeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RangeApi").field("url", &self.url).finish()
    }
}

impl RangeApi {
    /// A client of the service at `url` (the prefix is appended to it),
    /// waiting at most `timeout` per request, keeping answers `cache_ttl`.
    pub(super) fn new(url: &str, timeout: Duration, cache_ttl: Duration) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url).map_err(|err| format!("{url}: {err}"))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.query().is_some() {
            return Err(format!(
                "{url}: expected an http(s) URL the prefix can be appended to, such as \
                 https://api.pwnedpasswords.com/range/"
            ));
        }
        Ok(RangeApi {
            url: url.to_owned(),
            timeout,
            client: client(timeout).map_err(|err| err.to_string())?,
            cache: RangeCache::new(cache_ttl, CAPACITY),
        })
    }

    /// The service's URL.
    pub(super) fn url(&self) -> &str {
        &self.url
    }

    /// Whether the service lists `digest` (40 upper-case hex digits).
    pub(super) async fn contains(&self, digest: &str) -> Result<bool, RangeError> {
        self.contains_with(&self.client, digest).await
    }

    /// [`contains`](RangeApi::contains) for synchronous callers: a cached
    /// range answers at once; otherwise the request runs on a thread of
    /// its own (with a client of its own: the shared one's connections
    /// belong to the app's runtime), blocking the caller up to the
    /// timeout.
    pub(super) fn contains_blocking(&self, digest: &str) -> Result<bool, RangeError> {
        let (prefix, suffix) = digest.split_at(5);
        if let Some(range) = self.cached(prefix) {
            return Ok(range.contains(suffix));
        }
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|_| RangeError::Malformed("no runtime for the request"))?;
                    let client = client(self.timeout)?;
                    runtime.block_on(self.contains_with(&client, digest))
                })
                .join()
                .unwrap_or(Err(RangeError::Malformed("the request's thread panicked")))
        })
    }

    fn cached(&self, prefix: &str) -> Option<Arc<Range>> {
        let key = u32::from_str_radix(prefix, 16).ok()?;
        self.cache.get(key, Instant::now())
    }

    async fn contains_with(
        &self,
        client: &reqwest::Client,
        digest: &str,
    ) -> Result<bool, RangeError> {
        let (prefix, suffix) = digest.split_at(5);
        if let Some(range) = self.cached(prefix) {
            return Ok(range.contains(suffix));
        }
        let range = Arc::new(self.fetch(client, prefix).await?);
        let found = range.contains(suffix);
        if let Ok(key) = u32::from_str_radix(prefix, 16) {
            self.cache.put(key, range, Instant::now());
        }
        Ok(found)
    }

    async fn fetch(&self, client: &reqwest::Client, prefix: &str) -> Result<Range, RangeError> {
        let started = Instant::now();
        let mut response = client
            .get(format!("{}{prefix}", self.url))
            .header("Add-Padding", "true")
            .send()
            .await?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(RangeError::Status(response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(RangeError::Malformed("larger than 1 MiB"));
            }
            body.extend_from_slice(&chunk);
        }
        metrics::histogram!("auth_pwned_range_seconds").record(started.elapsed().as_secs_f64());
        parse(&body)
    }
}

fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!(
            "auth/",
            env!("CARGO_PKG_VERSION"),
            " (breached-password check)"
        ))
        .build()
}

/// The suffixes of a range answer; padding lines (a count of 0) are left
/// out.
pub(super) fn parse(body: &[u8]) -> Result<Range, RangeError> {
    let text = std::str::from_utf8(body).map_err(|_| RangeError::Malformed("not UTF-8"))?;
    let mut suffixes = Vec::with_capacity(1024);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (suffix, count) = line
            .split_once(':')
            .ok_or(RangeError::Malformed("a line without a count"))?;
        let count: u64 = count
            .trim()
            .parse()
            .map_err(|_| RangeError::Malformed("a count that is not a number"))?;
        let packed = Range::pack(suffix.trim())
            .ok_or(RangeError::Malformed("a suffix that is not 35 hex digits"))?;
        if count > 0 {
            suffixes.push(packed);
        }
    }
    Ok(Range::new(suffixes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_lines_are_ignored_and_garbage_refused() {
        let body = b"0018A45C4D1DEF81644B54AB7F969B88D65:10\r\n\
                     00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0\r\n\
                     011053FD0102E94D6AE2F8B83D76FAF94F6:1\r\n";
        let range = parse(body).unwrap();
        assert_eq!(range.len(), 2);
        assert!(range.contains("0018A45C4D1DEF81644B54AB7F969B88D65"));
        assert!(
            !range.contains("00D4F6E8FA6EECAD2A3AA415EEC418D38EC"),
            "padding"
        );
        for bad in [
            &b"0018A45C4D1DEF81644B54AB7F969B88D65\r\n"[..],
            b"0018A45C4D1DEF81644B54AB7F969B88D65:x\r\n",
            b"0018A45C4D:3\r\n",
            b"<html>rate limited</html>",
            b"\xff\xfe:1",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse(b"").unwrap().len(), 0);
    }

    #[test]
    fn only_http_urls_are_accepted() {
        let t = Duration::from_secs(1);
        assert!(RangeApi::new("https://api.pwnedpasswords.com/range/", t, t).is_ok());
        for bad in ["ftp://x/range/", "not a url", "https://x/range/?a=b"] {
            assert!(RangeApi::new(bad, t, t).is_err(), "{bad}");
        }
    }
}
