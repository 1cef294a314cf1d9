//! The safe-`next` check, proven against references rather than examples:
//! Django's own verdicts on a generated corpus, and a browser's URL parser
//! (the WHATWG parser of the `url` crate) on generated strings.

use auth::redirect::url_has_allowed_host_and_scheme;
use auth::testing::{iri_to_uri, stricter_than_django};
use proptest::prelude::*;

const HOSTS: &[&str] = &["testserver"];

/// Django 6.1's verdicts (tests/data/redirects/generate.py) agree with
/// ours on every entry, except where this project refuses on purpose
/// (`stricter_than_django`).
#[test]
fn agrees_with_django_on_the_generated_corpus() {
    let corpus = include_str!("../../data/redirects/corpus.jsonl");
    let mut lines = corpus.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["django"], "6.1.3");
    let (mut checked, mut stricter) = (0, 0);
    let mut disagreements = Vec::new();
    for line in lines {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        let url = entry["url"].as_str().unwrap();
        for (https, key) in [(false, "http"), (true, "https")] {
            let django = entry[key].as_bool().unwrap();
            let ours = url_has_allowed_host_and_scheme(url, HOSTS, https);
            checked += 1;
            if ours == django {
                continue;
            }
            if django && !ours && stricter_than_django(url) {
                stricter += 1;
                continue;
            }
            disagreements.push(format!(
                "{url:?} (require_https={https}): Django {django}, ours {ours}"
            ));
        }
    }
    assert!(checked >= 40_000, "the corpus holds {checked} verdicts");
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first: {:#?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(20)]
    );
    assert!(stricter > 0, "the corpus exercises the stricter rules");
}

/// Pieces browsers and parsers treat specially, weighted toward the
/// delimiters and the characters browsers drop.
fn piece() -> impl Strategy<Value = String> {
    let pick = |items: &[&str]| {
        prop::sample::select(items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    };
    prop_oneof![
        6 => pick(&["/", "//", "\\", "/\\", "\\/"]),
        4 => pick(&["\t", "\r", "\n", "\u{0}", "\u{8}", "\u{b}", "\u{c}", "\u{1f}", "\u{7f}"]),
        3 => pick(&["testserver", "evil.example", "evil.example:80", "testserver@evil.example"]),
        2 => pick(&[":", "@", "?", "#", "%", ".", "[", "]", "http:", "https:", "javascript:"]),
        1 => pick(&[" ", "\u{a0}", "\u{85}", "\u{200b}", "\u{feff}", "\u{2028}", "\u{3000}"]),
        1 => pick(&["％", "／", "＼", "。", "ｔｅｓｔｓｅｒｖｅｒ"]),
        1 => "[a-z0-9]{1,3}",
        1 => "%[0-9a-fA-F]{2}",
        1 => any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn candidate() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 1..7).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// Whatever the check accepts, a browser following the `Location` we
    /// send (the value through `iri_to_uri`) from the login page stays on
    /// this site, over http or https.
    #[test]
    fn accepted_targets_stay_on_the_site_in_a_browser(url in candidate(), https in any::<bool>()) {
        if url_has_allowed_host_and_scheme(&url, HOSTS, https) {
            let location = iri_to_uri(&url);
            prop_assert!(location.is_ascii() && !location.bytes().any(|b| b.is_ascii_control()));
            let base = url::Url::parse("http://testserver/login/").unwrap();
            // A browser does not navigate to what it cannot parse.
            if let Ok(target) = base.join(&location) {
                prop_assert_eq!(target.host_str(), Some("testserver"), "{:?} -> {}", url, target);
                prop_assert!(
                    matches!(target.scheme(), "http" | "https"),
                    "{:?} -> {}", url, target
                );
            }
        }
    }
}

/// The shapes that motivated the stricter rule, through the same check.
#[test]
fn the_tab_backslash_variants_are_refused() {
    for url in [
        "/\t//evil.example/",
        "/\\\t/evil.example/",
        "//\t/evil.example/",
        "/x\ny",
    ] {
        assert!(
            !url_has_allowed_host_and_scheme(url, HOSTS, false),
            "{url:?}"
        );
        assert!(stricter_than_django(url));
    }
}
