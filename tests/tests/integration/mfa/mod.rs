//! Two-factor login on every backend: TOTP enrolment through the views,
//! the staged login (a pending session is anonymous to every guard,
//! extractor and template, and expires), the second step's throttle,
//! recovery codes, replay, deactivation and `auth.mfa().reset`.

use std::time::Duration;

use auth::audit::EventFilter;
use auth::events::EventKind;
use auth_tests::{User, app, client::Client};
use axum::routing::get;
use http::StatusCode;

mod attacks;

auth::auth_urls! {
    login: "/login/" => LoginView,
    logout: "/logout/" => LogoutView { next_page: "/" },
    reauthenticate: "/reauthenticate/" => ReauthenticateView,
    mfa_authenticate: "/login/verify/" => MfaAuthenticateView,
    mfa_index: "/account/mfa/" => MfaIndexView,
    totp_activate: "/account/mfa/totp/activate/" => TotpActivateView,
    totp_deactivate: "/account/mfa/totp/deactivate/" => TotpDeactivateView,
    recovery_codes: "/account/mfa/recovery-codes/" => RecoveryCodesView,
    passkeys: "/account/mfa/passkeys/" => PasskeysView,
}

/// The site the passkeys are bound to (`AUTH_SITE_URL`).
const ORIGIN: &str = "https://testserver";

#[auth::permission_required("accounts.view_user")]
async fn report() -> &'static str {
    "report"
}

async fn who(templates: auth::Templates) -> auth::Result<String> {
    Ok(templates
        .render("who.html", auth::minijinja::context! {})
        .await?
        .0)
}

fn settings() -> auth::Settings {
    auth::Settings {
        login_redirect_url: Some("/".into()),
        login_failure_limit: 3,
        cache_max_staleness: Duration::from_millis(200),
        site_url: Some(ORIGIN.into()),
        ..Default::default()
    }
}

async fn instance(db: &auth_tests::TestDb) -> auth::Auth<User> {
    instance_with(db, settings()).await
}

async fn instance_with(db: &auth_tests::TestDb, settings: auth::Settings) -> auth::Auth<User> {
    db.builder::<User>(settings)
        .urls(urls::URLCONF)
        .template(
            "who.html",
            "{% if user.is_authenticated %}in as {{ user.username }}{% else %}anonymous{% endif %}",
        )
        .build()
        .await
        .expect("builds")
}

fn client(auth: &auth::Auth<User>) -> Client {
    let routes = urls::router()
        .route("/", get(app::home))
        .route("/private/", get(app::private))
        .route("/report/", get(report))
        .route("/who/", get(who))
        .route("/csrf/", get(app::csrf));
    Client::new(routes.layer(auth.layer()))
}

/// The text between `start` and the next `<` in `body`.
fn text_after<'a>(body: &'a str, start: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    let rest = &body[from..];
    &rest[..rest.find('<').unwrap_or(rest.len())]
}

/// The recovery codes listed in `id="recovery-codes"`.
fn recovery_codes(body: &str) -> Vec<String> {
    let list = &body[body.find("id=\"recovery-codes\"").expect("the list")..];
    let list = &list[..list.find("</ul>").unwrap()];
    list.split("<code>")
        .skip(1)
        .map(|part| part[..part.find("</code>").unwrap()].to_owned())
        .collect()
}

/// Turns TOTP on for the logged-in `browser`: the secret, and the
/// recovery codes shown once.
async fn enrol(auth: &auth::Auth<User>, browser: &mut Client) -> (String, Vec<String>) {
    let (secret, codes, _activation) = enrol_spending(auth, browser).await;
    (secret, codes)
}

