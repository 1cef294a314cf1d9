//! An in-process HTTP client with a cookie jar, following no redirects.

use std::collections::BTreeMap;

use axum::{Router, body::Body};
use http::{HeaderMap, Request, StatusCode, header};
use tower::ServiceExt;

/// One response, read whole.
#[derive(Debug)]
pub struct Page {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl Page {
    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The `Set-Cookie` header for `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| {
                v.split(';')
                    .next()
                    .and_then(|p| p.split_once('='))
                    .is_some_and(|(k, _)| k.trim() == name)
            })
            .map(str::to_owned)
    }

    /// The value of a hidden input in the page.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\"");
        let start = self.body.find(&marker)?;
        let tag_start = self.body[..start].rfind('<')?;
        let tag_end = start + self.body[start..].find('>')?;
        let tag = &self.body[tag_start..tag_end];
        let value = tag.split("value=\"").nth(1)?;
        Some(unescape(&value[..value.find('"')?]))
    }
}

/// What a browser makes of an attribute value: the entities the
/// templates' escaping produces, decoded.
fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// A browser-like client for a router: keeps cookies, sends `Host`.
pub struct Client {
    app: Router,
    /// The cookies, by name.
    pub jar: BTreeMap<String, String>,
    /// The `Host` header sent (default `testserver`).
    pub host: String,
}

impl Client {
    /// A client with an empty jar.
    pub fn new(app: Router) -> Self {
        Client {
            app,
            jar: BTreeMap::new(),
            host: "testserver".into(),
        }
    }

    /// The router this client talks to.
    pub fn router(&self) -> Router {
        self.app.clone()
    }

    /// GET `uri`.
    pub async fn get(&mut self, uri: &str) -> Page {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// POST a urlencoded form.
    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// POST a form with a valid CSRF token from the cookie.
    pub async fn post_with_csrf(&mut self, uri: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token().await;
        let mut all = fields.to_vec();
        all.push(("csrfmiddlewaretoken", &token));
        self.post(uri, &all).await
    }

    /// Submits the form at `url` as a browser would: GETs the page, sends
    /// back its hidden `csrfmiddlewaretoken` and `next` with `fields`.
    pub async fn submit_form(&mut self, url: &str, fields: &[(&str, &str)]) -> Page {
        let form = self.get(url).await;
        assert_eq!(form.status, StatusCode::OK, "GET {url}: {}", form.body);
        let token = form
            .input_value("csrfmiddlewaretoken")
            .unwrap_or_else(|| panic!("GET {url}: no CSRF input in {}", form.body));
        let next = form.input_value("next");
        let mut all = vec![("csrfmiddlewaretoken", token.as_str())];
        if let Some(next) = &next {
            all.push(("next", next));
        }
        all.extend_from_slice(fields);
        self.post(url, &all).await
    }

    /// Logs in through the login form at `url` (the built-in view, the
    /// test app's or the example's); the response is the form's.
    pub async fn log_in(&mut self, url: &str, username: &str, password: &str) -> Page {
        self.submit_form(url, &[("username", username), ("password", password)])
            .await
    }

    /// A token from the test app's `/csrf/` route (sets the cookie if needed).
    pub async fn csrf_token(&mut self) -> String {
        self.get("/csrf/").await.body
    }

    /// Sends `req` with the jar's cookies and a `Host`; keeps the cookies
    /// the response sets.
    pub async fn send(&mut self, mut req: Request<Body>) -> Page {
        let headers = req.headers_mut();
        if !headers.contains_key(header::HOST) {
            headers.insert(header::HOST, self.host.parse().unwrap());
        }
        if !self.jar.is_empty() && !headers.contains_key(header::COOKIE) {
            let cookie = self
                .jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            headers.insert(header::COOKIE, cookie.parse().unwrap());
        }
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        for value in headers.get_all(header::SET_COOKIE) {
            self.store_cookie(value.to_str().unwrap());
        }
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn store_cookie(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            return;
        };
        let expired = parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
        if expired {
            self.jar.remove(name.trim());
        } else {
            self.jar
                .insert(name.trim().to_owned(), value.trim().to_owned());
        }
    }
}
