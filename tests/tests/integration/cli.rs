//! Management commands driven through `cli::call_command` with scripted
//! answers.

use std::collections::VecDeque;

use auth::cli::{CommandError, Prompt, call_command};
use auth_tests::{User, fresh_auth};

/// Answers prompts from a script and records the questions.
pub(crate) struct Script {
    answers: VecDeque<&'static str>,
    asked: Vec<String>,
    interactive: bool,
}

impl Script {
    pub(crate) fn new(answers: &[&'static str]) -> Self {
        Script {
            answers: answers.iter().copied().collect(),
            asked: Vec::new(),
            interactive: true,
        }
    }
}

impl Prompt for Script {
    fn line(&mut self, prompt: &str) -> std::io::Result<String> {
        self.asked.push(prompt.to_owned());
        self.answers
            .pop_front()
            .map(str::to_owned)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "script ran out"))
    }
    fn password(&mut self, prompt: &str) -> std::io::Result<String> {
        self.line(prompt)
    }
    fn is_interactive(&self) -> bool {
        self.interactive
    }
}

pub(crate) async fn run(
    auth: &auth::Auth<User>,
    args: &[&str],
    script: &mut Script,
) -> (Result<(), CommandError>, String) {
    let mut out = Vec::new();
    let result = call_command(auth, args.iter().copied(), script, &mut out).await;
    (result, String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn createsuperuser_prompts_until_the_answers_are_valid() {
    let auth = fresh_auth::<User>().await;
    auth.users().create_user("taken", "", None).await.unwrap();
    let mut script = Script::new(&[
        "taken",             // username: refused
        "bad name",          // username: refused
        "admin",             // username
        "admin@EXAMPLE.com", // email
        "one",
        "two", // passwords differ
        "",
        "", // blank
        "s3cret-pw",
        "s3cret-pw",
    ]);
    let (result, out) = run(&auth, &["createsuperuser"], &mut script).await;
    result.unwrap();
    assert!(
        out.contains("Error: That username is already taken."),
        "{out}"
    );
    assert!(out.contains("Error: Enter a valid username."), "{out}");
    assert!(out.contains("Error: Your passwords didn't match."), "{out}");
    assert!(
        out.contains("Error: Blank passwords aren't allowed."),
        "{out}"
    );
    assert!(out.ends_with("Superuser created successfully.\n"), "{out}");
    assert!(script.asked.contains(&"Password (again): ".to_owned()));

    let admin = auth
        .authenticate("admin", "s3cret-pw")
        .await
        .unwrap()
        .unwrap();
    assert!(admin.is_superuser && admin.is_staff);
    assert_eq!(admin.email, "admin@example.com");
}

#[tokio::test]
async fn createuser_can_create_inactive_users() {
    let auth = fresh_auth::<User>().await;
    let mut script = Script::new(&["ivy-password-1", "ivy-password-1"]);
    let (result, out) = run(
        &auth,
        &[
            "createuser",
            "--username",
            "ivy",
            "--email",
            "",
            "--inactive",
        ],
        &mut script,
    )
    .await;
    result.unwrap();
    assert_eq!(out, "User created successfully.\n");
    let ivy = auth.users().get_by_username("ivy").await.unwrap().unwrap();
    assert!(!ivy.is_active && !ivy.is_staff);
    assert!(
        auth.authenticate("ivy", "ivy-password-1")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn noinput_needs_a_free_username() {
    let auth = fresh_auth::<User>().await;
    let mut script = Script::new(&[]);
    let (result, _) = run(&auth, &["createsuperuser", "--noinput"], &mut script).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "You must use --username with --noinput."
    );

    let (result, _) = run(
        &auth,
        &["createuser", "--noinput", "--username", "x y"],
        &mut script,
    )
    .await;
    assert!(
        result
            .unwrap_err()
            .to_string()
            .starts_with("Enter a valid username.")
    );

    // Without AUTH_USER_PASSWORD in the environment the password is unusable.
    let (result, _) = run(
        &auth,
        &["createuser", "--noinput", "--username", "zed"],
        &mut script,
    )
    .await;
    result.unwrap();
    assert!(
        !auth
            .users()
            .get_by_username("zed")
            .await
            .unwrap()
            .unwrap()
            .has_usable_password()
    );
    let (result, _) = run(
        &auth,
        &["createuser", "--noinput", "--username", "zed"],
        &mut script,
    )
    .await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "That username is already taken."
    );
}

#[tokio::test]
async fn interactive_commands_refuse_to_run_without_a_terminal() {
    let auth = fresh_auth::<User>().await;
    let mut script = Script::new(&[]);
    script.interactive = false;
    let (result, _) = run(&auth, &["createsuperuser"], &mut script).await;
    assert!(
        result
            .unwrap_err()
            .to_string()
            .contains("Not running in a TTY")
    );
}

#[tokio::test]
async fn changepassword_gives_three_tries() {
    let auth = fresh_auth::<User>().await;
    auth.users()
        .create_user("alice", "", Some("old-password"))
        .await
        .unwrap();

    let mut script = Script::new(&["a", "b", "c", "d", "e", "f"]);
    let (result, out) = run(&auth, &["changepassword", "alice"], &mut script).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "Aborting password change for user 'alice' after 3 attempts"
    );
    assert_eq!(
        out.matches("Passwords do not match. Please try again.")
            .count(),
        3
    );
    assert!(
        auth.authenticate("alice", "old-password")
            .await
            .unwrap()
            .is_some()
    );

    let mut script = Script::new(&["x", "y", "new-password", "new-password"]);
    let (result, out) = run(&auth, &["changepassword", "alice"], &mut script).await;
    result.unwrap();
    assert!(
        out.starts_with("Changing password for user 'alice'\n"),
        "{out}"
    );
    assert!(
        out.ends_with("Password changed successfully for user 'alice'\n"),
        "{out}"
    );
    assert!(
        auth.authenticate("alice", "old-password")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        auth.authenticate("alice", "new-password")
            .await
            .unwrap()
            .is_some()
    );

    let mut script = Script::new(&[""]);
    let (result, _) = run(&auth, &["changepassword", "alice"], &mut script).await;
    assert_eq!(result.unwrap_err().to_string(), "aborted");

    let (result, _) = run(&auth, &["changepassword", "nobody"], &mut script).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "user 'nobody' does not exist"
    );
}

