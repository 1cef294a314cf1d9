//! The example's permission pages end to end (`/reports/`, `/staff/`, the
//! home page's "Reports" link) for anonymous, plain, granted,
//! group-granted, staff and superusers, and the permission commands of its
//! binary.

use std::process::Command;

use accounts::{User, perms};
use auth_tests::client::{Client, Page};
use http::StatusCode;

const SECRET: &str = "perm-secret-key-perm-secret-key-perm-secret-key";
const PASSWORD: &str = "wonderland-42";

fn sqlite_db() -> String {
    let dir = std::env::temp_dir().join("accounts-perms");
    std::fs::create_dir_all(&dir).unwrap();
    format!(
        "sqlite://{}?mode=rwc",
        dir.join(format!("{}.db", auth::Uuid::new_v4().simple()))
            .display()
    )
}

/// The app with one user of each kind.
async fn app() -> (auth::Auth<User>, Client) {
    let mut settings = accounts::settings().unwrap();
    settings.secret_key = Some(SECRET.into());
    let auth = accounts::builder(settings)
        .database_url(sqlite_db())
        .build()
        .await
        .unwrap();
    for name in ["plain", "granted", "member", "staffer", "root", "retired"] {
        auth.users()
            .create_user(name, "", Some(PASSWORD))
            .await
            .unwrap();
    }
    let user = |name: &'static str| {
        let auth = auth.clone();
        async move { auth.users().get_by_username(name).await.unwrap().unwrap() }
    };
    auth.permissions()
        .grant(&user("granted").await, perms::accounts::VIEW_REPORT)
        .await
        .unwrap();
    auth.permissions().create_group("analysts").await.unwrap();
    auth.permissions()
        .grant_group("analysts", perms::accounts::VIEW_REPORT)
        .await
        .unwrap();
    auth.permissions()
        .add_to_group(&user("member").await, "analysts")
        .await
        .unwrap();
    let mut staffer = user("staffer").await;
    staffer.is_staff = true;
    auth.users().save(staffer).await.unwrap();
    let mut root = user("root").await;
    root.is_staff = true;
    root.is_superuser = true;
    auth.users().save(root).await.unwrap();
    let client = Client::new(accounts::app(&auth));
    (auth, client)
}

async fn log_in(client: &mut Client, username: &str) {
    let page = client.log_in("/login/", username, PASSWORD).await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "{username}: {}",
        page.body
    );
}

