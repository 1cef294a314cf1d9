//! The guards and `permissions!` blocks of the binary against the app's
//! configuration: every permission a guard requires exists, every block
//! is given to the builder, every `login_url` is a declared auth URL.

use std::collections::BTreeSet;

use super::CheckMessage;
use crate::{
    apps::Shared,
    kernel::registry::{self, GuardDeclaration},
    permissions::declared,
};

pub(super) fn check(shared: &Shared) -> Vec<CheckMessage> {
    let known: BTreeSet<String> = shared.permissions.declared_names().collect();
    let blocks = declared::permission_blocks();
    let mut found = Vec::new();
    for block in &blocks {
        let missing: Vec<String> = block
            .all
            .iter()
            .map(ToString::to_string)
            .filter(|perm| !known.contains(perm))
            .collect();
        if !missing.is_empty() {
            found.push(
                CheckMessage::warning(
                    "auth.W001",
                    format!(
                        "the permissions declared in {} are not given to the builder ({} \
                         missing), so migrate does not create them and no user can have them",
                        block.module,
                        missing.join(", ")
                    ),
                )
                .hint(format!(
                    "add `.permissions({}::ALL)` to `Auth::builder()`",
                    last_segment(block.module)
                ))
                .obj(block.module),
            );
        }
    }
    for guard in registry::guards() {
        for perm in (guard.permissions)() {
            if !known.contains(&perm) {
                found.push(unknown_permission(guard, &perm, &known, &blocks));
            }
        }
        if let Some(url) = (guard.login_url)() {
            found.extend(unknown_login_url(shared, guard, url));
        }
    }
    if let Some(url) = &shared.settings.login_url
        && let Some(message) = undeclared_path(shared, url)
    {
        found.push(
            CheckMessage::warning(
                "auth.W003",
                format!("AUTH_LOGIN_URL is {url}, which is not one of the declared auth URLs"),
            )
            .hint(message)
            .obj("AUTH_LOGIN_URL"),
        );
    }
    found
}

/// `auth.E005` and `auth.E006`: what re-authentication and the session
/// cap need is there. Feature apps name their own views that need them
/// ([`needs_reauthentication`], [`needs_registry`]).
pub(super) fn check_sessions(shared: &Shared) -> Vec<CheckMessage> {
    let guards = registry::guards()
        .into_iter()
        .filter(|guard| guard.guard == "reauth_required")
        .map(|guard| format!("#[reauth_required] on {}", guard.handler));
    let mut found = needs_reauthentication(shared, guards);
    let cap = shared
        .settings
        .session_max_per_user
        .map(|_| "AUTH_SESSION_MAX_PER_USER".to_owned());
    found.extend(needs_registry(shared, cap));
    found
}

/// `auth.E005` for each of `needing` (a guard, a view: "the SessionListView
/// at /sessions/") when no `ReauthenticateView` is declared.
pub(crate) fn needs_reauthentication(
    shared: &Shared,
    needing: impl IntoIterator<Item = String>,
) -> Vec<CheckMessage> {
    if shared.urls.path_of_view("ReauthenticateView").is_some() {
        return Vec::new();
    }
    needing
        .into_iter()
        .map(|needs| {
            CheckMessage::error(
                "auth.E005",
                format!(
                    "{needs} needs a recent authentication, but no ReauthenticateView is \
                     declared, so users would get an error instead of the password prompt"
                ),
            )
            .hint(
                "declare `reauthenticate: \"/reauthenticate/\" => ReauthenticateView` in \
                 auth_urls!",
            )
            .obj(needs)
        })
        .collect()
}

/// `auth.E006` for each of `needing` when the app's own session store
/// cannot list a user's sessions.
pub(crate) fn needs_registry(
    shared: &Shared,
    needing: impl IntoIterator<Item = String>,
) -> Vec<CheckMessage> {
    if shared.sessions.store.lists_sessions() {
        return Vec::new();
    }
    needing
        .into_iter()
        .map(|needs| {
            CheckMessage::error(
                "auth.E006",
                format!(
                    "{needs} needs the session registry, but the app's own session store \
                     cannot list a user's sessions"
                ),
            )
            .hint("keep sessions in the database or Redis (drop `.session_store(..)`)")
            .obj(needs)
        })
        .collect()
}

