//! The fourth security review's findings, probed as the reviewer probed
//! them: the example's binary serving a fresh SQLite file on a loopback
//! port, driven over HTTP with a cookie jar per browser and the exact
//! paths and field names (`/custom-login/`, `/login/`, `/login/verify/`,
//! `/account/mfa/totp/activate/`, `/account/mfa/passkeys/`).
//!
//! `ACCOUNTS_BIN=path/to/accounts` runs them against another build of
//! the example (a release build, or one from before a fix).

use std::{
    process::{Child, Command},
    sync::Arc,
    time::{Duration, Instant},
};

const SECRET: &str = "security-e2e-secret-key-security-e2e-secret";
const PASSWORD: &str = "wonderland-42";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The example serving a fresh database, with alice created; killed when
/// dropped.
struct Site {
    base: String,
    db: String,
    env: Vec<(String, String)>,
    server: Child,
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

impl Site {
    /// The binary: `ACCOUNTS_BIN` when set (another build, to compare),
    /// else the one cargo built for these tests.
    fn binary() -> std::path::PathBuf {
        std::env::var_os("ACCOUNTS_BIN")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_accounts").into())
    }

    fn command(db: &str, env: &[(String, String)]) -> Command {
        let mut command = Command::new(Self::binary());
        command
            .env("DATABASE_URL", db)
            .env("REDIS_URL", "")
            .env("AUTH_SECRET_KEY", SECRET)
            .env("AUTH_USER_PASSWORD", PASSWORD)
            .env("AUTH_EMAIL_BACKEND", "memory")
            .env("RUST_LOG", "error")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    }

