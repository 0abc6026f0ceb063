//! Usernames as people read them. A name is stored in Unicode normalisation
//! form KC, as Django's `normalize_username` leaves it, so `ａｌｉｃｅ` (fullwidth)
//! is `alice`. Two names that differ only by case or compatibility form are
//! the same person to a reader, so they share one [`fold`] and only the first
//! may be registered: `Admin` cannot appear beside `admin`.

use unicode_normalization::UnicodeNormalization;

/// The form a username is stored and looked up in (NFKC).
pub fn normalise(name: &str) -> String {
    name.nfkc().collect()
}

/// The key two names collide on: NFKC, lower-cased, NFKC again (lower-casing
/// can leave a string that is not in NFKC).
pub fn fold(name: &str) -> String {
    normalise(&normalise(name).to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_forms_are_stored_plain() {
        assert_eq!(normalise("ａｌｉｃｅ"), "alice");
        assert_eq!(normalise("ﬁona"), "fiona");
        assert_eq!(normalise("Alice"), "Alice");
    }

    #[test]
    fn case_and_width_fold_together() {
        for name in ["admin", "Admin", "ADMIN", "ＡＤＭＩＮ", "ａｄｍｉｎ"] {
            assert_eq!(fold(name), "admin", "{name}");
        }
        assert_ne!(fold("admin"), fold("admin2"));
        assert_eq!(fold("ÅSA"), fold("åsa"));
    }
}
