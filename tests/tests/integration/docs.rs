//! The README's promises that code can check.

/// The README's settings index names every variable the settings read
/// (this build has every feature, so every variable).
#[test]
fn the_readme_settings_index_names_every_variable() {
    let readme = include_str!("../../../README.md");
    let missing: Vec<&str> = auth::Settings::VARIABLES
        .iter()
        .map(|(variable, _)| *variable)
        .filter(|variable| !readme.contains(&format!("`{variable}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the README's Settings: {missing:?}"
    );
}

/// The README stays a front door: at most 500 lines, and exactly the two
/// set-up commands.
#[test]
fn the_readme_is_short_with_two_set_up_commands() {
    let readme = include_str!("../../../README.md");
    assert!(
        readme.lines().count() <= 500,
        "{} lines",
        readme.lines().count()
    );
    let set_up = readme
        .split("## Set-up")
        .nth(1)
        .and_then(|rest| rest.split("```sh").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("a sh block under Set-up");
    let commands: Vec<&str> = set_up.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(commands[0].starts_with("cargo run -p accounts"));
    assert!(commands[1].starts_with("cargo test --workspace"));
}
