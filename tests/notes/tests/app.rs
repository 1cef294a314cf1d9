//! The notes site run as its developer would: the CLI with a required
//! unique field (options, environment, prompts), its own command, a bare
//! guard under `/accounts/` routes, and the settings the login follows.

use std::{collections::VecDeque, process::Command};

use auth::cli::{CommandError, Management, Prompt};
use auth_tests::client::Client;
use http::StatusCode;
use notes::Member;

const SECRET: &str = "notes-secret-key-notes-secret-key-notes-secret";

/// A fresh database for the binary.
fn database() -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("notes-{}", auth::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("notes.db").display());
    (dir, url)
}

/// Runs the notes binary from another working directory, as a deployed app
/// would be.
fn notes(url: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_notes"));
    command
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", url)
        .env("AUTH_SECRET_KEY", SECRET)
        .env("RUST_LOG", "error");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the notes binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_cli_fills_the_required_unique_field_from_options_and_the_environment() {
    let (dir, url) = database();
    let out = notes(
        &url,
        &[
            "createsuperuser",
            "--noinput",
            "--username",
            "alice",
            "--display-name",
            "Alice",
        ],
        &[("AUTH_SUPERUSER_PASSWORD", "alice-password-1")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Superuser created successfully.\n");

    let out = notes(
        &url,
        &["createuser", "--noinput", "--username", "bob"],
        &[
            ("AUTH_USER_PASSWORD", "bob-password-12"),
            ("AUTH_USER_DISPLAY_NAME", "Bob"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The field is required, unique and checked.
    let out = notes(
        &url,
        &["createuser", "--noinput", "--username", "carol"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("You must use --display-name with --noinput"),
        "{}",
        text(&out.stderr)
    );
    let out = notes(
        &url,
        &[
            "createuser",
            "--noinput",
            "--username",
            "carol",
            "--display-name",
            "Bob",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("That display name is already taken."),
        "{}",
        text(&out.stderr)
    );
    let out = notes(
        &url,
        &[
            "createuser",
            "--noinput",
            "--username",
            "carol",
            "--display-name",
            "Carol",
            "--karma",
            "lots",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("karma: Enter a whole number."),
        "{}",
        text(&out.stderr)
    );

    // The app's own command, listed next to the built-in ones.
    let help = notes(&url, &["--help"], &[]);
    let help = text(&help.stdout);
    assert!(
        help.contains("givekarma") && help.contains("createsuperuser"),
        "{help}"
    );
    let out = notes(&url, &["givekarma", "bob", "5"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Bob now has 5 karma.\n");
    let out = notes(&url, &["givekarma", "nobody", "5"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("user 'nobody' does not exist"));
    std::fs::remove_dir_all(dir).ok();
}

/// Answers prompts from a script.
struct Script(VecDeque<&'static str>, Vec<String>);

impl Prompt for Script {
    fn line(&mut self, prompt: &str) -> std::io::Result<String> {
        self.1.push(prompt.to_owned());
        self.0
            .pop_front()
            .map(str::to_owned)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "script ran out"))
    }
    fn password(&mut self, prompt: &str) -> std::io::Result<String> {
        self.line(prompt)
    }
    fn is_interactive(&self) -> bool {
        true
    }
}

async fn never_serve(_: auth::Auth<Member>, _: std::net::SocketAddr) -> auth::Result<()> {
    unreachable!("no serve in these tests")
}

/// Runs a command in-process with `builder`, answering prompts.
async fn run(
    url: &str,
    args: &[&str],
    answers: &[&'static str],
) -> (Result<(), CommandError>, String, Vec<String>) {
    let builder = notes::builder().database_url(url).settings(auth::Settings {
        secret_key: Some(SECRET.into()),
        ..Default::default()
    });
    let mut script = Script(answers.iter().copied().collect(), Vec::new());
    let mut out = Vec::new();
    let result = Management::new(builder)
        .run_with(
            std::iter::once("notes").chain(args.iter().copied()),
            never_serve,
            &mut script,
            &mut out,
        )
        .await;
    (result, text(&out), script.1)
}

#[tokio::test]
async fn createsuperuser_asks_for_the_required_field_until_it_is_valid() {
    let (dir, url) = database();
    let (result, _, _) = run(
        &url,
        &["createsuperuser", "--noinput", "--username", "taken"],
        &[],
    )
    .await;
    assert!(result.is_err(), "no display name with --noinput");
    let (result, ..) = run(
        &url,
        &[
            "createuser",
            "--noinput",
            "--username",
            "first",
            "--display-name",
            "Ada",
        ],
        &[],
    )
    .await;
    result.unwrap();

    let (result, out, asked) = run(
        &url,
        &["createsuperuser"],
        &[
            "grace",             // username
            "grace@example.com", // email
            "",                  // display name: blank, refused
            "Ada",               // taken, refused
            "Grace",             // display name
            "grace-password-9",  // password
            "grace-password-9",  // again
        ],
    )
    .await;
    result.unwrap();
    assert!(asked[0].starts_with("Username"), "{asked:?}");
    assert_eq!(
        asked[1..],
        [
            "Email address: ",
            "Display name: ",
            "Display name: ",
            "Display name: ",
            "Password: ",
            "Password (again): ",
        ]
    );
    assert!(out.contains("Error: This field cannot be blank."), "{out}");
    assert!(
        out.contains("Error: That display name is already taken."),
        "{out}"
    );
    assert!(out.ends_with("Superuser created successfully.\n"), "{out}");

    let auth = notes::builder()
        .database_url(&url)
        .settings(auth::Settings {
            secret_key: Some(SECRET.into()),
            ..Default::default()
        })
        .build()
        .await
        .unwrap();
    let grace = auth
        .users()
        .get_by_username("grace")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((grace.display_name.as_str(), grace.karma), ("Grace", 0));
    assert!(grace.is_superuser);
    assert!(
        auth.authenticate("grace", "grace-password-9")
            .await
            .unwrap()
            .is_some()
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn the_guard_and_the_login_follow_the_declared_urls_and_the_settings() {
    let (dir, url) = database();
    let auth = notes::builder()
        .database_url(&url)
        .settings(auth::Settings {
            secret_key: Some(SECRET.into()),
            login_redirect_url: Some("/notes/".into()),
            ..Default::default()
        })
        .build()
        .await
        .unwrap();
    let mut ada = auth
        .users()
        .create_user("ada", "", Some("ada-password-12"))
        .await
        .unwrap();
    ada.display_name = "Ada".into();
    auth.users().save(ada).await.unwrap();
    let mut client = Client::new(notes::app(&auth));

    // A bare #[login_required] sends visitors to the declared login route.
    let page = client.get("/notes/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/accounts/login/?next=/notes/"));

    // A login without `next` lands where the settings say.
    let form = client.get(notes::urls::LOGIN).await;
    let token = form.input_value("csrfmiddlewaretoken").unwrap();
    let page = client
        .post(
            notes::urls::LOGIN,
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("username", "ada"),
                ("password", "ada-password-12"),
            ],
        )
        .await;
    assert_eq!(page.location(), Some("/notes/"));
    assert_eq!(client.get("/notes/").await.body, "Notes of Ada (0 karma)");
    // The app's own template, found whatever the working directory.
    assert!(client.get("/").await.body.contains("Hello, Ada!"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn check_finds_nothing_to_fix_in_the_site() {
    let (dir, url) = database();
    let out = notes(&url, &["check"], &[("AUTH_LOGIN_REDIRECT_URL", "/notes/")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "System check identified no issues (0 silenced).\n"
    );
    // Without the redirect setting: a warning, still a success.
    let out = notes(&url, &["check"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("(auth.W004)"),
        "{}",
        text(&out.stdout)
    );
    // The production checks name what to set before deploying.
    let out = notes(
        &url,
        &["check", "--deploy"],
        &[("AUTH_LOGIN_REDIRECT_URL", "/")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for id in ["auth.W006", "auth.W007", "auth.W008"] {
        assert!(
            text(&out.stdout).contains(id),
            "{id}: {}",
            text(&out.stdout)
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

/// The newcomer's mistakes, compiled into this test binary (not into the
/// site): each compiles, and `check` names it.
mod mistakes {
    /// Right shape, never declared: every member would get 403.
    #[auth::permission_required("notes.edit_notes")]
    pub async fn edit() {}

    /// A login page no route serves.
    #[auth::login_required(login_url = "/accounts/signin/")]
    pub async fn drafts() {}
}

#[tokio::test]
async fn check_names_each_mistake_and_fails() {
    let _ = (mistakes::edit, mistakes::drafts);
    let (dir, url) = database();
    let (result, out, _) = run(&url, &["check"], &[]).await;
    assert_eq!(out, "", "the report goes to the error");
    let Err(CommandError::SystemCheck(report)) = result else {
        panic!("check passed: {result:?}");
    };
    let printed = report.to_string();
    assert!(
        printed.contains(
            "app::mistakes::edit: (auth.E001) #[permission_required] on app::mistakes::edit \
             requires notes.edit_notes, which is not a permission of this app"
        ),
        "{printed}"
    );
    assert!(
        printed.contains(
            "app::mistakes::drafts: (auth.W002) #[login_required] on app::mistakes::drafts \
             sends anonymous users to /accounts/signin/"
        ),
        "{printed}"
    );
    assert!(
        printed.contains("HINT: the declared login page is /accounts/login/"),
        "{printed}"
    );
    // `serve` runs the same checks and stops before serving (its serve
    // function would panic).
    let (result, _, _) = run(&url, &["serve", "--bind", "127.0.0.1:0"], &[]).await;
    assert!(
        matches!(&result, Err(CommandError::SystemCheck(r)) if r.contains("auth.E001")),
        "{result:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}
