//! Where a request is: what the layer reads of it once (host, scheme,
//! client address, user agent, device cookie), for redirects, origin
//! checks, the throttle and the session registry.

/// Where the request is: its host, scheme, address and client, as the
/// layer read them once.
#[derive(Debug)]
pub(crate) struct Origin {
    /// The `Host` of the request, for `next` URLs and origin checks.
    pub(crate) host: Option<String>,
    /// The request's scheme, when known (see `SECURE_PROXY_SSL_HEADER`).
    pub(crate) scheme: Option<&'static str>,
    pub(crate) uri: http::Uri,
    /// The client's address, when known (see `AUTH_TRUSTED_PROXY_HEADER`).
    pub(crate) client_ip: Option<std::net::IpAddr>,
    /// The client's `User-Agent` on an unsafe request (what logs in), for
    /// the session registry.
    pub(crate) user_agent: Option<http::HeaderValue>,
    /// The login throttle's device cookie, on an unsafe request.
    pub(crate) device: Option<String>,
}

impl Origin {
    /// Whether the request came over https.
    pub(crate) fn secure(&self) -> bool {
        self.scheme == Some("https")
    }
}
