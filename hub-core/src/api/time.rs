//! Times in hot response bodies and bus events, written as chrono writes them (RFC 3339 in UTC
//! with `Z`, and 0, 3, 6 or 9 digits of fraction) but into a string first. chrono's own
//! `Serialize` hands a formatter to `collect_str`, which writes the time a character at a time
//! through `fmt`: 5 % of the hub's instructions per MCP inbox page of 20 (docs/BENCHMARKS.md,
//! session 16).
//! Use with `#[serde(serialize_with = "crate::api::time::rfc3339")]` (or `::rfc3339_opt`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

pub fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

pub fn rfc3339_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use serde::Serialize;

    #[derive(Serialize)]
    struct Ours {
        #[serde(serialize_with = "super::rfc3339")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "super::rfc3339_opt")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct Chronos {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let second = Utc.with_ymd_and_hms(2026, 12, 7, 3, 15, 9).unwrap();
        for nanos in [0, 120_000_000, 123_456_000, 123_456_789, 1] {
            let at = second + chrono::Duration::nanoseconds(nanos);
            for maybe in [None, Some(at)] {
                let ours = serde_json::to_value(Ours { at, maybe }).expect("ours");
                let theirs = serde_json::to_value(Chronos { at, maybe }).expect("chrono's");
                assert_eq!(ours, theirs, "{at:?}");
                let ours = serde_json::to_string(&Ours { at, maybe }).expect("ours");
                let theirs = serde_json::to_string(&Chronos { at, maybe }).expect("chrono's");
                assert_eq!(ours, theirs, "{at:?}");
            }
        }
        // And it reads back as the same instant.
        let at = second + chrono::Duration::nanoseconds(123_456_789);
        let text = serde_json::to_string(&Ours { at, maybe: None }).expect("ours");
        let back: serde_json::Value = serde_json::from_str(&text).expect("json");
        let back: DateTime<Utc> = serde_json::from_value(back["at"].clone()).expect("time");
        assert_eq!(back, at);
    }
}
