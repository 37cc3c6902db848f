//! A value's JSON text written together with that text escaped as a JSON string's contents.
//!
//! An MCP tool answer carries its result twice: as structured content, and as a JSON string in
//! its text block. Escaping the written text afterwards meant a second pass over every byte,
//! which took 12 % of the hub's instructions for an inbox page (docs/BENCHMARKS.md, session
//! 21). Here a serde_json formatter writes each piece into both buffers as it goes: most pieces
//! (numbers, punctuation, the runs of a string that need no escape) are the same in both; only a
//! string's quotes and escapes, and raw fragments, are escaped once more for the second.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// `value`'s compact JSON text, and that text escaped as the contents of a JSON string (what
/// `serde_json::to_string(&text)` writes between its quotes).
pub(crate) fn to_json_and_escaped(
    value: &impl Serialize,
) -> serde_json::Result<(Vec<u8>, Vec<u8>)> {
    // A page of 20 messages is about 6 KiB: growing a buffer to that by doubling copied it
    // five times.
    let mut json = Vec::with_capacity(FIRST_CAPACITY);
    let mut twin = Twin {
        escaped: Vec::with_capacity(FIRST_CAPACITY),
    };
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut json, &mut twin,
    ))?;
    Ok((json, twin.escaped))
}

const FIRST_CAPACITY: usize = 8 * 1024;

/// Writes as `CompactFormatter` does into the serializer's writer, and the escaped form of the
/// same bytes into `escaped`.
struct Twin {
    escaped: Vec<u8>,
}

/// The serializer's writer and the escaped buffer, for pieces that are the same in both: what
/// a compact JSON text holds outside strings, and the runs of a string serde_json hands over
/// unescaped, never hold a quote, a backslash or a control character.
struct Both<'a, W: ?Sized> {
    json: &'a mut W,
    escaped: &'a mut Vec<u8>,
}

impl<W: ?Sized + Write> Write for Both<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.json.write_all(buf)?;
        self.escaped.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.json.flush()
    }
}

/// Formatter methods whose bytes are the same in both buffers: `CompactFormatter`'s, into both.
macro_rules! same_in_both {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $name<W: ?Sized + Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> io::Result<()> {
            let mut both = Both { json: w, escaped: &mut self.escaped };
            CompactFormatter.$name(&mut both $(, $arg)*)
        }
    )*};
}

impl Formatter for &mut Twin {
    same_in_both! {
        write_null();
        write_bool(v: bool);
        write_i8(v: i8);
        write_i16(v: i16);
        write_i32(v: i32);
        write_i64(v: i64);
        write_i128(v: i128);
        write_u8(v: u8);
        write_u16(v: u16);
        write_u32(v: u32);
        write_u64(v: u64);
        write_u128(v: u128);
        write_f32(v: f32);
        write_f64(v: f64);
        write_number_str(v: &str);
        write_string_fragment(v: &str);
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        end_object_key();
        begin_object_value();
        end_object_value();
    }

    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\"")?;
        self.escaped.extend_from_slice(b"\\\"");
        Ok(())
    }

    fn end_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin_string(w)
    }

    fn write_char_escape<W: ?Sized + Write>(&mut self, w: &mut W, e: CharEscape) -> io::Result<()> {
        // The longest escape is `\u001f`; written on the stack, as serde_json itself does.
        let mut buf = [0; 6];
        let mut rest = &mut buf[..];
        CompactFormatter.write_char_escape(&mut rest, e)?;
        let len = 6 - rest.len();
        let json = &buf[..len];
        w.write_all(json)?;
        // An escape is a backslash and ASCII letters or hex digits, or `\"` or `\\`.
        for &b in json {
            if b == b'\\' || b == b'"' {
                self.escaped.push(b'\\');
            }
            self.escaped.push(b);
        }
        Ok(())
    }

    fn write_raw_fragment<W: ?Sized + Write>(&mut self, w: &mut W, json: &str) -> io::Result<()> {
        // A raw fragment may hold whitespace and anything else valid JSON holds.
        w.write_all(json.as_bytes())?;
        let quoted = serde_json::to_vec(json)?;
        self.escaped.extend_from_slice(&quoted[1..quoted.len() - 1]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde_json::json;
    use serde_json::value::RawValue;

    use super::to_json_and_escaped;

    #[derive(Serialize)]
    struct Everything<'a> {
        text: &'a str,
        nothing: Option<u8>,
        small: i8,
        wide: i128,
        unsigned: u128,
        float: f64,
        single: f32,
        yes: bool,
        bytes: serde_bytes_like::Bytes<'a>,
        raw: &'a RawValue,
        tree: serde_json::Value,
        list: Vec<&'a str>,
    }

    /// Bytes serialized as serde serializes a byte slice (`serialize_bytes`).
    mod serde_bytes_like {
        pub struct Bytes<'a>(pub &'a [u8]);

        impl serde::Serialize for Bytes<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
    }

    /// Both texts are what serde_json writes: the value's, and that text as a string.
    #[test]
    fn the_escaped_text_is_the_json_text_as_a_string() {
        let awkward = "quote \" backslash \\ slash / tab \t newline \n nul \u{0} bell \u{7} \
                       del \u{7f} line sep \u{2028} é 漢 🦀 \\\"";
        let raw = RawValue::from_string("{ \"a\" :\n\t[1, \"x\\\"y\"] }".to_owned()).unwrap();
        let value = Everything {
            text: awkward,
            nothing: None,
            small: -8,
            wide: i128::MIN,
            unsigned: u128::MAX,
            float: -1.5e-300,
            single: 0.1,
            yes: true,
            bytes: serde_bytes_like::Bytes(&[0, 34, 92, 255]),
            raw: &raw,
            tree: json!({ "nested": [awkward, {}, [], null, 1.0, "\\"], "": "" }),
            list: vec![awkward, "", "\""],
        };
        let (json, escaped) = to_json_and_escaped(&value).unwrap();
        assert_eq!(
            String::from_utf8(json.clone()).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
        let as_string = serde_json::to_vec(std::str::from_utf8(&json).unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(escaped).unwrap(),
            std::str::from_utf8(&as_string[1..as_string.len() - 1]).unwrap()
        );
        for plain in [json!(null), json!(7), json!("\""), json!([])] {
            let (json, escaped) = to_json_and_escaped(&plain).unwrap();
            let text = serde_json::to_string(&plain).unwrap();
            assert_eq!(json, text.as_bytes());
            let as_string = serde_json::to_string(&text).unwrap();
            assert_eq!(escaped, &as_string.as_bytes()[1..as_string.len() - 1]);
        }
    }
}
