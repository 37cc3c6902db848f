//! Identifiers: UUIDv7 text, so ids sort by creation time.

/// A new UUIDv7 as lowercase hyphenated text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// True when `s` is a UUID in text form.
pub fn is_id(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok()
}
