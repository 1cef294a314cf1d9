//! Parsers under random input: cookies, session records, stored password
//! hashes, CSRF tokens and form bodies made of random bytes never panic
//! and never produce a 5xx through the router.

use std::{str::FromStr, sync::OnceLock};

use auth_tests::{User, client::Client, fresh_auth};
use axum::body::Body;
use http::{HeaderValue, Request, header};
use proptest::prelude::*;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
};

auth::auth_urls! {
    login: "/login-view/" => LoginView,
    logout: "/logout-view/" => LogoutView,
    password_change: "/password-change/" => PasswordChangeView { success_url: "/" },
}

/// One app for every case of a test, on its own runtime.
struct Fixture {
    runtime: tokio::runtime::Runtime,
    auth: auth::Auth<User>,
    router: axum::Router,
    /// A logged-in session's cookie.
    cookie: String,
    token: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (auth, router, cookie, token) = runtime.block_on(async {
            let auth = fresh_auth::<User>().await;
            auth.users()
                .create_user("alice", "", Some("alice-password"))
                .await
                .unwrap();
            let router = auth_tests::app::routes(&auth)
                .merge(urls::router())
                .layer(auth.layer());
            let mut client = Client::new(router.clone());
            client
                .post_with_csrf(
                    "/login/",
                    &[("username", "alice"), ("password", "alice-password")],
                )
                .await;
            let token = client.csrf_token().await;
            let cookie = client
                .jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            (auth, router, cookie, token)
        });
        Fixture {
            runtime,
            auth,
            router,
            cookie,
            token,
        }
    })
}

/// Sends `req` and returns its status (never panicking on the way).
fn status_of(req: Request<Body>) -> u16 {
    let f = fixture();
    f.runtime.block_on(async {
        let mut client = Client::new(f.router.clone());
        client.send(req).await.status.as_u16()
    })
}

/// Bytes that may appear in a header value (visible ASCII, space, tab,
/// and obs-text), as a client can send them.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![0x20u8..0x7f, Just(b'\t'), 0x80u8..=0xff],
        0..200,
    )
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2000),
        // Form-shaped noise.
        prop::collection::vec(
            prop::sample::select(b"=&%+;abc_\x00\xff\r\n-".to_vec()),
            0..500
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_cookies_never_give_a_server_error(raw in header_bytes(), path in prop::sample::select(vec!["/", "/profile/", "/cart/", "/login-view/"])) {
        let value = HeaderValue::from_bytes(&raw).unwrap();
        for name in ["sessionid", "csrftoken"] {
            let mut cookie = format!("{name}=").into_bytes();
            cookie.extend_from_slice(value.as_bytes());
            let req = Request::get(path)
                .header(header::COOKIE, HeaderValue::from_bytes(&cookie).unwrap())
                .body(Body::empty())
                .unwrap();
            prop_assert!(status_of(req) < 500, "{name}={value:?} on {path}");
        }
        let req = Request::get(path).header(header::COOKIE, value.clone()).body(Body::empty()).unwrap();
        prop_assert!(status_of(req) < 500, "Cookie: {value:?}");
    }

    #[test]
    fn random_csrf_tokens_never_give_a_server_error(raw in header_bytes()) {
        let f = fixture();
        let token = String::from_utf8_lossy(&raw).into_owned();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("csrfmiddlewaretoken", &token)
            .finish();
        let req = Request::post("/ping/")
            .header(header::COOKIE, &f.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let status = status_of(req);
        prop_assert!(status == 200 || status == 403, "{status} for {token:?}");
        let req = Request::post("/ping/")
            .header(header::COOKIE, &f.cookie)
            .header("x-csrftoken", HeaderValue::from_bytes(&raw).unwrap())
            .body(Body::empty())
            .unwrap();
        let status = status_of(req);
        prop_assert!(status == 200 || status == 403, "{status} for header {token:?}");
    }

    #[test]
    fn random_form_bodies_never_give_a_server_error(
        body in body_bytes(),
        content_type in prop::sample::select(vec![
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=utf-16",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/json",
            "text/plain",
            "",
        ]),
        path in prop::sample::select(vec!["/login-view/", "/logout-view/", "/password-change/", "/login/", "/cart/"]),
        with_token in any::<bool>(),
    ) {
        let f = fixture();
        let mut full = body.clone();
        if with_token && content_type.starts_with("application/x-www-form-urlencoded") {
            full.extend_from_slice(format!("&csrfmiddlewaretoken={}", f.token).as_bytes());
        }
        let mut req = Request::post(path).header(header::COOKIE, &f.cookie);
        if !content_type.is_empty() {
            req = req.header(header::CONTENT_TYPE, content_type);
        }
        let status = status_of(req.body(Body::from(full)).unwrap());
        prop_assert!(status < 500, "{status} for {content_type:?} on {path}");
    }

    #[test]
    fn random_session_records_never_give_a_server_error(
        keys in prop::collection::vec(prop::sample::select(vec![
            "_auth_user_id", "_auth_user_hash", "_auth_user_backend", "cart", "x",
        ]), 0..4),
        values in prop::collection::vec(json_value(), 4),
        garbage in prop::option::of(body_bytes()),
    ) {
        let f = fixture();
        let id = f.runtime.block_on(async {
            let store = auth::testing::session_store(&f.auth);
            let mut record = Record {
                id: Id::default(),
                data: keys.iter().zip(values).map(|(k, v)| (k.to_string(), v)).collect(),
                expiry_date: auth::DateTime::now_utc() + time::Duration::hours(1),
            };
            store.create(&mut record).await.unwrap();
            if let Some(garbage) = &garbage {
                // Undecodable data in the row itself.
                use auth::sea_orm::{ConnectionTrait, Statement};
                let db = f.auth.db();
                db.execute_raw(Statement::from_sql_and_values(
                    db.get_database_backend(),
                    "UPDATE auth_session SET session_data = ? WHERE session_key = ?",
                    [String::from_utf8_lossy(garbage).into_owned().into(), record.id.to_string().into()],
                ))
                .await
                .unwrap();
            }
            record.id
        });
        for path in ["/", "/profile/", "/cart/"] {
            let req = Request::get(path)
                .header(header::COOKIE, format!("sessionid={id}"))
                .body(Body::empty())
                .unwrap();
            let status = status_of(req);
            prop_assert!(status < 500, "{status} on {path}");
        }
        let _ = Id::from_str(&id.to_string()).unwrap();
    }

    #[test]
    fn random_stored_hashes_never_verify_or_panic(raw in ".{0,120}", password in ".{0,20}") {
        let hasher = auth::password::Hasher::new(8, 1, 1).unwrap();
        let prefixed = [raw.clone(), format!("$argon2id${raw}"), format!("argon2$argon2id${raw}"),
            format!("pbkdf2_sha256$1000${raw}"), format!("$argon2id$v=19${raw}")];
        for encoded in prefixed {
            // Not asserting a mismatch: a random string is not a hash of
            // `password`, but a well-formed one could be.
            let _ = hasher.check(&password, &encoded);
        }
    }
}

/// Arbitrary JSON values, nested a little.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,80}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("1")),
        Just(serde_json::Value::from("auth.ModelBackend")),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::hash_map(".{0,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
