//! `url("name", ...)` in templates: Django's `{% url %}` for the auth URLs
//! the app declared (`{{ url("password_reset") }}`,
//! `{{ url("password_reset_confirm", uidb64=uid, token=token) }}`). An
//! unknown name, or a path parameter left out or not in the path, is a
//! template error naming the declared ones (Django's `NoReverseMatch`).

use minijinja::{Environment, Error, ErrorKind, value::Kwargs};

use crate::urls::Urls;

/// Adds `url` to `env`.
pub(super) fn register(env: &mut Environment<'static>, urls: Urls) {
    env.add_function("url", move |name: &str, kwargs: Kwargs| {
        reverse(urls, name, &kwargs)
    });
}

fn reverse(urls: Urls, name: &str, kwargs: &Kwargs) -> Result<String, Error> {
    let Some(path) = urls.reverse(name) else {
        let declared: Vec<&str> = urls.routes().iter().map(|route| route.name).collect();
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "url({name:?}): no auth URL has this name (declared: {}); the names are those of \
                 auth_urls!, given to the builder with .urls(urls::URLCONF)",
                if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.join(", ")
                }
            ),
        ));
    };
    let mut reversed = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let parameter = &rest[open + 1..open + close];
        let value: Option<minijinja::Value> = kwargs.get(parameter)?;
        let value = value
            .filter(|v| !v.is_undefined() && !v.is_none())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::MissingArgument,
                    format!("url({name:?}): {path} needs {parameter}=..."),
                )
            })?;
        let value = value.to_string();
        reversed.push_str(&rest[..open]);
        reversed.push_str(&encode_segment(&value));
        rest = &rest[open + close + 1..];
    }
    reversed.push_str(rest);
    kwargs.assert_all_used()?;
    Ok(reversed)
}

/// `value` as one path segment: anything but unreserved characters
/// percent-encoded, so a value cannot add a segment or a query.
fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;
    use crate::urls::Route;

    const ROUTES: &[Route] = &[
        Route {
            name: "login",
            path: "/accounts/login/",
            view: "LoginView",
        },
        Route {
            name: "password_reset_confirm",
            path: "/reset/<uidb64>/<token>/",
            view: "PasswordResetConfirmView",
        },
    ];

    fn render(source: &str) -> Result<String, Error> {
        let mut env = Environment::new();
        register(&mut env, Urls::new(ROUTES));
        env.render_str(source, context! { uid => "MQ", token => "a/b?c" })
    }

    #[test]
    fn names_reverse_to_their_paths() {
        assert_eq!(render(r#"{{ url("login") }}"#).unwrap(), "/accounts/login/");
        assert_eq!(
            render(r#"{{ url("password_reset_confirm", uidb64=uid, token=token) }}"#).unwrap(),
            "/reset/MQ/a%2Fb%3Fc/"
        );
    }

    #[test]
    fn mistakes_are_errors_that_say_what_exists() {
        let unknown = render(r#"{{ url("logn") }}"#).unwrap_err().to_string();
        assert!(
            unknown.contains("declared: login, password_reset_confirm"),
            "{unknown}"
        );
        let missing = render(r#"{{ url("password_reset_confirm", uidb64=uid) }}"#)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("needs token="), "{missing}");
        assert!(render(r#"{{ url("login", extra=1) }}"#).is_err());
        // Any value prints as a segment; nothing panics.
        let none = render(r#"{{ url("password_reset_confirm", uidb64=42, token=none) }}"#)
            .unwrap_err()
            .to_string();
        assert!(none.contains("needs token="), "{none}");
        assert_eq!(
            render(r#"{{ url("password_reset_confirm", uidb64=42, token="t") }}"#).unwrap(),
            "/reset/42/t/"
        );
    }
}
