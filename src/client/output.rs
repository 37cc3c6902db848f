//! Printing for people: tables of chosen columns, field/value tables, readable cells.

use chrono::{DateTime, Utc};
use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};
use serde_json::{Map, Value};

/// A table column: its header and the field it shows (`a.b` reaches into objects).
pub type Column = (&'static str, &'static str);

/// Longest cell in a list table; the full value is in `show` and `--json`.
const MAX_CELL: usize = 60;

fn table(header: Vec<&str>) -> Table {
    let mut t = Table::new();
    t.load_style(NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    t
}

fn field<'a>(item: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .fold(item, |v, key| v.get(key).unwrap_or(&Value::Null))
}

/// Renders `items` as a table of `columns`.
pub fn list_table(items: &[Value], columns: &[Column]) -> String {
    let mut t = table(columns.iter().map(|(h, _)| *h).collect());
    for item in items {
        t.add_row(
            columns
                .iter()
                .map(|(_, path)| shorten(cell(field(item, path)))),
        );
    }
    t.trim_fmt()
}

/// Renders one object as a FIELD / VALUE table, `id` first.
pub fn object_table(object: &Map<String, Value>) -> String {
    fields_table(&["VALUE"], &[object])
}

/// Renders objects side by side: a row per field (`id` first, then by name; nested objects as
/// `outer.inner`), a column per object.
pub fn fields_table(headers: &[&str], objects: &[&Map<String, Value>]) -> String {
    let flat: Vec<Vec<(String, &Value)>> = objects
        .iter()
        .map(|o| {
            let mut out = Vec::new();
            flatten("", o, &mut out);
            out
        })
        .collect();
    let mut keys: Vec<&str> = flat.iter().flatten().map(|(k, _)| k.as_str()).collect();
    keys.sort_by_key(|k| (*k != "id", *k));
    keys.dedup();
    let mut t = table(
        std::iter::once("FIELD")
            .chain(headers.iter().copied())
            .collect(),
    );
    for key in keys {
        let values = flat.iter().map(|fields| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map_or_else(String::new, |(_, v)| cell(v))
        });
        t.add_row(std::iter::once(key.to_owned()).chain(values));
    }
    t.trim_fmt()
}

fn flatten<'a>(prefix: &str, object: &'a Map<String, Value>, out: &mut Vec<(String, &'a Value)>) {
    for (key, value) in object {
        let key = format!("{prefix}{key}");
        match value {
            Value::Object(inner) if !inner.is_empty() => flatten(&format!("{key}."), inner, out),
            _ => out.push((key, value)),
        }
    }
}

/// One value as a person reads it: times in UTC to the second, `-` for nothing, lists joined.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => t
                .with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            Err(_) => s.clone(),
        },
        Value::Array(items) if items.is_empty() => "-".into(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn shorten(s: String) -> String {
    let line = s.lines().next().unwrap_or_default();
    if line.chars().count() > MAX_CELL || line.len() < s.len() {
        let cut: String = line.chars().take(MAX_CELL - 1).collect();
        format!("{cut}…")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cells_read_well() {
        assert_eq!(cell(&json!(null)), "-");
        assert_eq!(cell(&json!(true)), "yes");
        assert_eq!(
            cell(&json!("2026-11-22T10:11:12.345678Z")),
            "2026-11-22 10:11:12"
        );
        assert_eq!(cell(&json!(["a", "b"])), "a, b");
        assert_eq!(
            cell(&json!([{"field": "name", "message": "empty"}])),
            "field=name message=empty"
        );
        assert_eq!(shorten("one\ntwo".into()), "one…");
        assert_eq!(shorten("x".repeat(61)).chars().count(), MAX_CELL);
    }

    #[test]
    fn tables_pick_columns_and_nested_fields() {
        let items = [json!({"id": "1", "state": {"kind": "risk"}, "extra": 5})];
        let out = list_table(&items, &[("ID", "id"), ("KIND", "state.kind")]);
        assert!(out.contains("ID") && out.contains("KIND") && out.contains("risk"));
        assert!(!out.contains('5'));
    }

    #[test]
    fn field_tables_put_id_first_and_join_objects() {
        let a = json!({"name": "x", "id": "1", "n": {"a": 1}});
        let b = json!({"zeta": 2});
        let out = fields_table(
            &["A", "B"],
            &[a.as_object().unwrap(), b.as_object().unwrap()],
        );
        let rows: Vec<&str> = out.lines().collect();
        assert!(rows[0].contains("FIELD") && rows[0].contains('B'));
        assert!(rows[1].contains("id") && rows[2].contains("n.a") && rows[3].contains("name"));
        assert!(rows[4].contains("zeta") && rows[4].trim_end().ends_with('2'));
    }
}