/// [`enrol`], and the code the activation spent (the code of the step it
/// ran in: reading the clock again later may land in the next step).
async fn enrol_spending(
    auth: &auth::Auth<User>,
    browser: &mut Client,
) -> (String, Vec<String>, String) {
    let page = browser.get("/account/mfa/totp/activate/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<svg"), "the QR code is inline SVG");
    assert!(page.body.contains("autocomplete=\"one-time-code\""));
    assert!(page.body.contains("inputmode=\"numeric\""));
    let secret = text_after(&page.body, "id=\"totp-secret\">").to_owned();
    assert_eq!(secret.len(), 32, "{secret}");
    let wrong = browser
        .submit_form("/account/mfa/totp/activate/", &[("code", "000000")])
        .await;
    let wrong_is_right = auth::mfa::testing::current_code(auth, &secret) == "000000";
    if !wrong_is_right {
        assert_eq!(wrong.status, StatusCode::OK);
        assert!(wrong.body.contains(auth::mfa::INVALID_CODE));
    }
    let code = auth::mfa::testing::current_code(auth, &secret);
    let page = browser
        .submit_form("/account/mfa/totp/activate/", &[("code", &code)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), Some("/account/mfa/recovery-codes/"));
    let head = http::Request::head("/account/mfa/recovery-codes/")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(browser.send(head).await.status, StatusCode::OK);
    let page = browser.get("/account/mfa/recovery-codes/").await;
    let codes = recovery_codes(&page.body);
    assert_eq!(codes.len(), 10, "{}", page.body);
    let again = browser.get("/account/mfa/recovery-codes/").await;
    assert!(!again.body.contains("id=\"recovery-codes\""), "shown once");
    assert!(again.body.contains("10 of 10 recovery codes left"));
    (secret, codes, code)
}

