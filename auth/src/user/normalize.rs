//! Username and email normalisation (Django's `UsernameField` cleaning and
//! `BaseUserManager.normalize_email`).

use super::USERNAME_MAX_LENGTH;

/// Django's `UsernameField` cleaning: surrounding whitespace stripped, NFKC
/// normalisation (unless longer than the maximum length).
pub(crate) fn normalize_username(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let trimmed = raw.trim();
    if trimmed.chars().count() > USERNAME_MAX_LENGTH {
        trimmed.to_owned()
    } else {
        trimmed.nfkc().collect()
    }
}

/// Django's `normalize_email`: the domain part lowercased.
pub fn normalize_email(raw: &str) -> String {
    let raw = raw.trim();
    match raw.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_stripped_and_nfkc_normalised() {
        assert_eq!(normalize_username("  alice \n"), "alice");
        // U+FB01 LATIN SMALL LIGATURE FI → "fi"; case is kept.
        assert_eq!(normalize_username("\u{FB01}Bob"), "fiBob");
    }

    #[test]
    fn email_domains_are_lowercased() {
        assert_eq!(normalize_email("Alice@EXAMPLE.com"), "Alice@example.com");
        assert_eq!(normalize_email(""), "");
    }
}