#[tokio::test]
async fn migrate_says_what_it_created_then_that_nothing_is_left() {
    // The build migrated (the builder's default): the command reports it.
    let auth = fresh_auth::<User>().await;
    let (result, out) = run(&auth, &["migrate"], &mut Script::new(&[])).await;
    result.unwrap();
    assert!(out.starts_with("Created tables: "), "{out}");
    for table in [
        "accounts_user",
        "auth_session",
        "auth_permission",
        "auth_group",
    ] {
        assert!(out.contains(table), "{table}: {out}");
    }
    assert!(!out.contains("sqlite_"), "{out}");
    assert!(out.ends_with(" Added 4 permissions.\n"), "{out}");
    let (result, out) = run(&auth, &["migrate"], &mut Script::new(&[])).await;
    result.unwrap();
    assert_eq!(
        out,
        "No migrations to apply: every table and permission exists.\n"
    );
}

#[tokio::test]
async fn validation_can_be_bypassed_interactively() {
    let auth = fresh_auth::<User>().await;
    let mut script = Script::new(&["root", "", "root", "root", "y"]);
    let (result, out) = run(&auth, &["createsuperuser"], &mut script).await;
    result.unwrap();
    assert!(
        out.contains("The password is too similar to the username."),
        "{out}"
    );
    assert!(auth.authenticate("root", "root").await.unwrap().is_some());
}