    /// Serving on `localhost:PORT` (passkeys are bound to it), with these
    /// settings in its environment.
    fn start(settings: &[(&str, &str)]) -> Site {
        let dir = std::env::temp_dir().join(format!(
            "accounts-security-{}",
            auth::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let db = format!("sqlite://{}/auth.db?mode=rwc", dir.display());
        let port = free_port();
        let base = format!("http://localhost:{port}");
        let mut env: Vec<(String, String)> = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.push(("AUTH_MFA_PASSKEY_ORIGIN".into(), base.clone()));
        let run = |args: &[&str]| {
            let status = Self::command(&db, &env)
                .args(args)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "{args:?}");
        };
        run(&["migrate"]);
        run(&[
            "createuser",
            "--noinput",
            "--username",
            "alice",
            "--email",
            "alice@example.com",
        ]);
        let server = Self::command(&db, &env)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .spawn()
            .expect("the example starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the example did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Site {
            base,
            db,
            env,
            server,
        }
    }

    fn browser(&self) -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            // `localhost` names the loopback address the server listens on.
            .resolve("localhost", std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .build()
            .unwrap();
        Browser {
            client,
            jar,
            base: self.base.clone(),
        }
    }

    /// The `events` command's lines for `username`.
    fn events(&self, username: &str) -> String {
        let out = Self::command(&self.db, &self.env)
            .args(["events", username])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// One browser: a cookie jar.
struct Browser {
    client: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
    base: String,
}

/// A response, read whole.
struct Answer {
    status: u16,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

impl Browser {
    async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let body = response.text().await.unwrap();
        Answer {
            status,
            location,
            cookies,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        let url = format!("{}{path}", self.base);
        Self::read(self.client.get(url).send().await.unwrap()).await
    }

    /// The page's CSRF token.
    async fn token(&self, path: &str) -> String {
        let page = self.get(path).await;
        let marker = "name=\"csrfmiddlewaretoken\" value=\"";
        let start = page
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("{path}: {} {}", page.status, page.body))
            + marker.len();
        page.body[start..start + page.body[start..].find('"').unwrap()].to_owned()
    }

    /// POSTs `fields` to `path` with the token of the form at `form`.
    async fn post(&self, form: &str, path: &str, fields: &[(&str, &str)]) -> Answer {
        let token = self.token(form).await;
        let mut all = vec![("csrfmiddlewaretoken", token.as_str())];
        all.extend_from_slice(fields);
        let url = format!("{}{path}", self.base);
        Self::read(self.client.post(url).form(&all).send().await.unwrap()).await
    }

    /// Submits the form at `path`.
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.post(path, path, fields).await
    }

    async fn log_in(&self, username: &str, password: &str) -> Answer {
        self.submit("/login/", &[("username", username), ("password", password)])
            .await
    }

    /// Whether the browser is logged in (the profile page answers).
    async fn logged_in(&self) -> bool {
        self.get("/profile/").await.status == 200
    }

    /// Forgets the cookie `name` (a browser without it).
    fn without_cookie(&self, name: &str) -> Browser {
        use reqwest::cookie::CookieStore;
        let url: url::Url = self.base.parse().unwrap();
        let jar = Arc::new(reqwest::cookie::Jar::default());
        if let Some(header) = self.jar.cookies(&url) {
            for pair in header.to_str().unwrap().split("; ") {
                if !pair.starts_with(&format!("{name}=")) {
                    jar.add_cookie_str(pair, &url);
                }
            }
        }
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .resolve("localhost", std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .build()
            .unwrap();
        Browser {
            client,
            jar,
            base: self.base.clone(),
        }
    }
}

/// The TOTP code of `secret` now.
fn totp_now(secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    auth::mfa::testing::code_at(secret, now).unwrap()
}

/// Turns TOTP on for the logged-in `browser`: the secret.
async fn enrol_totp(browser: &Browser) -> String {
    let page = browser.get("/account/mfa/totp/activate/").await;
    let marker = "id=\"totp-secret\">";
    let start = page.body.find(marker).expect("the secret") + marker.len();
    let secret = page.body[start..start + page.body[start..].find('<').unwrap()].to_owned();
    let done = browser
        .submit(
            "/account/mfa/totp/activate/",
            &[("code", &totp_now(&secret))],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    secret
}

/// Item 1: `/custom-login/` (authenticate + login in the seed) never logs
/// a user with TOTP in on the password alone.
#[tokio::test]
async fn the_custom_login_view_asks_for_the_second_factor() {
    let site = Site::start(&[]);
    let owner = site.browser();
    assert_eq!(owner.log_in("alice", PASSWORD).await.status, 303);
    enrol_totp(&owner).await;

    let thief = site.browser();
    let page = thief
        .post(
            "/custom-login/",
            "/custom-login/",
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location.as_deref(), Some("/login/verify/?next=%2F"));
    assert!(
        !thief.logged_in().await,
        "the password alone is not a login"
    );
}

/// Item 15: 20 clients logging in as one user from one address at the
/// same moment all get in.
#[tokio::test]
async fn twenty_correct_logins_at_once_all_pass() {
    let site = Site::start(&[]);
    let browsers: Vec<Browser> = (0..20).map(|_| site.browser()).collect();
    let mut tokens = Vec::new();
    for browser in &browsers {
        tokens.push(browser.token("/login/").await);
    }
    let logins = browsers.iter().zip(&tokens).map(|(browser, token)| {
        let url = format!("{}/login/", browser.base);
        let fields = [
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ];
        let request = browser.client.post(url).form(&fields);
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures_util::future::join_all(logins).await;
    assert!(statuses.iter().all(|s| *s == 303), "{statuses:?}");
}

/// Item 13: with `AUTH_SESSION_IDLE_TIMEOUT=3`, a session used every
/// second stays; left alone for longer than that, it ends.
#[tokio::test]
async fn a_busy_session_outlives_a_three_second_idle_timeout() {
    let site = Site::start(&[("AUTH_SESSION_IDLE_TIMEOUT", "3")]);
    let browser = site.browser();
    assert_eq!(browser.log_in("alice", PASSWORD).await.status, 303);
    for second in 0..6 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(browser.logged_in().await, "second {second}");
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!browser.logged_in().await, "idle past the timeout");
}

/// Registers a synced passkey (its counter always 0) for the logged-in
/// `owner`.
async fn add_synced_passkey(site: &Site, owner: &Browser) -> auth::mfa::testing::SoftPasskey {
    let options = owner
        .post(
            "/account/mfa/passkeys/",
            "/account/mfa/passkeys/",
            &[("action", "passkey_options")],
        )
        .await;
    assert_eq!(options.status, 200, "{}", options.body);
    let (passkey, credential) =
        auth::mfa::testing::SoftPasskey::create_synced(&options.body, &site.base);
    let added = owner
        .submit(
            "/account/mfa/passkeys/",
            &[
                ("action", "add"),
                ("credential", &credential),
                ("name", "Synced"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    passkey
}

/// Items 2 and 7: asking for passkey options writes no session; an
/// assertion is accepted once, only with its own challenge: not over an
/// empty one, not without its cookie, not twice (a synced passkey's
/// counter stays 0, so the challenge alone must tell).
#[tokio::test]
async fn a_passkey_answer_needs_its_challenge_and_works_once() {
    let site = Site::start(&[]);
    let owner = site.browser();
    assert_eq!(owner.log_in("alice", PASSWORD).await.status, 303);
    let mut passkey = add_synced_passkey(&site, &owner).await;
    let refused = "could not be used";

    // Over an empty challenge, where none was issued.
    let empty = r#"{"rpId":"localhost","challenge":"","allowCredentials":[]}"#;
    let answer = passkey.get(empty, &site.base);
    let anyone = site.browser();
    let page = anyone
        .post("/login/", "/login/", &[("credential", &answer)])
        .await;
    assert!(page.body.contains(refused), "{} {}", page.status, page.body);
    assert!(
        !anyone.logged_in().await,
        "an empty challenge logs nobody in"
    );

    let stranger = site.browser();
    let options = stranger
        .post("/login/", "/login/", &[("action", "passkey_options")])
        .await;
    assert_eq!(options.status, 200);
    assert!(
        !options.cookies.iter().any(|c| c.starts_with("sessionid=")),
        "no session for asking: {:?}",
        options.cookies
    );
    let answer = passkey.get(&options.body, &site.base);

    // Without its challenge cookie: refused.
    let elsewhere = stranger.without_cookie("authwebauthn");
    let page = elsewhere
        .post("/login/", "/login/", &[("credential", &answer)])
        .await;
    assert!(page.body.contains(refused), "{}", page.body);
    assert!(!elsewhere.logged_in().await);

    // With it, once.
    let page = stranger
        .post("/login/", "/login/", &[("credential", &answer)])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(stranger.logged_in().await);
    for replay in [site.browser(), elsewhere] {
        let page = replay
            .post("/login/", "/login/", &[("credential", &answer)])
            .await;
        assert!(page.body.contains(refused), "{}", page.body);
        assert!(!replay.logged_in().await, "a replay logs nobody in");
    }
}

/// Item 4: a forged user handle (or a credential nobody registered)
/// never counts against the user it names: alice still logs in.
#[tokio::test]
async fn a_forged_user_handle_locks_nobody_out() {
    let site = Site::start(&[
        ("AUTH_LOGIN_FAILURE_LIMIT", "3"),
        ("AUTH_LOGIN_FAILURE_LIMIT_PER_USER", "5"),
    ]);
    let owner = site.browser();
    assert_eq!(owner.log_in("alice", PASSWORD).await.status, 303);
    let mut passkey = add_synced_passkey(&site, &owner).await;
    passkey.forget_registration();
    passkey.claim_user(1);
    let attacker = site.browser();
    for _ in 0..8 {
        let options = attacker
            .post("/login/", "/login/", &[("action", "passkey_options")])
            .await;
        if options.status != 200 {
            break;
        }
        let answer = passkey.get(&options.body, &site.base);
        let page = attacker
            .post("/login/", "/login/", &[("credential", &answer)])
            .await;
        assert_ne!(page.status, 303);
    }
    let later = site.browser();
    let page = later.log_in("alice", PASSWORD).await;
    assert_eq!(page.status, 303, "alice is not locked out: {}", page.body);
}

/// Item 3: wrong codes at the second step end the pending login after
/// three, and are counted apart from the password (the log says so).
#[tokio::test]
async fn wrong_codes_end_the_pending_login() {
    let site = Site::start(&[]);
    let owner = site.browser();
    assert_eq!(owner.log_in("alice", PASSWORD).await.status, 303);
    enrol_totp(&owner).await;
    let thief = site.browser();
    let page = thief.log_in("alice", PASSWORD).await;
    assert_eq!(page.location.as_deref(), Some("/login/verify/"));
    for _ in 0..2 {
        let page = thief.submit("/login/verify/", &[("code", "000001")]).await;
        assert_eq!(page.status, 200);
    }
    let page = thief.submit("/login/verify/", &[("code", "000001")]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/login/"));
    let login = thief.get("/login/").await;
    assert!(
        login.body.contains("Too many wrong codes"),
        "{}",
        login.body
    );
    assert!(!thief.logged_in().await);
    let events = site.events("alice");
    assert!(events.matches("mfa_failed").count() >= 3, "{events}");
}