fn items(page: &Page) -> Vec<String> {
    page.body
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            line.strip_prefix("<li>")?
                .strip_suffix("</li>")
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_login_with_next() {
    let (_auth, mut client) = app().await;
    let reports = client.get("/reports/").await;
    assert_eq!(reports.status, StatusCode::SEE_OTHER);
    assert_eq!(reports.location(), Some("/login/?next=/reports/"));
    let staff = client.get("/staff/?tab=1").await;
    assert_eq!(staff.status, StatusCode::SEE_OTHER);
    assert_eq!(staff.location(), Some("/login/?next=/staff/%3Ftab%3D1"));
    assert!(!client.get("/").await.body.contains("Reports"));
}

#[tokio::test]
async fn a_user_without_the_permission_gets_a_403_page_not_a_login_loop() {
    let (_auth, mut client) = app().await;
    log_in(&mut client, "plain").await;
    let reports = client.get("/reports/").await;
    assert_eq!(reports.status, StatusCode::FORBIDDEN);
    assert!(reports.body.contains("403"), "{}", reports.body);
    assert!(reports.location().is_none());
    let staff = client.get("/staff/").await;
    assert_eq!(staff.status, StatusCode::SEE_OTHER);
    assert_eq!(staff.location(), Some("/login/?next=/staff/"));
    assert!(!client.get("/").await.body.contains("Reports"));
}

#[tokio::test]
async fn a_direct_grant_opens_the_reports_and_lists_the_permission() {
    let (_auth, mut client) = app().await;
    log_in(&mut client, "granted").await;
    let reports = client.get("/reports/").await;
    assert_eq!(reports.status, StatusCode::OK, "{}", reports.body);
    assert_eq!(items(&reports), ["accounts.view_report"]);
    let home = client.get("/").await;
    assert!(
        home.body.contains(r#"<a href="/reports/">Reports</a>"#),
        "{}",
        home.body
    );
    assert_eq!(client.get("/staff/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_group_grant_counts_like_a_direct_one() {
    let (_auth, mut client) = app().await;
    log_in(&mut client, "member").await;
    let reports = client.get("/reports/").await;
    assert_eq!(reports.status, StatusCode::OK);
    assert_eq!(items(&reports), ["accounts.view_report"]);
    assert!(client.get("/").await.body.contains("Reports"));
}

#[tokio::test]
async fn staff_see_the_staff_page_and_only_it() {
    let (_auth, mut client) = app().await;
    log_in(&mut client, "staffer").await;
    let staff = client.get("/staff/").await;
    assert_eq!(staff.status, StatusCode::OK);
    assert!(
        staff.body.contains("Staff only: staffer."),
        "{}",
        staff.body
    );
    assert_eq!(client.get("/reports/").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_active_superuser_has_every_permission_there_is() {
    let (_auth, mut client) = app().await;
    log_in(&mut client, "root").await;
    let reports = client.get("/reports/").await;
    assert_eq!(reports.status, StatusCode::OK);
    assert_eq!(
        items(&reports),
        [
            "accounts.add_user",
            "accounts.change_user",
            "accounts.delete_user",
            "accounts.publish_report",
            "accounts.view_report",
            "accounts.view_user",
        ]
    );
    assert_eq!(client.get("/staff/").await.status, StatusCode::OK);
    assert!(client.get("/").await.body.contains("Reports"));
}

#[tokio::test]
async fn revoking_takes_effect_on_the_next_request() {
    let (auth, mut client) = app().await;
    log_in(&mut client, "granted").await;
    assert_eq!(client.get("/reports/").await.status, StatusCode::OK);
    let granted = auth
        .users()
        .get_by_username("granted")
        .await
        .unwrap()
        .unwrap();
    assert!(
        auth.permissions()
            .revoke(&granted, "accounts.view_report")
            .await
            .unwrap()
    );
    assert_eq!(client.get("/reports/").await.status, StatusCode::FORBIDDEN);
}

fn accounts(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_accounts"))
        .args(args)
        .env("DATABASE_URL", db)
        .env("AUTH_USER_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the example runs")
}

fn stdout(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn refused(output: &std::process::Output, message: &str) {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(message), "{stderr}");
}

#[test]
fn the_permission_commands_work_from_a_script() {
    let db = sqlite_db();
    stdout(&accounts(&db, &["migrate"]));
    let declared = stdout(&accounts(&db, &["listperms"]));
    let names: Vec<&str> = declared
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "accounts.add_user",
            "accounts.change_user",
            "accounts.delete_user",
            "accounts.publish_report",
            "accounts.view_report",
            "accounts.view_user",
        ]
    );
    assert!(declared.contains("accounts.view_report\tCan view reports"));
    for user in ["ann", "bob"] {
        stdout(&accounts(
            &db,
            &["createuser", "--noinput", "--username", user],
        ));
    }
    stdout(&accounts(
        &db,
        &["createuser", "--noinput", "--username", "sam", "--staff"],
    ));
    stdout(&accounts(
        &db,
        &[
            "creategroup",
            "editors",
            "--perm",
            "accounts.publish_report",
        ],
    ));
    stdout(&accounts(&db, &["addtogroup", "ann", "editors"]));
    stdout(&accounts(&db, &["grant", "ann", "accounts.view_report"]));
    stdout(&accounts(
        &db,
        &["grantgroup", "editors", "accounts.view_user"],
    ));
    assert_eq!(
        stdout(&accounts(&db, &["listperms", "ann"])),
        "accounts.publish_report\naccounts.view_report\naccounts.view_user\n"
    );
    stdout(&accounts(&db, &["revoke", "ann", "accounts.view_report"]));
    stdout(&accounts(&db, &["removefromgroup", "ann", "editors"]));
    assert_eq!(stdout(&accounts(&db, &["listperms", "ann"])), "");
    assert_eq!(stdout(&accounts(&db, &["listperms", "bob"])), "");

    refused(
        &accounts(&db, &["grant", "nobody", "accounts.view_report"]),
        "User 'nobody' does not exist.",
    );
    refused(
        &accounts(&db, &["grant", "bob", "accounts.fly"]),
        "Permission accounts.fly does not exist.",
    );
    refused(
        &accounts(&db, &["grant", "bob", "nodot"]),
        "\"nodot\" is not a permission name; write app_label.codename",
    );
    refused(
        &accounts(&db, &["addtogroup", "bob", "nope"]),
        "Group 'nope' does not exist.",
    );
    refused(
        &accounts(&db, &["removefromgroup", "bob", "nope"]),
        "Group 'nope' does not exist.",
    );
    refused(
        &accounts(&db, &["grantgroup", "nope", "accounts.view_report"]),
        "Group 'nope' does not exist.",
    );
    refused(
        &accounts(&db, &["creategroup", "editors"]),
        "Group 'editors' already exists.",
    );
    refused(
        &accounts(
            &db,
            &[
                "creategroup",
                "half",
                "--perm",
                "accounts.view_report",
                "--perm",
                "accounts.fly",
            ],
        ),
        "Permission accounts.fly does not exist.",
    );
    refused(
        &accounts(&db, &["listperms", "nobody"]),
        "User 'nobody' does not exist.",
    );
    // A refused `creategroup` made nothing.
    stdout(&accounts(&db, &["creategroup", "half"]));
}