#[tokio::test]
async fn changepassword_runs_the_validators() {
    let auth = fresh_auth::<User>().await;
    auth.users()
        .create_user("alice", "", Some("old-password"))
        .await
        .unwrap();
    let mut script = Script::new(&[
        "12345678",
        "12345678",
        "short",
        "short",
        "good-new-password",
        "good-new-password",
    ]);
    let (result, out) = run(&auth, &["changepassword", "alice"], &mut script).await;
    result.unwrap();
    assert!(out.contains("This password is entirely numeric."), "{out}");
    assert!(out.contains("This password is too short."), "{out}");
    assert!(
        auth.authenticate("alice", "good-new-password")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn clearsessions_reports_what_it_deleted() {
    let auth = fresh_auth::<User>().await;
    let (result, out) = run(&auth, &["clearsessions"], &mut Script::new(&[])).await;
    result.unwrap();
    assert_eq!(out, "Deleted 0 expired session(s).\n");
}

#[tokio::test]
async fn listsessions_and_endsessions_show_and_end_a_users_sessions() {
    let auth = fresh_auth::<User>().await;
    auth.users()
        .create_user("alice", "", Some("pw"))
        .await
        .unwrap();
    auth.users()
        .create_user("bob", "", Some("pw"))
        .await
        .unwrap();
    let mut clients = Vec::new();
    for name in ["alice", "alice", "bob"] {
        let mut client = auth_tests::client::Client::new(auth_tests::app::router(&auth));
        let page = client.log_in("/login/", name, "pw").await;
        assert_eq!(page.status, http::StatusCode::SEE_OTHER);
        clients.push(client);
    }
    let mut script = Script::new(&[]);
    let (result, out) = run(&auth, &["listsessions", "alice"], &mut script).await;
    result.unwrap();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.lines()
            .all(|line| line.contains("created") && line.contains("last seen")),
        "{out}"
    );

    let (result, out) = run(&auth, &["endsessions", "alice"], &mut script).await;
    result.unwrap();
    assert_eq!(out.trim(), "Ended 2 session(s) of 'alice'.");
    for client in &mut clients[..2] {
        assert_eq!(client.get("/").await.body, "Welcome, Guest!");
    }
    assert_eq!(clients[2].get("/").await.body, "Welcome, bob!");
    let (result, out) = run(&auth, &["listsessions", "alice"], &mut script).await;
    result.unwrap();
    assert_eq!(out.trim(), "No sessions for 'alice'.");

    let (result, _) = run(&auth, &["deactivateuser", "bob"], &mut script).await;
    result.unwrap();
    assert_eq!(clients[2].get("/").await.body, "Welcome, Guest!");
    let (result, _) = run(&auth, &["endsessions", "nobody"], &mut script).await;
    assert!(matches!(result, Err(CommandError::Usage(_))));
}

#[tokio::test]
async fn endsessions_all_logs_everyone_out() {
    let auth = fresh_auth::<User>().await;
    let mut clients = Vec::new();
    for name in ["alice", "bob"] {
        auth.users()
            .create_user(name, "", Some("pw"))
            .await
            .unwrap();
        let mut client = auth_tests::client::Client::new(auth_tests::app::router(&auth));
        let page = client.log_in("/login/", name, "pw").await;
        assert_eq!(page.status, http::StatusCode::SEE_OTHER);
        clients.push(client);
    }
    let mut script = Script::new(&[]);
    // Neither a user nor --all: a usage error, nothing ended.
    let (result, _) = run(&auth, &["endsessions"], &mut script).await;
    assert!(result.is_err());
    assert_eq!(clients[0].get("/").await.body, "Welcome, alice!");
    let (result, out) = run(&auth, &["endsessions", "--all"], &mut script).await;
    result.unwrap();
    assert!(
        out.trim().starts_with("Ended ")
            && out
                .trim()
                .ends_with("session(s): every user must log in again."),
        "{out}"
    );
    assert_ne!(
        out.trim(),
        "Ended 0 session(s): every user must log in again."
    );
    for client in &mut clients {
        assert_eq!(client.get("/").await.body, "Welcome, Guest!");
    }
}
