//! Tells the backend tests which servers this build can reach: a backend
//! whose `AUTH_TEST_*_URL` is unset is compiled as `#[ignore]` (see
//! `backend_tests!`), so `cargo test` reports its tests as ignored, with
//! the variable to set, instead of as passed without running.

fn main() {
    for (variable, cfg) in [
        ("AUTH_TEST_POSTGRES_URL", "auth_test_postgres"),
        ("AUTH_TEST_MYSQL_URL", "auth_test_mysql"),
        ("AUTH_TEST_REDIS_URL", "auth_test_redis"),
        ("AUTH_TEST_REDIS_CLUSTER_URL", "auth_test_redis_cluster"),
        ("AUTH_TEST_REDIS_SENTINEL_URL", "auth_test_redis_sentinel"),
    ] {
        println!("cargo::rerun-if-env-changed={variable}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var_os(variable).is_some_and(|value| !value.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