/// The password step: 303 to the second step, with `next` kept.
async fn password_step(browser: &mut Client, next: &str) {
    let login = format!("/login/?next={next}");
    let page = browser.get(&login).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = browser
        .submit_form(&login, &[("username", "alice"), ("password", "pw")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location().unwrap();
    assert!(location.starts_with("/login/verify/"), "{location}");
    assert!(location.contains(&next.replace('/', "%2F")), "{location}");
}

/// POSTs the passkey form's `action=passkey_options` at `url`: the
/// WebAuthn options (JSON).
async fn passkey_options(browser: &mut Client, url: &str) -> String {
    let page = browser.get(url).await;
    let token = page
        .input_value("csrfmiddlewaretoken")
        .unwrap_or_else(|| panic!("GET {url}: {} {}", page.status, page.body));
    let fields = [
        ("csrfmiddlewaretoken", token.as_str()),
        ("action", "passkey_options"),
    ];
    let options = browser.post(url, &fields).await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    options.body
}

/// POSTs a passkey's answer (`credential`) to the form at `url`.
async fn post_credential(
    browser: &mut Client,
    url: &str,
    fields: &[(&str, &str)],
) -> auth_tests::client::Page {
    let page = browser.get(url).await;
    let token = page.input_value("csrfmiddlewaretoken").unwrap();
    let mut all = vec![("csrfmiddlewaretoken", token.as_str())];
    all.extend_from_slice(fields);
    browser.post(url, &all).await
}

/// Adds a passkey named `name` for the logged-in `browser`.
async fn add_passkey(browser: &mut Client, name: &str) -> auth::mfa::testing::SoftPasskey {
    let options = passkey_options(browser, "/account/mfa/passkeys/").await;
    let (passkey, credential) = auth::mfa::testing::SoftPasskey::create(&options, ORIGIN);
    let fields = [
        ("action", "add"),
        ("credential", credential.as_str()),
        ("name", name),
    ];
    let page = post_credential(browser, "/account/mfa/passkeys/", &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    passkey
}

/// The stored state of the factor of `kind` (the first such row).
async fn stored_factor(db: &auth_tests::TestDb, kind: &str) -> String {
    use auth::sea_orm::{ConnectionTrait, Database, Statement};
    let conn = Database::connect(&db.url).await.unwrap();
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT data FROM auth_authenticator WHERE kind = '{kind}'"),
        ))
        .await
        .unwrap()
        .expect("a factor of that kind");
    let data: String = row.try_get_by_index(0).unwrap();
    conn.close().await.unwrap();
    data
}

async fn kinds(auth: &auth::Auth<User>) -> Vec<EventKind> {
    let filter = EventFilter {
        username: Some("alice".into()),
        ..Default::default()
    };
    let mut kinds: Vec<EventKind> = auth
        .events()
        .list(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    kinds.reverse();
    kinds
}

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    async fn totp_enrolment_and_a_staged_login(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        let alice = auth.users().create_superuser("alice", "", Some("pw")).await.unwrap();
        let mut browser = client(&auth);
        browser.log_in("/login/", "alice", "pw").await;
        let (secret, _codes, spent) = enrol_spending(&auth, &mut browser).await;
        let page = browser.get("/account/mfa/").await;
        assert!(page.body.contains("On: logging in asks for a code"), "{}", page.body);

        // Another browser: the password alone is not a login.
        let mut other = client(&auth);
        password_step(&mut other, "/private/").await;
        assert_eq!(other.get("/").await.body, "Welcome, Guest!");
        assert_eq!(other.get("/private/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(other.get("/report/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(other.get("/who/").await.body, "anonymous");
        assert_eq!(other.get("/account/mfa/").await.status, StatusCode::SEE_OTHER);

        let wrong = other.submit_form("/login/verify/?next=/private/", &[("code", "12345a")]).await;
        assert_eq!(wrong.status, StatusCode::OK);
        assert!(wrong.body.contains(auth::mfa::INVALID_CODE));
        // The code used to activate is spent: the next step's code works.
        let page = other.submit_form("/login/verify/?next=/private/", &[("code", &spent)]).await;
        assert!(page.body.contains(auth::mfa::INVALID_CODE), "a code is good once");
        auth::testing::advance_clock(&auth, 30);
        let code = auth::mfa::testing::current_code(&auth, &secret);
        let page = other.submit_form("/login/verify/?next=/private/", &[("code", &code)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), Some("/private/"));
        assert_eq!(other.get("/private/").await.body, "private for alice");
        assert_eq!(other.get("/report/").await.body, "report");
        assert_eq!(other.get("/who/").await.body, "in as alice");
        let method = auth.sessions().list_for(alice.id).await.unwrap();
        assert!(method.iter().any(|s| s.method.ends_with("+totp")), "{method:?}");

        // The same code in a third browser, same step: refused.
        let mut third = client(&auth);
        password_step(&mut third, "/").await;
        let page = third.submit_form("/login/verify/", &[("code", &code)]).await;
        assert!(page.body.contains(auth::mfa::INVALID_CODE), "replay refused");

        let seen = kinds(&auth).await;
        for kind in [EventKind::MfaEnabled, EventKind::MfaFailed, EventKind::UserLoggedIn] {
            assert!(seen.contains(&kind), "{kind:?} in {seen:?}");
        }
    }

    async fn recovery_codes_work_once_and_can_be_renewed(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut browser = client(&auth);
        browser.log_in("/login/", "alice", "pw").await;
        let (_secret, codes) = enrol(&auth, &mut browser).await;
        // Stored as ASVS 6.5.2 asks of codes under 112 bits: salted
        // argon2, not a plain digest, nothing of a code's secret part in
        // clear.
        let stored = stored_factor(&db, "recovery_codes").await;
        assert_eq!(stored.matches("$argon2id$").count(), 10, "{stored}");
        for code in &codes {
            let normal = code.replace('-', "");
            let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(normal.as_bytes()));
            assert!(!stored.contains(&digest) && !stored.contains(&normal[4..]), "{stored}");
        }

        let mut other = client(&auth);
        password_step(&mut other, "/").await;
        let typed = codes[3].to_uppercase();
        let page = other.submit_form("/login/verify/", &[("code", &typed)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(other.get("/").await.body, "Welcome, alice!");
        let page = other.get("/account/mfa/").await;
        assert!(page.body.contains("9 of 10 recovery codes left"), "{}", page.body);

        let mut third = client(&auth);
        password_step(&mut third, "/").await;
        let page = third.submit_form("/login/verify/", &[("code", &codes[3])]).await;
        assert!(page.body.contains(auth::mfa::INVALID_CODE), "used up");

        // A new set: the old codes stop working, the new ones are shown.
        let page = other.submit_form("/account/mfa/recovery-codes/", &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let renewed = recovery_codes(&page.body);
        assert_eq!(renewed.len(), 10);
        // Renewing ended alice's other sessions, the third browser's
        // pending login among them: the password again.
        let page = third.get("/login/verify/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), Some("/login/"));
        password_step(&mut third, "/").await;
        let page = third.submit_form("/login/verify/", &[("code", &codes[4])]).await;
        assert!(page.body.contains(auth::mfa::INVALID_CODE), "old set gone");
        let page = third.submit_form("/login/verify/", &[("code", &renewed[0])]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        // Renewing ended the other sessions (the first browser's).
        assert_eq!(browser.get("/").await.body, "Welcome, Guest!");
    }

    async fn the_pending_login_expires_and_the_code_step_is_throttled(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut browser = client(&auth);
        browser.log_in("/login/", "alice", "pw").await;
        let (secret, _) = enrol(&auth, &mut browser).await;

        let mut late = client(&auth);
        password_step(&mut late, "/private/").await;
        let form = late.get("/login/verify/?next=/private/").await;
        let token = form.input_value("csrfmiddlewaretoken").unwrap();
        auth::testing::advance_clock(&auth, 301);
        let code = auth::mfa::testing::current_code(&auth, &secret);
        let fields = [("csrfmiddlewaretoken", token.as_str()), ("code", &code)];
        let page = late.post("/login/verify/?next=/private/", &fields).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(page.location().unwrap().starts_with("/login/"), "{:?}", page.location());
        assert!(!page.location().unwrap().starts_with("/login/verify/"));
        assert_eq!(late.get("/").await.body, "Welcome, Guest!");

        // Wrong codes draw on the second factor's own budget
        // (AUTH_MFA_FAILURE_LIMIT, 5 per window), which the right
        // password does not reset; three end the pending login.
        let mut guesser = client(&auth);
        password_step(&mut guesser, "/").await;
        for _ in 0..2 {
            let page = guesser.submit_form("/login/verify/", &[("code", "111111")]).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains(auth::mfa::INVALID_CODE));
        }
        let page = guesser.submit_form("/login/verify/", &[("code", "111111")]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "the third ends the pending login");
        assert_eq!(page.location(), Some("/login/"));
        let page = guesser.get("/login/").await;
        assert!(page.body.contains("Too many wrong codes. Log in again."), "{}", page.body);
        assert_eq!(guesser.get("/login/verify/").await.status, StatusCode::SEE_OTHER);
        // The password again (it resets no count of the second factor):
        // two more wrong codes reach the limit of 5.
        password_step(&mut guesser, "/").await;
        for _ in 0..2 {
            let page = guesser.submit_form("/login/verify/", &[("code", "111111")]).await;
            assert_eq!(page.status, StatusCode::OK);
        }
        let code = auth::mfa::testing::current_code(&auth, &secret);
        let page = guesser.submit_form("/login/verify/", &[("code", &code)]).await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
        assert_eq!(guesser.get("/").await.body, "Welcome, Guest!");
        // Not even a fresh password step gets past it in this window.
        let mut owner = client(&auth);
        password_step(&mut owner, "/").await;
        let page = owner.submit_form("/login/verify/", &[("code", &code)]).await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    }

    async fn members_of_a_required_group_set_up_totp_before_they_are_logged_in(backend: Backend) {
        let db = backend.database().await;
        let required = auth::Settings {
            mfa_required: auth::mfa::MfaRequired::Groups,
            mfa_required_groups: vec!["admins".into()],
            ..settings()
        };
        let auth = instance_with(&db, required).await;
        let alice = auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        auth.users().create_user("bob", "", Some("pw")).await.unwrap();
        auth.permissions().create_group("admins").await.unwrap();
        auth.permissions().add_to_group(&alice, "admins").await.unwrap();

        let mut bob = client(&auth);
        let page = bob.log_in("/login/", "bob", "pw").await;
        assert_eq!(page.location(), Some("/"), "bob is in no required group");

        let mut browser = client(&auth);
        let login = "/login/?next=/private/";
        browser.get(login).await;
        let page = browser.submit_form(login, &[("username", "alice"), ("password", "pw")]).await;
        assert_eq!(
            page.location(),
            Some("/account/mfa/totp/activate/?next=%2Fprivate%2F"),
            "{}",
            page.body
        );
        // Nothing else until it is done.
        assert_eq!(browser.get("/private/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(browser.get("/who/").await.body, "anonymous");
        assert_eq!(browser.get("/account/mfa/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(browser.get("/account/mfa/recovery-codes/").await.status, StatusCode::SEE_OTHER);

        let page = browser.get("/account/mfa/totp/activate/?next=/private/").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Your account needs two-factor authentication"));
        let secret = text_after(&page.body, "id=\"totp-secret\">").to_owned();
        let code = auth::mfa::testing::current_code(&auth, &secret);
        let page = browser
            .submit_form("/account/mfa/totp/activate/?next=/private/", &[("code", &code)])
            .await;
        assert_eq!(page.location(), Some("/account/mfa/recovery-codes/"), "{}", page.body);
        let page = browser.get("/account/mfa/recovery-codes/").await;
        assert_eq!(recovery_codes(&page.body).len(), 10);
        assert!(page.body.contains("<a href=\"/private/\" id=\"continue\">"), "{}", page.body);
        assert_eq!(browser.get("/private/").await.body, "private for alice");
        let sessions = auth.sessions().list_for(alice.id).await.unwrap();
        assert!(sessions[0].method.ends_with("+totp"), "{sessions:?}");

        // From now on, the second step as for anyone with a factor.
        let mut later = client(&auth);
        password_step(&mut later, "/").await;
    }

    async fn passkeys_as_a_second_factor_and_alone(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        let alice = auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut browser = client(&auth);
        browser.log_in("/login/", "alice", "pw").await;
        let mut passkey = add_passkey(&mut browser, "Laptop\u{7}  ").await;
        let page = browser.get("/account/mfa/recovery-codes/").await;
        assert_eq!(recovery_codes(&page.body).len(), 10, "the first factor makes codes");
        let page = browser.get("/account/mfa/passkeys/").await;
        assert!(page.body.contains("<strong>Laptop</strong>"), "{}", page.body);

        // The second step, with the passkey.
        let mut other = client(&auth);
        password_step(&mut other, "/private/").await;
        let page = other.get("/login/verify/?next=/private/").await;
        assert!(page.body.contains("Use a passkey"), "{}", page.body);
        let options = passkey_options(&mut other, "/login/verify/?next=/private/").await;
        assert!(options.contains("allowCredentials"), "{options}");
        let answer = passkey.get(&options, ORIGIN);
        let page = post_credential(&mut other, "/login/verify/?next=/private/", &[("credential", &answer), ("next", "/private/")]).await;
        assert_eq!(page.location(), Some("/private/"), "{}", page.body);
        assert_eq!(other.get("/private/").await.body, "private for alice");

        // A passkey alone, from the login page: only when the
        // authenticator verified the user.
        let mut third = client(&auth);
        let page = third.get("/login/").await;
        assert!(page.body.contains("Sign in with a passkey"), "{}", page.body);
        let options = passkey_options(&mut third, "/login/").await;
        assert!(options.contains("\"userVerification\":\"required\""), "{options}");
        let unverified = passkey.get_unverified(&options, ORIGIN);
        let page = post_credential(&mut third, "/login/", &[("credential", &unverified)]).await;
        assert!(page.body.contains("This passkey could not be used to log in."), "{}", page.body);
        let options = passkey_options(&mut third, "/login/").await;
        let answer = passkey.get(&options, ORIGIN);
        let page = post_credential(&mut third, "/login/", &[("credential", &answer)]).await;
        assert_eq!(page.location(), Some("/"), "{}", page.body);
        assert_eq!(third.get("/").await.body, "Welcome, alice!");
        let sessions = auth.sessions().list_for(alice.id).await.unwrap();
        assert!(sessions.iter().any(|s| s.method.ends_with("+passkey")), "{sessions:?}");

        // A replayed answer, and a clone whose counter went back.
        let mut fourth = client(&auth);
        let page = post_credential(&mut fourth, "/login/", &[("credential", &answer)]).await;
        assert!(page.body.contains("could not be used"), "a replay: {}", page.body);
        passkey.rewind(2);
        let options = passkey_options(&mut fourth, "/login/").await;
        let cloned = passkey.get(&options, ORIGIN);
        let page = post_credential(&mut fourth, "/login/", &[("credential", &cloned)]).await;
        assert!(page.body.contains("could not be used"), "a clone: {}", page.body);
        assert_eq!(fourth.get("/").await.body, "Welcome, Guest!");

        // Rename, then remove: the password alone logs in again.
        let id = auth.mfa().status(alice.id).await.unwrap();
        assert_eq!(id.iter().map(|f| f.kind.as_str()).collect::<Vec<_>>(), ["webauthn", "recovery_codes"]);
        let page = third.get("/account/mfa/passkeys/").await;
        let passkey_id = text_after(&page.body, "name=\"passkey\" value=\"").split('"').next().unwrap().to_owned();
        let page = third
            .submit_form("/account/mfa/passkeys/", &[("action", "rename"), ("passkey", &passkey_id), ("name", "Phone")])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert!(third.get("/account/mfa/passkeys/").await.body.contains("<strong>Phone</strong>"));
        let page = third
            .submit_form("/account/mfa/passkeys/", &[("action", "remove"), ("passkey", "999999")])
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        let page = third
            .submit_form("/account/mfa/passkeys/", &[("action", "remove"), ("passkey", &passkey_id)])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(auth.mfa().status(alice.id).await.unwrap().is_empty(), "codes went with it");
        let page = client(&auth).log_in("/login/", "alice", "pw").await;
        assert_eq!(page.location(), Some("/"));
    }

    async fn deactivation_and_reset_end_two_factor_login(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        let alice = auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut browser = client(&auth);
        browser.log_in("/login/", "alice", "pw").await;
        enrol(&auth, &mut browser).await;
        let page = browser.submit_form("/account/mfa/totp/deactivate/", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert!(auth.mfa().status(alice.id).await.unwrap().is_empty(), "codes gone too");
        let mut other = client(&auth);
        let page = other.log_in("/login/", "alice", "pw").await;
        assert_eq!(page.location(), Some("/"), "no second step any more");

        enrol(&auth, &mut browser).await;
        let status = auth.mfa().status(alice.id).await.unwrap();
        let kinds: Vec<&str> = status.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds, ["totp", "recovery_codes"]);
        assert_eq!(status[1].codes_left, Some((10, 10)));
        let mut script = crate::cli::Script::new(&[]);
        let (result, out) = crate::cli::run(&auth, &["mfa", "status", "alice"], &mut script).await;
        result.unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].starts_with("totp  added 20") && lines[0].ends_with("last used never"), "{out}");
        assert!(lines[1].starts_with("recovery_codes  added") && lines[1].ends_with("10 of 10 left"), "{out}");
        let (result, out) = crate::cli::run(&auth, &["mfa", "reset", "alice"], &mut script).await;
        result.unwrap();
        assert_eq!(out.trim(), "Removed 2 factor(s) of 'alice' and ended their sessions.");
        assert_eq!(self::kinds(&auth).await.last(), Some(&EventKind::MfaDisabled), "logged under her name");
        let (result, _) = crate::cli::run(&auth, &["mfa", "reset", "nobody"], &mut script).await;
        assert!(matches!(result, Err(auth::cli::CommandError::Usage(_))));
        assert!(auth.mfa().status(alice.id).await.unwrap().is_empty());
        assert_eq!(browser.get("/").await.body, "Welcome, Guest!", "sessions ended");
        let page = client(&auth).log_in("/login/", "alice", "pw").await;
        assert_eq!(page.location(), Some("/"));
    }
}

/// The views that change the factors ask for a recent authentication:
/// without a `ReauthenticateView`, `check` says so for each.
#[tokio::test]
async fn the_factor_views_without_a_reauthenticate_view_fail_the_checks() {
    auth::auth_urls! {
        pub mod lonely;
        login: "/login/" => LoginView,
        mfa_authenticate: "/login/verify/" => MfaAuthenticateView,
        totp_activate: "/account/mfa/totp/activate/" => TotpActivateView,
        recovery_codes: "/account/mfa/recovery-codes/" => RecoveryCodesView,
    }
    let db = auth_tests::Backend::Sqlite.database().await;
    let auth = db
        .builder::<User>(settings())
        .urls(lonely::URLCONF)
        .build()
        .await
        .unwrap();
    let report = auth::checks::run_checks(&auth, auth::checks::Scope::check(false)).to_string();
    for view in ["TotpActivateView", "RecoveryCodesView"] {
        assert!(
            report.contains(&format!("(auth.E005) the {view} at")),
            "{view} in {report}"
        );
    }
    let complete = instance(&db).await;
    let report = auth::checks::run_checks(&complete, auth::checks::Scope::check(false));
    assert!(!report.contains("auth.E005"), "{report}");
}

/// `AUTH_MFA_REQUIRED` that cannot be met is `auth.E007`: the views to
/// set a factor up and to use it are not declared, or `groups` names none.
#[tokio::test]
async fn a_requirement_nobody_can_meet_fails_the_checks() {
    auth::auth_urls! {
        pub mod bare;
        login: "/login/" => LoginView,
    }
    let db = auth_tests::Backend::Sqlite.database().await;
    let staff = auth::Settings {
        mfa_required: auth::mfa::MfaRequired::Staff,
        ..settings()
    };
    let auth = db
        .builder::<User>(staff.clone())
        .urls(bare::URLCONF)
        .build()
        .await
        .unwrap();
    let report = auth::checks::run_checks(&auth, auth::checks::Scope::check(false)).to_string();
    assert!(
        report.contains("(auth.E007) AUTH_MFA_REQUIRED asks for a second factor, but MfaAuthenticateView and TotpActivateView are not in the app's URL table (they are not declared)"),
        "{report}"
    );
    let declared = instance_with(&db, staff).await;
    let report = auth::checks::run_checks(&declared, auth::checks::Scope::check(false));
    assert!(!report.contains("auth.E007"), "{report}");
    let no_groups = auth::Settings {
        mfa_required: auth::mfa::MfaRequired::Groups,
        ..settings()
    };
    let auth = instance_with(&db, no_groups).await;
    let report = auth::checks::run_checks(&auth, auth::checks::Scope::check(false)).to_string();
    assert!(
        report.contains("AUTH_MFA_REQUIRED_GROUPS: (auth.E007)"),
        "{report}"
    );
}

/// Item 18: the URL table forgotten (`.urls(urls::URLCONF)`) while the
/// two-factor views are routed: a user with TOTP is not logged in on the
/// password alone, `check` fails with `auth.E009`, and `auth.E007` names
/// the real cause.
#[tokio::test]
async fn a_forgotten_url_table_fails_closed_and_the_checks_say_why() {
    let db = auth_tests::Backend::Sqlite.database().await;
    let without_table = |settings| db.builder::<User>(settings).build();
    let auth = without_table(settings()).await.unwrap();
    auth.users()
        .create_user("alice", "", Some("pw"))
        .await
        .unwrap();
    let mut browser = client(&auth);
    browser.log_in("/login/", "alice", "pw").await;
    let page = browser.get("/account/mfa/totp/activate/").await;
    let secret = text_after(&page.body, "id=\"totp-secret\">").to_owned();
    let code = auth::mfa::testing::current_code(&auth, &secret);
    let page = browser
        .submit_form("/account/mfa/totp/activate/", &[("code", &code)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "TOTP on: {}", page.body);
    let mut other = client(&auth);
    let page = other.log_in("/login/", "alice", "pw").await;
    assert_ne!(
        page.status,
        StatusCode::SEE_OTHER,
        "no login: {}",
        page.body
    );
    assert_eq!(
        other.get("/private/").await.status,
        StatusCode::SEE_OTHER,
        "anonymous"
    );
    let report = auth::checks::run_checks(&auth, auth::checks::Scope::check(false));
    assert!(report.has_errors());
    let text = report.to_string();
    assert!(
        text.contains("(auth.E009)") && text.contains("HINT: add `.urls("),
        "{text}"
    );

    let required = auth::Settings {
        mfa_required: auth::mfa::MfaRequired::Staff,
        ..settings()
    };
    let auth = without_table(required).await.unwrap();
    let text = auth::checks::run_checks(&auth, auth::checks::Scope::check(false)).to_string();
    assert!(
        text.contains("are not in the app's URL table (the builder was given no URL table"),
        "{text}"
    );
    let declared = instance(&db).await;
    let report = auth::checks::run_checks(&declared, auth::checks::Scope::check(false));
    assert!(!report.to_string().contains("auth.E009"), "{report}");
}

/// Item 20: a group of `AUTH_MFA_REQUIRED_GROUPS` that does not exist is
/// a warning at start-up and an error with `--deploy`.
#[tokio::test]
async fn a_required_group_that_does_not_exist_is_reported() {
    let db = auth_tests::Backend::Sqlite.database().await;
    let required = auth::Settings {
        mfa_required: auth::mfa::MfaRequired::Groups,
        mfa_required_groups: vec!["approver".into()],
        ..settings()
    };
    let auth = instance_with(&db, required.clone()).await;
    auth.permissions().create_group("approvers").await.unwrap();
    let w011 = |deploy: bool| {
        let report = auth::checks::run_checks(&auth, auth::checks::Scope::check(deploy));
        report.messages.into_iter().find(|m| m.id == "auth.W011")
    };
    let found = w011(false).expect("reported");
    assert!(!found.is_error(), "a warning at start-up");
    assert!(
        found
            .msg
            .contains("AUTH_MFA_REQUIRED_GROUPS names groups that do not exist (approver)"),
        "{found}"
    );
    assert!(
        w011(true).expect("reported").is_error(),
        "an error with --deploy"
    );
    let fixed = auth::Settings {
        mfa_required_groups: vec!["approvers".into()],
        ..required
    };
    let auth = instance_with(&db, fixed).await;
    let report = auth::checks::run_checks(&auth, auth::checks::Scope::check(true));
    assert!(!report.to_string().contains("auth.W011"), "{report}");
}

/// A `PasskeysView` without `AUTH_SITE_URL` does not start: passkeys
/// would fail in every browser.
#[tokio::test]
async fn passkeys_without_a_site_url_stop_the_start() {
    let db = auth_tests::Backend::Sqlite.database().await;
    let Err(err) = db
        .builder::<User>(auth::Settings {
            site_url: None,
            ..settings()
        })
        .urls(urls::URLCONF)
        .build()
        .await
    else {
        panic!("must not start");
    };
    assert!(
        err.to_string()
            .contains("PasskeysView at /account/mfa/passkeys/ needs AUTH_SITE_URL"),
        "{err}"
    );
    // A site browsers offer no passkeys on: the app starts, and `check`
    // says why passkeys will not work there.
    let insecure = auth::Settings {
        site_url: Some("http://127.0.0.1:8000".into()),
        ..settings()
    };
    let auth = db
        .builder::<User>(insecure)
        .urls(urls::URLCONF)
        .build()
        .await
        .unwrap();
    let report = auth::checks::run_checks(&auth, auth::checks::Scope::check(false)).to_string();
    assert!(
        report.contains(
            "(auth.W010) the PasskeysView at /account/mfa/passkeys/ binds passkeys to http://127.0.0.1:8000"
        ),
        "{report}"
    );
    let secure = instance(&db).await;
    let report = auth::checks::run_checks(&secure, auth::checks::Scope::check(false));
    assert!(!report.contains("auth.W010"), "{report}");
}

auth_tests::backend_tests! {
    backends: [sqlite, postgres, mysql];

    /// Item 4's index on a database made before it: `migrate` adds the
    /// unique credential column to the authenticator table, fills it in
    /// for the passkeys already there, and a passkey login finds them.
    async fn migrate_indexes_the_passkeys_of_an_older_table(backend: Backend) {
        use auth::sea_orm::{ConnectionTrait, Database, DbBackend};
        let db = backend.database().await;
        let auth = instance(&db).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut browser = client(&auth);
        browser.log_in("/login/", "alice", "pw").await;
        let mut passkey = add_passkey(&mut browser, "Laptop").await;

        // The table as an older version made it, with that passkey's row.
        let conn = Database::connect(&db.url).await.unwrap();
        let (id, timestamp) = match conn.get_database_backend() {
            DbBackend::Postgres => ("bigserial PRIMARY KEY", "timestamp with time zone"),
            DbBackend::MySql => ("bigint AUTO_INCREMENT PRIMARY KEY", "timestamp"),
            _ => ("integer PRIMARY KEY AUTOINCREMENT", "timestamp_with_timezone_text"),
        };
        for sql in [
            "ALTER TABLE auth_authenticator RENAME TO auth_authenticator_new".to_owned(),
            format!(
                "CREATE TABLE auth_authenticator (id {id}, user_id bigint NOT NULL, \
                 kind varchar(32) NOT NULL, data text NOT NULL, created_at {timestamp} NOT NULL, \
                 last_used_at {timestamp} NULL)"
            ),
            "INSERT INTO auth_authenticator (id, user_id, kind, data, created_at, last_used_at) \
             SELECT id, user_id, kind, data, created_at, last_used_at FROM auth_authenticator_new"
                .to_owned(),
            "DROP TABLE auth_authenticator_new".to_owned(),
        ] {
            conn.execute_unprepared(&sql).await.unwrap();
        }
        conn.close().await.unwrap();

        let upgraded = instance(&db).await;
        let mut other = client(&upgraded);
        let options = passkey_options(&mut other, "/login/").await;
        let answer = passkey.get(&options, ORIGIN);
        let page = post_credential(&mut other, "/login/", &[("credential", &answer)]).await;
        assert_eq!(page.location(), Some("/"), "{}", page.body);
        assert_eq!(other.get("/who/").await.body, "in as alice");
        // A third start finds the column and leaves it.
        instance(&db).await;
    }
}