/// `auth.E001`, with the likeliest fix as its hint.
fn unknown_permission(
    guard: &GuardDeclaration,
    perm: &str,
    known: &BTreeSet<String>,
    blocks: &[&declared::PermissionsDeclaration],
) -> CheckMessage {
    let declared_in = blocks
        .iter()
        .find(|block| block.all.iter().any(|p| p.to_string() == perm));
    let hint = if let Some(block) = declared_in {
        format!(
            "{perm} is declared in {}, which is not given to the builder: add \
             `.permissions({}::ALL)` to `Auth::builder()`",
            block.module,
            last_segment(block.module)
        )
    } else if let Some(close) = closest(perm, known) {
        format!("did you mean {close}?")
    } else {
        "declare it with `auth::permissions!` and give the block to the builder \
         (`.permissions(perms::ALL)`), or name one of the app's permissions"
            .to_owned()
    };
    CheckMessage::error(
        "auth.E001",
        format!(
            "#[{}] on {} requires {perm}, which is not a permission of this app: every user \
             would get 403",
            guard.guard, guard.handler
        ),
    )
    .hint(hint)
    .obj(guard.handler)
}

/// `auth.W002` when `url` is not a declared auth URL.
fn unknown_login_url(shared: &Shared, guard: &GuardDeclaration, url: &str) -> Option<CheckMessage> {
    let hint = undeclared_path(shared, url)?;
    Some(
        CheckMessage::warning(
            "auth.W002",
            format!(
                "#[{}] on {} sends anonymous users to {url}, which is not one of the \
                 declared auth URLs",
                guard.guard, guard.handler
            ),
        )
        .hint(hint)
        .obj(guard.handler),
    )
}

/// Why `url` looks wrong, when the app declared auth URLs and `url` is a
/// path that is none of them; `None` when it is fine or cannot be judged
/// (no auth URLs given to the builder, or a URL on another site).
fn undeclared_path(shared: &Shared, url: &str) -> Option<String> {
    let routes = shared.urls.routes();
    let path = url.split(['?', '#']).next().unwrap_or(url);
    if routes.is_empty() || !path.starts_with('/') || path.starts_with("//") {
        return None;
    }
    if routes.iter().any(|route| route.path == path) {
        return None;
    }
    let login = shared.urls.path_of_view("LoginView");
    Some(match login {
        Some(login) => format!(
            "the declared login page is {login} (`urls::LOGIN`); if a view of your own serves \
             {path}, silence this with AUTH_SILENCED_SYSTEM_CHECKS"
        ),
        None => format!(
            "no auth URL serves {path}; if a view of your own does, silence this with \
             AUTH_SILENCED_SYSTEM_CHECKS"
        ),
    })
}

/// `perms` in `crate::perms`.
fn last_segment(module: &str) -> &str {
    module.rsplit("::").next().unwrap_or(module)
}

/// The known name nearest to `name`, if it is a likely typo (at most two
/// edits, or one per four characters).
fn closest<'a>(name: &str, known: &'a BTreeSet<String>) -> Option<&'a str> {
    let limit = (name.chars().count() / 4).clamp(1, 2);
    known
        .iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate.as_str())
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_permission() {
        let known: BTreeSet<String> = ["wiki.edit_page", "wiki.view_page", "auth.add_user"]
            .map(String::from)
            .into();
        assert_eq!(closest("wiki.edit_pages", &known), Some("wiki.edit_page"));
        assert_eq!(closest("wiki.vew_page", &known), Some("wiki.view_page"));
        assert_eq!(closest("shop.refund", &known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn last_segment_names_the_module() {
        assert_eq!(last_segment("app::site::perms"), "perms");
        assert_eq!(last_segment("perms"), "perms");
    }
}
