//! The client's address (what the login throttle counts): the socket
//! peer, or behind proxies the entry of `AUTH_TRUSTED_PROXY_HEADER` the
//! trusted proxies wrote.

use std::net::IpAddr;

/// The client's address: the socket peer, or, when
/// `AUTH_TRUSTED_PROXY_HEADER` is set, the entry `proxy_count` from the
/// right of that header, every line of it joined in order (a proxy that
/// adds a line of its own leaves the client's forged one first). `None`
/// when the header has fewer entries than trusted proxies, or the entry
/// is not an address.
pub(crate) fn client_ip(
    headers: &http::HeaderMap,
    peer: Option<IpAddr>,
    proxy_header: Option<&str>,
    proxy_count: usize,
) -> Option<IpAddr> {
    let Some(name) = proxy_header else {
        return peer;
    };
    let mut entries = Vec::new();
    for line in headers.get_all(name) {
        // A line that is not text makes the whole header untrustworthy.
        let line = line.to_str().ok()?;
        entries.extend(line.split(',').map(str::trim));
    }
    let index = entries.len().checked_sub(proxy_count.max(1))?;
    let entry = entries[index];
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[&str]) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", line.parse().unwrap());
        }
        headers
    }

    #[test]
    fn the_client_is_the_peer_or_the_entry_the_trusted_proxy_wrote() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let one = headers(&["203.0.113.9, 198.51.100.7"]);
        assert_eq!(client_ip(&one, Some(peer), None, 1), Some(peer));
        assert_eq!(
            client_ip(&one, Some(peer), Some("x-forwarded-for"), 1),
            Some("198.51.100.7".parse().unwrap()),
            "the rightmost entry: the one the trusted proxy added"
        );
        assert_eq!(
            client_ip(&one, Some(peer), Some("x-forwarded-for"), 2),
            Some("203.0.113.9".parse().unwrap()),
            "two proxies: the second from the right"
        );
        assert_eq!(
            client_ip(&one, Some(peer), Some("x-forwarded-for"), 3),
            None
        );
        let bracketed = headers(&["[2001:db8::1]:443"]);
        assert_eq!(
            client_ip(&bracketed, None, Some("x-forwarded-for"), 1),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            client_ip(
                &headers(&["garbage"]),
                Some(peer),
                Some("x-forwarded-for"),
                1
            ),
            None
        );
        assert_eq!(client_ip(&http::HeaderMap::new(), None, None, 1), None);
    }

    #[test]
    fn every_line_of_the_header_counts() {
        // HAProxy's `option forwardfor` adds a line of its own after the
        // client's forged one.
        let lines = headers(&["6.6.6.6", "192.0.2.44"]);
        assert_eq!(
            client_ip(&lines, None, Some("x-forwarded-for"), 1),
            Some("192.0.2.44".parse().unwrap())
        );
        let lines = headers(&["6.6.6.6, 7.7.7.7", "192.0.2.44, 10.0.0.2"]);
        assert_eq!(
            client_ip(&lines, None, Some("x-forwarded-for"), 2),
            Some("192.0.2.44".parse().unwrap())
        );
    }
}
