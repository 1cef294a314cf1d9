//! Password-reset tokens are accepted in their one canonical form only, as
//! Django's `check_token` does (it re-encodes the timestamp before the
//! comparison): any rewrite of a valid token (case, leading zeros, a sign,
//! blanks, a character more or less) is refused.

use auth_tests::{User, fresh_auth};
use proptest::prelude::*;

/// One edit of a token's text.
#[derive(Clone, Debug)]
enum Edit {
    Upper(usize),
    Lower(usize),
    Insert(usize, char),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let inserted = prop_oneof![
        Just('0'),
        Just('+'),
        Just('-'),
        Just(' '),
        Just('\t'),
        proptest::char::range('0', 'z'),
    ];
    prop_oneof![
        any::<usize>().prop_map(Edit::Upper),
        any::<usize>().prop_map(Edit::Lower),
        (any::<usize>(), inserted).prop_map(|(at, c)| Edit::Insert(at, c)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

fn apply(token: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    for edit in edits {
        let len = chars.len().max(1);
        match *edit {
            Edit::Upper(at) => {
                if let Some(c) = chars.get_mut(at % len) {
                    *c = c.to_ascii_uppercase();
                }
            }
            Edit::Lower(at) => {
                if let Some(c) = chars.get_mut(at % len) {
                    *c = c.to_ascii_lowercase();
                }
            }
            Edit::Insert(at, c) => chars.insert(at % (chars.len() + 1), c),
            Edit::Delete(at) => {
                if !chars.is_empty() {
                    chars.remove(at % len);
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn only_the_canonical_token_is_accepted() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (auth, alice) = runtime.block_on(async {
        let auth = fresh_auth::<User>().await;
        let alice = auth
            .users()
            .create_user("alice", "alice@example.com", Some("pw"))
            .await
            .unwrap();
        (auth, alice)
    });
    let token = auth.make_password_reset_token(&alice);
    assert!(auth.check_password_reset_token(&alice, &token));
    // The reviewer's three, first.
    let (digits, hash) = token.split_once('-').unwrap();
    for forged in [
        format!("0{digits}-{hash}"),
        format!("+{digits}-{hash}"),
        format!("{}-{hash}", digits.to_ascii_uppercase()),
    ] {
        assert!(
            !auth.check_password_reset_token(&alice, &forged),
            "{forged}"
        );
    }
    proptest!(ProptestConfig::with_cases(2000), |(edits in proptest::collection::vec(edit(), 1..4))| {
        let rewritten = apply(&token, &edits);
        let accepted = auth.check_password_reset_token(&alice, &rewritten);
        prop_assert_eq!(accepted, rewritten == token, "{:?} -> {}", edits, rewritten);
    });
}
