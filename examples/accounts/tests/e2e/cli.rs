//! The example's binary, run as a user would run it.

use std::process::Command;

use accounts::User;

fn accounts(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_accounts"))
        .args(args)
        .env("DATABASE_URL", db)
        .env("AUTH_SUPERUSER_PASSWORD", "correct horse battery")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the example runs")
}

#[tokio::test]
async fn createsuperuser_noinput_creates_one_argon2id_user() {
    let dir = std::env::temp_dir().join(format!("accounts-cli-{}", auth::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.join("auth.db").display());
    let args = [
        "createsuperuser",
        "--noinput",
        "--username",
        "alice",
        "--email",
        "a@example.com",
    ];

    let first = accounts(&db, &args);
    assert!(first.status.success(), "{first:?}");
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        "Superuser created successfully.\n"
    );

    let second = accounts(&db, &args);
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("Error: That username is already taken."),
        "{stderr}"
    );

    let auth = auth::Auth::<User>::builder()
        .database_url(db)
        .build()
        .await
        .unwrap();
    let alice = auth
        .users()
        .get_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    assert!(
        alice
            .password
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        alice.password
    );
    assert!(alice.is_superuser && alice.is_staff);
    assert!(
        auth.authenticate("alice", "correct horse battery")
            .await
            .unwrap()
            .is_some()
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_arguments_fail_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_accounts"))
        .args(["frobnicate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand"));
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_accounts"))
        .args(["migrate"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("AUTH_DATABASE_TIMEOUT", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Error: database error"), "{stderr}");
}

#[test]
fn createuser_says_which_variable_it_reads_and_warns_without_it() {
    let help = Command::new(env!("CARGO_BIN_EXE_accounts"))
        .args(["createuser", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("AUTH_USER_PASSWORD"), "{help}");

    let dir = std::env::temp_dir().join(format!("accounts-cli-{}", auth::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.join("auth.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_accounts"))
        .args(["createuser", "--noinput", "--username", "bob"])
        .env("DATABASE_URL", &db)
        .env("AUTH_SECRET_KEY", "cli-test-secret-key-cli-test-secret-key")
        .env_remove("AUTH_USER_PASSWORD")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AUTH_USER_PASSWORD is not set") && stderr.contains("unusable password"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).ok();
}
