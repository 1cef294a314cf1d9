//! The fourth security review's findings against two-factor login, each
//! tried as the reviewer tried it, on every backend: a login on the
//! password alone through the primitives or a reset, passkey answers
//! without their own unused challenge, a forged user handle, a pending
//! login that outlives the password or the sessions, a planted session's
//! two-factor state, writes anonymous requests make, and the mail the
//! owner gets.

use auth::audit::EventFilter;
use auth::events::EventKind;
use auth_tests::{User, app, client::Client};
use axum::{Form, routing::post};
use http::{Request, StatusCode, header};

use super::{
    ORIGIN, client, enrol, instance_with, passkey_options, password_step, post_credential,
    settings, text_after,
};

auth::auth_urls! {
    mod reset_urls;
    login: "/accounts/login/" => LoginView,
    reset: "/reset/" => PasswordResetView,
    reset_sent: "/reset/sent/" => PasswordResetDoneView,
    reset_confirm: "/reset/<uidb64>/<token>/" => PasswordResetConfirmView { post_reset_login: true, success_url: "/" },
    reset_complete: "/reset/complete/" => PasswordResetCompleteView,
    reauthenticate: "/reauthenticate/" => ReauthenticateView,
    mfa_authenticate: "/login/verify/" => MfaAuthenticateView,
    totp_activate: "/account/mfa/totp/activate/" => TotpActivateView,
    recovery_codes: "/account/mfa/recovery-codes/" => RecoveryCodesView,
}

/// The WebAuthn challenge cookie.
const CHALLENGE_COOKIE: &str = "authwebauthn";

#[derive(serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

/// A custom login view on `authenticate` + `login`, as the seed had it.
async fn primitive_login(
    session: auth::Session,
    Form(form): Form<Credentials>,
) -> auth::Result<&'static str> {
    match auth::authenticate::<User>(&session, &form.username, &form.password).await? {
        Some(user) => {
            auth::login(&session, &user).await?;
            Ok("logged in")
        }
        None => Ok("invalid"),
    }
}

/// The same view on `authenticate` + `stage_login`.
async fn staged_login(
    session: auth::Session,
    Form(form): Form<Credentials>,
) -> auth::Result<axum::response::Response> {
    use axum::response::{IntoResponse, Redirect};
    let Some(user) = auth::authenticate::<User>(&session, &form.username, &form.password).await?
    else {
        return Ok("invalid".into_response());
    };
    Ok(
        match auth::stage_login(&session, &user, Some("/private/")).await? {
            auth::LoginStage::Pending { url } => Redirect::to(&url).into_response(),
            _ => "logged in".into_response(),
        },
    )
}

/// The mfa tests' client, with the two custom login views.
fn custom_client(auth: &auth::Auth<User>) -> Client {
    let routes = axum::Router::new()
        .route("/primitive-login/", post(primitive_login))
        .route("/staged-login/", post(staged_login));
    let base = client(auth);
    Client::new(base.router().merge(routes.layer(auth.layer())))
}

/// `status` of the page the custom view at `path` answers for alice.
async fn custom_login(browser: &mut Client, path: &str) -> auth_tests::client::Page {
    browser
        .post_with_csrf(path, &[("username", "alice"), ("password", "pw")])
        .await
}

