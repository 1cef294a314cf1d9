//! Security headers on every response of an app behind the auth layer, not
//! only on the built-in views (Django's `SecurityMiddleware` and
//! `XFrameOptionsMiddleware` defaults).

use auth_tests::{User, client::Client, fresh_auth_with};
use axum::{
    response::{Html, IntoResponse},
    routing::get,
};
use http::{HeaderValue, StatusCode, header};

async fn page() -> Html<&'static str> {
    Html("<p>an app page with a logout form</p>")
}

async fn framable() -> impl IntoResponse {
    (
        [(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        )],
        Html("<p>embeddable</p>"),
    )
}

async fn client(settings: auth::Settings) -> Client {
    let auth = fresh_auth_with::<User>(settings).await;
    let app = auth_tests::app::routes(&auth)
        .route("/page/", get(page))
        .route("/framable/", get(framable))
        .layer(auth.layer());
    Client::new(app)
}

fn header<'a>(page: &'a auth_tests::client::Page, name: &str) -> Option<&'a str> {
    page.headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn every_response_carries_djangos_security_headers() {
    let mut client = client(auth::Settings::default()).await;
    let html = client.get("/page/").await;
    assert_eq!(header(&html, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&html, "x-frame-options"), Some("DENY"));
    assert_eq!(header(&html, "referrer-policy"), Some("same-origin"));
    assert_eq!(
        header(&html, "cross-origin-opener-policy"),
        Some("same-origin")
    );

    // Not HTML: no frame options, the rest still.
    let text = client.get("/ping/").await;
    assert_eq!(header(&text, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&text, "x-frame-options"), None);
    assert_eq!(header(&text, "referrer-policy"), Some("same-origin"));

    // Refusals from the layer itself too (a CSRF 403).
    let refused = client.post("/ping/", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(header(&refused, "x-frame-options"), Some("DENY"));
    assert_eq!(header(&refused, "x-content-type-options"), Some("nosniff"));

    // A handler's own choice wins.
    let own = client.get("/framable/").await;
    assert_eq!(header(&own, "x-frame-options"), Some("SAMEORIGIN"));
}

#[tokio::test]
async fn each_header_can_be_switched_off_or_changed() {
    let settings = auth::Settings {
        secure_content_type_nosniff: false,
        x_frame_options: Some("SAMEORIGIN".into()),
        secure_referrer_policy: None,
        secure_cross_origin_opener_policy: None,
        ..Default::default()
    };
    let mut client = client(settings).await;
    let page = client.get("/page/").await;
    assert_eq!(header(&page, "x-content-type-options"), None);
    assert_eq!(header(&page, "x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(header(&page, "referrer-policy"), None);
    assert_eq!(header(&page, "cross-origin-opener-policy"), None);
}

#[test]
fn the_settings_read_the_environment() {
    let vars = [
        ("AUTH_SECURE_CONTENT_TYPE_NOSNIFF", "false"),
        ("AUTH_X_FRAME_OPTIONS", ""),
        ("AUTH_SECURE_REFERRER_POLICY", "no-referrer"),
        (
            "AUTH_SECURE_CROSS_ORIGIN_OPENER_POLICY",
            "same-origin-allow-popups",
        ),
    ];
    let settings = auth::Settings::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    assert!(!settings.secure_content_type_nosniff);
    assert_eq!(settings.x_frame_options, None);
    assert_eq!(
        settings.secure_referrer_policy.as_deref(),
        Some("no-referrer")
    );
    assert_eq!(
        settings.secure_cross_origin_opener_policy.as_deref(),
        Some("same-origin-allow-popups")
    );
}
