//! Times in hot response bodies and bus events, written as chrono writes them (RFC 3339 in UTC
//! with `Z`, and 0, 3, 6 or 9 digits of fraction) but into a buffer of digits first. chrono's
//! own `Serialize` hands a formatter to `collect_str`, which writes the time a character at a
//! time through `fmt`: 5 % of the hub's instructions per MCP inbox page of 20
//! (docs/BENCHMARKS.md, session 16); its `to_rfc3339_opts` still took 3 % (session 21).
//! Use with `#[serde(serialize_with = "crate::api::time::rfc3339")]` (or `::rfc3339_opt`).

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::Serializer;

pub fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0; LONGEST];
    match write_digits(t, &mut buf) {
        Some(len) => s.serialize_str(std::str::from_utf8(&buf[..len]).expect("ASCII digits")),
        None => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

pub fn rfc3339_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

/// `2026-12-07T03:15:09.123456789Z`.
const LONGEST: usize = 30;

/// Writes `t` as chrono's `to_rfc3339_opts(AutoSi, true)` does and returns its length; `None`
/// for what chrono spells otherwise (years outside 0 to 9999, a leap second).
fn write_digits(t: &DateTime<Utc>, buf: &mut [u8; LONGEST]) -> Option<usize> {
    // From the naive time once: each of `DateTime`'s own accessors adds the offset again.
    let (date, time) = (t.naive_utc().date(), t.naive_utc().time());
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, date.month());
    put(8, 2, date.day());
    put(11, 2, time.hour());
    put(14, 2, time.minute());
    put(17, 2, time.second());
    let (fraction, width) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    let mut len = 19;
    if width > 0 {
        put(20, width, fraction);
        len += 1 + width;
    }
    for (at, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ] {
        buf[at] = c;
    }
    buf[len] = b'Z';
    Some(len + 1)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};
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
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let at = |date: NaiveDate, h, min, s, nano| {
            date.and_hms_nano_opt(h, min, s, nano).unwrap().and_utc()
        };
        let mut times = vec![
            at(day(0, 1, 1), 0, 0, 0, 0),
            at(day(1, 2, 3), 4, 5, 6, 7_000_000),
            at(day(999, 12, 31), 23, 59, 59, 999_999_999),
            at(day(1970, 1, 1), 0, 0, 0, 10_000),
            at(day(2000, 2, 29), 12, 0, 0, 100),
            at(day(9999, 12, 31), 23, 59, 59, 999_999_000),
            // What chrono spells otherwise: a leap second, and years past four digits.
            at(day(2016, 12, 31), 23, 59, 59, 1_500_000_000),
            at(day(10_000, 1, 1), 0, 0, 0, 0),
            at(day(-1, 6, 15), 8, 30, 0, 250_000_000),
        ];
        for nanos in [0, 120_000_000, 123_456_000, 123_456_789, 1] {
            times.push(second + chrono::Duration::nanoseconds(nanos));
        }
        for at in times {
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