/// A POST of `fields` from `ip` (behind the trusted proxy header).
async fn post_from(
    browser: &mut Client,
    ip: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> auth_tests::client::Page {
    let token = browser.csrf_token().await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .append_pair("csrfmiddlewaretoken", &token)
        .finish();
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-for", ip)
        .body(body.into())
        .unwrap();
    browser.send(request).await
}

/// Adds a synced passkey (its counter always 0) for the logged-in
/// `browser`.
async fn add_synced_passkey(browser: &mut Client) -> auth::mfa::testing::SoftPasskey {
    let options = passkey_options(browser, "/account/mfa/passkeys/").await;
    let (passkey, credential) = auth::mfa::testing::SoftPasskey::create_synced(&options, ORIGIN);
    let fields = [
        ("action", "add"),
        ("credential", credential.as_str()),
        ("name", "Synced"),
    ];
    let page = post_credential(browser, "/account/mfa/passkeys/", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    passkey
}

/// The login page's passkey options, asked from `ip`.
async fn options_from(browser: &mut Client, ip: &str) -> auth_tests::client::Page {
    post_from(browser, ip, "/login/", &[("action", "passkey_options")]).await
}

/// Settings with the client's address from `X-Forwarded-For`.
fn proxied() -> auth::Settings {
    auth::Settings {
        trusted_proxy_header: Some("x-forwarded-for".into()),
        ..settings()
    }
}

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    /// Item 1: `auth::login` refuses a user with a second factor on the
    /// password alone; `auth::stage_login` sends them to the second step.
    async fn the_login_primitive_never_skips_the_second_factor(backend: Backend) {
        let db = backend.database().await;
        let auth = instance_with(&db, settings()).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut browser = client(&auth);
        browser.log_in("/login/", "alice", "pw").await;
        let (secret, _) = enrol(&auth, &mut browser).await;

        let mut custom = custom_client(&auth);
        let page = custom_login(&mut custom, "/primitive-login/").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
        assert!(page.body.contains("two-factor authentication"), "{}", page.body);
        assert_eq!(custom.get("/who/").await.body, "anonymous");
        assert_eq!(custom.get("/private/").await.status, StatusCode::SEE_OTHER);

        let page = custom_login(&mut custom, "/staged-login/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), Some("/login/verify/?next=%2Fprivate%2F"));
        assert_eq!(custom.get("/who/").await.body, "anonymous", "pending, not in");
        auth::testing::advance_clock(&auth, 30);
        let code = auth::mfa::testing::current_code(&auth, &secret);
        let page = custom
            .submit_form("/login/verify/?next=/private/", &[("code", &code)])
            .await;
        assert_eq!(page.location(), Some("/private/"), "{}", page.body);
        assert_eq!(custom.get("/who/").await.body, "in as alice");
    }

    /// Item 1: a user who must set up a second factor is not logged in by
    /// the primitive either; staged, they go to the set-up.
    async fn the_login_primitive_never_skips_a_required_enrolment(backend: Backend) {
        let db = backend.database().await;
        let required = auth::Settings {
            mfa_required: auth::mfa::MfaRequired::Superusers,
            ..settings()
        };
        let auth = instance_with(&db, required).await;
        auth.users().create_superuser("alice", "", Some("pw")).await.unwrap();
        let mut custom = custom_client(&auth);
        let page = custom_login(&mut custom, "/primitive-login/").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
        assert_eq!(custom.get("/who/").await.body, "anonymous");
        let page = custom_login(&mut custom, "/staged-login/").await;
        assert_eq!(
            page.location(),
            Some("/account/mfa/totp/activate/?next=%2Fprivate%2F")
        );
        assert_eq!(custom.get("/who/").await.body, "anonymous");
    }

    /// Item 1: `post_reset_login: true` stages the login too.
    async fn a_reset_that_logs_in_asks_for_the_second_factor(backend: Backend) {
        let db = backend.database().await;
        let auth = db
            .builder::<User>(auth::Settings {
                email_backend: auth::EmailBackendKind::Memory,
                allowed_hosts: vec!["testserver".into()],
                ..settings()
            })
            .urls(reset_urls::URLCONF)
            .build()
            .await
            .unwrap();
        auth.users().create_user("alice", "alice@example.com", Some("pw")).await.unwrap();
        let routes = reset_urls::router().merge(app::routes(&auth));
        let mut browser = Client::new(routes.clone().layer(auth.layer()));
        browser.log_in("/accounts/login/", "alice", "pw").await;
        enrol(&auth, &mut browser).await;

        let mut other = Client::new(routes.layer(auth.layer()));
        let page = other.post_with_csrf("/reset/", &[("email", "alice@example.com")]).await;
        assert_eq!(page.location(), Some("/reset/sent/"), "{}", page.body);
        auth::testing::mail_idle(&auth).await;
        let outbox = auth.mail().outbox().unwrap();
        let reset = outbox.iter().find(|m| m.subject.starts_with("Password reset")).unwrap();
        let body = &reset.body;
        let start = body.find("https://testserver").unwrap() + "https://testserver".len();
        let link = body[start..].split_whitespace().next().unwrap().to_owned();
        let moved = other.get(&link).await;
        let form = moved
            .location()
            .unwrap_or_else(|| panic!("GET {link}: {} {}", moved.status, moved.body))
            .to_owned();
        let page = other
            .submit_form(&form, &[("new_password1", "looking-glass-77"), ("new_password2", "looking-glass-77")])
            .await;
        assert_eq!(page.location(), Some("/login/verify/"), "{}", page.body);
        assert_eq!(other.get("/").await.body, "Welcome, Guest!", "not logged in yet");
    }

    /// Item 2: a passkey answer is accepted only with the unused,
    /// unexpired challenge issued for that step: without one, for
    /// another step, late, or a second time (also at once) it is refused.
    async fn a_passkey_answer_needs_its_own_unused_challenge(backend: Backend) {
        let db = backend.database().await;
        let auth = instance_with(&db, settings()).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut browser = client(&auth);
        browser.log_in("/login/", "alice", "pw").await;
        // A synced passkey: its counter stays 0, so only the challenge
        // tells a replay.
        let mut passkey = add_synced_passkey(&mut browser).await;
        let refused = "This passkey could not be used to log in.";

        // An assertion over an empty challenge (an extension, a local
        // CTAP client), posted where no challenge was issued: before, ""
        // matched the missing challenge, from any session, forever.
        let empty = r#"{"rpId":"testserver","challenge":"","allowCredentials":[]}"#;
        let answer = passkey.get(empty, ORIGIN);
        for _ in 0..2 {
            let mut anyone = client(&auth);
            let page = post_credential(&mut anyone, "/login/", &[("credential", &answer)]).await;
            assert!(page.body.contains(refused), "empty challenge: {}", page.body);
            assert_eq!(anyone.get("/who/").await.body, "anonymous");
        }
        let mut elsewhere = client(&auth);
        password_step(&mut elsewhere, "/").await;
        let page = post_credential(&mut elsewhere, "/login/verify/", &[("credential", &answer)]).await;
        assert!(page.body.contains(auth::mfa::INVALID_CODE), "{}", page.body);

        // A registration's challenge (alice's own) does not pass her
        // second step either: the purpose is part of the challenge.
        let options = passkey_options(&mut browser, "/account/mfa/passkeys/").await;
        let options: serde_json::Value = serde_json::from_str(&options).unwrap();
        let as_login = serde_json::json!({ "rpId": options["rp"]["id"], "challenge": options["challenge"] });
        let answer = passkey.get(&as_login.to_string(), ORIGIN);
        let mut same_user = client(&auth);
        password_step(&mut same_user, "/").await;
        let registration = browser.jar[CHALLENGE_COOKIE].clone();
        same_user.jar.insert(CHALLENGE_COOKIE.into(), registration);
        let page = post_credential(&mut same_user, "/login/verify/", &[("credential", &answer)]).await;
        assert!(page.body.contains(auth::mfa::INVALID_CODE), "{}", page.body);
        assert_eq!(same_user.get("/who/").await.body, "anonymous");

        // No challenge cookie for a real one.
        let mut thief = client(&auth);
        let options = passkey_options(&mut thief, "/login/").await;
        let answer = passkey.get(&options, ORIGIN);
        thief.jar.remove(CHALLENGE_COOKIE);
        let page = post_credential(&mut thief, "/login/", &[("credential", &answer)]).await;
        assert!(page.body.contains(refused), "no challenge: {}", page.body);
        let mut fresh = client(&auth);
        let page = post_credential(&mut fresh, "/login/", &[("credential", &answer)]).await;
        assert!(page.body.contains(refused), "another session: {}", page.body);
        assert_eq!(fresh.get("/who/").await.body, "anonymous");

        // A login's challenge does not pass the second step.
        let mut other = client(&auth);
        let options = passkey_options(&mut other, "/login/").await;
        let answer = passkey.get(&options, ORIGIN);
        password_step(&mut other, "/").await;
        let page = post_credential(&mut other, "/login/verify/", &[("credential", &answer)]).await;
        assert!(page.body.contains(auth::mfa::INVALID_CODE), "{}", page.body);
        assert_eq!(other.get("/who/").await.body, "anonymous");

        // A registration without its challenge adds nothing.
        let options = passkey_options(&mut browser, "/account/mfa/passkeys/").await;
        let (_, credential) = auth::mfa::testing::SoftPasskey::create(&options, ORIGIN);
        browser.jar.remove(CHALLENGE_COOKIE);
        let page = post_credential(
            &mut browser,
            "/account/mfa/passkeys/",
            &[("action", "add"), ("credential", &credential), ("name", "Other")],
        )
        .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        let alice = auth.users().get_by_username("alice").await.unwrap().unwrap();
        let kinds = auth.mfa().status(alice.id).await.unwrap();
        assert_eq!(kinds.iter().filter(|f| f.kind == "webauthn").count(), 1);

        // Late: past the options' timeout.
        let mut late = client(&auth);
        let options = passkey_options(&mut late, "/login/").await;
        let answer = passkey.get(&options, ORIGIN);
        auth::testing::advance_clock(&auth, 301);
        let page = post_credential(&mut late, "/login/", &[("credential", &answer)]).await;
        assert!(page.body.contains(refused), "late: {}", page.body);

        // One answer posted four times at once logs in once.
        let mut first = client(&auth);
        let options = passkey_options(&mut first, "/login/").await;
        let answer = passkey.get(&options, ORIGIN);
        let token = first.get("/login/").await.input_value("csrfmiddlewaretoken").unwrap();
        let posts = (0..4).map(|_| {
            let mut copy = Client::new(first.router());
            copy.jar = first.jar.clone();
            let (answer, token) = (answer.clone(), token.clone());
            async move {
                copy.post("/login/", &[("csrfmiddlewaretoken", &token), ("credential", &answer)])
                    .await
            }
        });
        let pages = futures_util::future::join_all(posts).await;
        let in_ = pages.iter().filter(|p| p.status == StatusCode::SEE_OTHER).count();
        assert_eq!(in_, 1, "{:?}", pages.iter().map(|p| p.status).collect::<Vec<_>>());
        for page in pages.iter().filter(|p| p.status != StatusCode::SEE_OTHER) {
            assert!(page.body.contains(refused), "{}", page.body);
        }

    }

    /// Item 4: a passkey login takes its user from the credential, never
    /// from the handle the client sent; a forged handle or an unknown
    /// credential counts against the client's address only.
    async fn a_forged_user_handle_locks_nobody_out(backend: Backend) {
        let db = backend.database().await;
        let limits = auth::Settings {
            login_failure_limit: 2,
            login_failure_limit_per_user: 3,
            login_failure_limit_per_ip: 8,
            ..proxied()
        };
        let auth = instance_with(&db, limits).await;
        let alice = auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        auth.users().create_user("eve", "", Some("eve-pw")).await.unwrap();
        let mut eve = client(&auth);
        eve.log_in("/login/", "eve", "eve-pw").await;
        let mut key = super::add_passkey(&mut eve, "Eve's").await;
        let refused = "This passkey could not be used to log in.";

        // Eve's own key, claiming alice: refused.
        key.claim_user(alice.id);
        let mut attacker = client(&auth);
        let options = options_from(&mut attacker, "203.0.113.9").await;
        let answer = key.get(&options.body, ORIGIN);
        let page = post_from(&mut attacker, "203.0.113.9", "/login/", &[("credential", &answer)]).await;
        assert!(page.body.contains(refused), "{}", page.body);
        assert_eq!(attacker.get("/who/").await.body, "anonymous");

        // A key nobody registered, claiming alice, until the address is
        // locked: every answer the same, whoever it names.
        key.forget_registration();
        let mut statuses = Vec::new();
        for _ in 0..12 {
            let options = options_from(&mut attacker, "203.0.113.9").await;
            if options.status != StatusCode::OK {
                statuses.push(options.status);
                break;
            }
            let answer = key.get(&options.body, ORIGIN);
            let page = post_from(&mut attacker, "203.0.113.9", "/login/", &[("credential", &answer)]).await;
            if page.status == StatusCode::OK {
                assert!(page.body.contains(refused), "{}", page.body);
            }
            statuses.push(page.status);
        }
        assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");

        // Alice is not locked out: her password from elsewhere works.
        let mut owner = client(&auth);
        let page = post_from(
            &mut owner,
            "198.51.100.1",
            "/login/",
            &[("username", "alice"), ("password", "pw")],
        )
        .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(owner.get("/who/").await.body, "in as alice");
    }

    /// Item 5: a pending login dies with the password it was typed
    /// against, and with the user's sessions.
    async fn a_pending_login_ends_with_the_password_and_the_sessions(backend: Backend) {
        let db = backend.database().await;
        let auth = instance_with(&db, settings()).await;
        let mut alice = auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut browser = client(&auth);
        browser.log_in("/login/", "alice", "pw").await;
        let (secret, _) = enrol(&auth, &mut browser).await;

        let mut stolen = client(&auth);
        password_step(&mut stolen, "/").await;
        auth.users().set_password(&mut alice, "new-pw").await.unwrap();
        auth::testing::advance_clock(&auth, 30);
        let code = auth::mfa::testing::current_code(&auth, &secret);
        let page = stolen.get("/login/verify/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "a new password ends it");
        assert_eq!(stolen.get("/who/").await.body, "anonymous");

        let mut stolen = client(&auth);
        stolen.log_in("/login/", "alice", "new-pw").await;
        assert_eq!(stolen.get("/login/verify/").await.status, StatusCode::OK);
        let ended = auth.sessions().end_all_for(alice.id).await.unwrap();
        assert!(ended >= 1, "the pending login is among the sessions ended");
        let page = stolen.get("/login/verify/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "ending the sessions ends it");
        let page = stolen.post_with_csrf("/login/verify/", &[("code", &code)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(stolen.get("/who/").await.body, "anonymous");
    }

    /// Item 6: a session planted before a login carries no two-factor
    /// state into it: the victim is never offered the planter's secret.
    async fn a_planted_session_hands_over_no_totp_secret(backend: Backend) {
        let db = backend.database().await;
        let required = auth::Settings {
            mfa_required: auth::mfa::MfaRequired::Superusers,
            ..settings()
        };
        let auth = instance_with(&db, required).await;
        auth.users().create_superuser("mallory", "", Some("m-pw")).await.unwrap();
        auth.users().create_superuser("alice", "", Some("pw")).await.unwrap();
        let mut planted = client(&auth);
        planted.log_in("/login/", "mallory", "m-pw").await;
        let page = planted.get("/account/mfa/totp/activate/").await;
        let mallorys = text_after(&page.body, "id=\"totp-secret\">").to_owned();
        // The victim's browser holds mallory's session cookie.
        let page = planted.log_in("/login/", "alice", "pw").await;
        assert_eq!(page.location(), Some("/account/mfa/totp/activate/"));
        let page = planted.get("/account/mfa/totp/activate/").await;
        let offered = text_after(&page.body, "id=\"totp-secret\">").to_owned();
        assert_ne!(offered, mallorys, "alice is offered a secret of her own");
    }

    /// Item 7: asking for passkey login options writes no session and is
    /// limited per address; a lockout is logged once per key and window.
    async fn anonymous_requests_make_no_durable_writes(backend: Backend) {
        let db = backend.database().await;
        let limits = auth::Settings {
            login_failure_limit: 2,
            login_failure_limit_per_ip: 5,
            ..proxied()
        };
        let auth = instance_with(&db, limits).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let before = auth::testing::session_count(&auth).await.unwrap();
        let mut anonymous = client(&auth);
        let mut statuses = Vec::new();
        for _ in 0..7 {
            let page = options_from(&mut anonymous, "203.0.113.7").await;
            assert!(page.set_cookie("sessionid").is_none(), "no session cookie");
            statuses.push(page.status);
        }
        assert_eq!(&statuses[..5], [StatusCode::OK; 5]);
        assert_eq!(statuses[6], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
        assert_eq!(auth::testing::session_count(&auth).await.unwrap(), before, "no session stored");

        // Twelve refused logins: one lockout event.
        let mut guesser = client(&auth);
        for _ in 0..14 {
            post_from(&mut guesser, "198.51.100.4", "/login/", &[("username", "alice"), ("password", "x")]).await;
        }
        let filter = EventFilter {
            username: Some("alice".into()),
            ..Default::default()
        };
        let lockouts = auth
            .events()
            .list(&filter)
            .await
            .unwrap()
            .into_iter()
            .filter(|event| event.kind == EventKind::LoginLockedOut)
            .count();
        assert_eq!(lockouts, 1);
    }

    /// Item 8 (ASVS 6.3.7): the owner is mailed when a factor is added or
    /// removed, when the recovery codes are renewed, and when wrong
    /// answers at the second step pile up.
    async fn factor_changes_and_failures_are_mailed(backend: Backend) {
        let db = backend.database().await;
        let mailed = auth::Settings {
            email_backend: auth::EmailBackendKind::Memory,
            ..settings()
        };
        let auth = instance_with(&db, mailed).await;
        auth.users().create_user("alice", "alice@example.com", Some("pw")).await.unwrap();
        let mut browser = client(&auth);
        browser.log_in("/login/", "alice", "pw").await;
        enrol(&auth, &mut browser).await;
        browser.submit_form("/account/mfa/recovery-codes/", &[]).await;
        let mut guesser = client(&auth);
        password_step(&mut guesser, "/").await;
        for _ in 0..3 {
            guesser.post_with_csrf("/login/verify/", &[("code", "111111")]).await;
        }
        browser.submit_form("/account/mfa/totp/deactivate/", &[]).await;
        auth::testing::mail_idle(&auth).await;
        let subjects: Vec<String> = auth
            .mail()
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|m| m.to == ["alice@example.com"])
            .map(|m| m.subject)
            .collect();
        for subject in [
            "A second factor was added to your account",
            "Your recovery codes were renewed",
            "Someone may have your password",
            "A second factor was removed from your account",
        ] {
            assert!(subjects.iter().any(|s| s == subject), "{subject} in {subjects:?}");
        }
    }
}
