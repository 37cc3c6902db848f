//! Reading CSV files with bounded memory: column layouts (FOCUS, native, mapped), records no
//! longer than a limit, and each record turned into a ledger entry or token record, or a row
//! error naming its line.

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::rc::Rc;

use chrono::NaiveDate;
use csv::ByteRecord;
use hub_core::HubError;
use hub_core::auth::Principal;
use hub_core::error::Validator;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::model::{ImportFormat, ImportKind};
use crate::config::FinConfig;
use crate::money::{Decimal, exponent};
use crate::spend::model::Source;
use crate::spend::service::{Entry, check_entry};
use crate::token_spend::service::{NewTokenSpend, TokenRow, validate};

/// Fields of a cost line; the first three are required (and `domain` unless the import names one).
pub const COST_FIELDS: [&str; 7] = [
    "date",
    "amount",
    "currency",
    "domain",
    "service_id",
    "vendor",
    "external_id",
];
/// Fields of a token-usage line.
pub const TOKEN_FIELDS: [&str; 11] = [
    "provider",
    "model",
    "tokens_in",
    "tokens_out",
    "cost",
    "currency",
    "session_id",
    "agent",
    "domain",
    "time",
    "external_id",
];
/// FOCUS columns and the cost fields they fill.
pub const FOCUS_COLUMNS: [(&str, &str); 6] = [
    ("date", "ChargePeriodStart"),
    ("amount", "BilledCost"),
    ("currency", "BillingCurrency"),
    ("domain", "SubAccountName"),
    ("service_id", "ServiceName"),
    ("vendor", "ProviderName"),
];

/// A problem with one row: it is skipped, the rest goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// The line the record starts on (the header is line 1).
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

/// Which column holds each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub format: ImportFormat,
    columns: BTreeMap<&'static str, usize>,
    width: usize,
}

/// Finds the columns of `kind` in `headers`: the caller's `mapping` (field -> column) first,
/// else FOCUS (asked for, or seen by its `BilledCost` column), else the native names.
pub fn layout(
    kind: ImportKind,
    asked: Option<ImportFormat>,
    mapping: &BTreeMap<String, String>,
    headers: &[String],
    domain_given: bool,
) -> Result<Layout, String> {
    let fields: &[&'static str] = match kind {
        ImportKind::Costs => &COST_FIELDS,
        ImportKind::TokenUsage => &TOKEN_FIELDS,
    };
    let find = |name: &str| headers.iter().position(|h| h == name);
    let mut columns = BTreeMap::new();
    let is_focus = asked == Some(ImportFormat::Focus)
        || (asked.is_none() && mapping.is_empty() && find("BilledCost").is_some());
    let format = if !mapping.is_empty() {
        for (field, column) in mapping {
            let f = fields
                .iter()
                .find(|f| **f == field.as_str())
                .ok_or_else(|| {
                    format!(
                        "map: unknown field {field}; fields are {}",
                        fields.join(", ")
                    )
                })?;
            let i =
                find(column).ok_or_else(|| format!("map: column {column} is not in the header"))?;
            columns.insert(*f, i);
        }
        ImportFormat::Mapped
    } else if is_focus {
        if kind != ImportKind::Costs {
            return Err("format: FOCUS files hold costs, not token usage".into());
        }
        for (field, column) in FOCUS_COLUMNS {
            if let Some(i) = find(column) {
                columns.insert(field, i);
            }
        }
        if !columns.contains_key("vendor")
            && let Some(i) = find("PublisherName")
        {
            columns.insert("vendor", i);
        }
        ImportFormat::Focus
    } else {
        ImportFormat::Native
    };
    for f in fields {
        if !columns.contains_key(f)
            && format != ImportFormat::Focus
            && let Some(i) = find(f)
        {
            columns.insert(*f, i);
        }
    }
    let required: &[&str] = match kind {
        ImportKind::Costs => &["date", "amount", "currency", "domain"],
        ImportKind::TokenUsage => &["provider", "model", "tokens_in", "tokens_out", "domain"],
    };
    let missing: Vec<String> = required
        .iter()
        .filter(|f| !(columns.contains_key(*f) || (**f == "domain" && domain_given)))
        .map(|f| match format {
            ImportFormat::Focus => FOCUS_COLUMNS
                .iter()
                .find(|(field, _)| field == f)
                .map_or((*f).to_owned(), |(_, c)| (*c).to_owned()),
            _ => (*f).to_owned(),
        })
        .collect();
    if !missing.is_empty() {
        let expected = match kind {
            ImportKind::Costs => {
                "FOCUS (BilledCost, BillingCurrency, ChargePeriodStart, SubAccountName) or native (date, amount, currency, domain)"
            }
            ImportKind::TokenUsage => "provider, model, tokens_in, tokens_out, domain",
        };
        return Err(format!(
            "the header lacks the column(s) {}; expected {expected}, or a map",
            missing.join(", ")
        ));
    }
    Ok(Layout {
        format,
        columns,
        width: headers.len(),
    })
}

/// Counts the bytes handed to the CSV parser and fails once a record runs past the limit, so a
/// huge line or an unterminated quote never grows memory beyond it.
struct Bounded<R> {
    inner: R,
    read: u64,
    record_start: Rc<Cell<u64>>,
    limit: u64,
}

/// The error text a [`Bounded`] reader fails with.
const TOO_LONG: &str = "record too long";

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read - self.record_start.get() > self.limit {
            return Err(std::io::Error::other(TOO_LONG));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Bytes the parser may buffer beyond the record it is reading.
const PARSER_BUFFER: usize = 64 * 1024;

/// A CSV file read record by record.
pub struct Records<R: Read> {
    csv: csv::Reader<Bounded<R>>,
    record_start: Rc<Cell<u64>>,
    max_record: usize,
    record: ByteRecord,
    pub headers: Vec<String>,
}

impl<R: Read> Records<R> {
    /// Opens `input` and reads its header; a header that is not UTF-8 text is refused.
    pub fn open(input: R, max_record: usize) -> Result<Self, String> {
        let record_start = Rc::new(Cell::new(0));
        let bounded = Bounded {
            inner: input,
            read: 0,
            record_start: record_start.clone(),
            limit: (max_record + PARSER_BUFFER) as u64,
        };
        // Records end at `\n` only: with CRLF ends the parser would count the `\n` into the
        // next record and report every line one too low. A `\r` left on a value is trimmed.
        let csv = csv::ReaderBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .flexible(true)
            .buffer_capacity(PARSER_BUFFER)
            .from_reader(bounded);
        let mut this = Self {
            csv,
            record_start,
            max_record,
            record: ByteRecord::new(),
            headers: Vec::new(),
        };
        let raw = match this.csv.byte_headers() {
            Ok(h) => h.clone(),
            Err(e) => return Err(fatal(e, 1, max_record)),
        };
        if raw.is_empty() || raw.iter().all(|h| h.is_empty()) {
            return Err("the file is empty: expected a header line".into());
        }
        this.headers = raw
            .iter()
            .map(|h| {
                std::str::from_utf8(h)
                    .map(|s| s.trim_start_matches('\u{feff}').trim().to_owned())
                    .map_err(|_| "the header is not UTF-8 text".to_owned())
            })
            .collect::<Result<_, _>>()?;
        this.record_start.set(this.csv.position().byte());
        Ok(this)
    }

    /// The next record and the line it starts on.
    pub fn next_record(&mut self) -> Result<Option<(u64, &ByteRecord)>, String> {
        let line = self.csv.position().line();
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let end = self.csv.position().byte();
                let len = end - self.record_start.get();
                self.record_start.set(end);
                if len > self.max_record as u64 {
                    return Err(format!(
                        "line {line}: a record is longer than {} bytes; nothing was imported",
                        self.max_record
                    ));
                }
                Ok(Some((line, &self.record)))
            }
            Err(e) => Err(fatal(e, line, self.max_record)),
        }
    }
}

/// The message of a read error that ends the import.
fn fatal(e: csv::Error, line: u64, max_record: usize) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) if io.to_string() == TOO_LONG => format!(
            "line {line}: a record is longer than {max_record} bytes (an unterminated quote or a runaway line); nothing was imported"
        ),
        _ => format!("line {line}: {e}"),
    }
}

/// What rows need besides their own fields.
pub struct RowContext<'a> {
    pub kind: ImportKind,
    pub layout: &'a Layout,
    /// The domain of every row, when the import names one.
    pub domain: Option<&'a str>,
    /// Existing domains.
    pub known: &'a HashSet<String>,
    pub who: &'a Principal,
    pub cfg: &'a FinConfig,
    pub import_id: &'a str,
}

/// A readable row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Cost(Entry),
    Token(TokenRow),
}

impl RowContext<'_> {
    fn text<'r>(
        &self,
        rec: &'r ByteRecord,
        line: u64,
        field: &str,
    ) -> Result<Option<&'r str>, RowError> {
        let Some(i) = self.layout.columns.get(field) else {
            return Ok(None);
        };
        let raw = rec.get(*i).unwrap_or_default();
        let text = std::str::from_utf8(raw).map_err(|_| RowError {
            line,
            field: Some(field.to_owned()),
            message: "is not UTF-8 text".into(),
        })?;
        Ok(Some(text.trim()).filter(|t| !t.is_empty()))
    }

    fn error(line: u64, field: &str, message: impl Into<String>) -> RowError {
        RowError {
            line,
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    fn domain(&self, rec: &ByteRecord, line: u64) -> Result<String, RowError> {
        let d = match self.domain {
            Some(d) => d.to_owned(),
            None => self
                .text(rec, line, "domain")?
                .ok_or_else(|| Self::error(line, "domain", "is empty"))?
                .to_owned(),
        };
        if !self.known.contains(&d) {
            return Err(Self::error(line, "domain", format!("unknown domain {d}")));
        }
        if !self.who.may_use_domain(&d) {
            return Err(Self::error(
                line,
                "domain",
                format!("no access to domain {d}"),
            ));
        }
        Ok(d)
    }

    /// The row's external id: its own column, else a hash of all its fields (so the same line
    /// imported again is recognised).
    fn external_id(&self, rec: &ByteRecord, line: u64) -> Result<String, RowError> {
        if let Some(id) = self.text(rec, line, "external_id")? {
            return Ok(id.to_owned());
        }
        let mut h = Sha256::new();
        for field in rec {
            h.update(field);
            h.update([0x1f]);
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = String::with_capacity(39);
        id.push_str("sha256:");
        for b in &h.finalize()[..16] {
            id.push(HEX[usize::from(b >> 4)] as char);
            id.push(HEX[usize::from(b & 15)] as char);
        }
        Ok(id)
    }

    /// Reads one record into a row, or the first problem with it.
    pub fn row(&self, rec: &ByteRecord, line: u64) -> Result<Row, RowError> {
        if rec.len() != self.layout.width {
            return Err(RowError {
                line,
                field: None,
                message: format!(
                    "has {} fields, the header has {}",
                    rec.len(),
                    self.layout.width
                ),
            });
        }
        let required = |field: &str| -> Result<&str, RowError> {
            self.text(rec, line, field)?
                .ok_or_else(|| Self::error(line, field, "is empty"))
        };
        let optional = |field: &str| -> Result<Option<String>, RowError> {
            Ok(self.text(rec, line, field)?.map(str::to_owned))
        };
        let domain = self.domain(rec, line)?;
        let external_id = self.external_id(rec, line)?;
        let to_row_error = |e: HubError| match e {
            HubError::Invalid(mut errors) if !errors.is_empty() => {
                let first = errors.swap_remove(0);
                Self::error(line, &first.field, first.message)
            }
            other => RowError {
                line,
                field: None,
                message: other.to_string(),
            },
        };
        match self.kind {
            ImportKind::Costs => {
                let currency = required("currency")?.to_ascii_uppercase();
                let exp = exponent(&currency).ok_or_else(|| {
                    Self::error(
                        line,
                        "currency",
                        format!("{currency:?} is not an ISO 4217 currency code"),
                    )
                })?;
                let amount_text = required("amount")?;
                let amount = Decimal::parse(amount_text)
                    .and_then(|d| d.to_minor(exp))
                    .map_err(|m| Self::error(line, "amount", m))?;
                let date =
                    parse_date(required("date")?).map_err(|m| Self::error(line, "date", m))?;
                let entry = Entry {
                    date,
                    amount,
                    currency,
                    domain,
                    service_id: optional("service_id")?,
                    vendor: optional("vendor")?,
                    source: Source::Import,
                    external_id,
                    import_id: Some(self.import_id.to_owned()),
                };
                let mut v = Validator::new();
                check_entry(&mut v, &entry);
                v.finish().map_err(to_row_error)?;
                Ok(Row::Cost(entry))
            }
            ImportKind::TokenUsage => {
                let count = |field: &str| -> Result<i64, RowError> {
                    required(field)?
                        .parse()
                        .map_err(|_| Self::error(line, field, "is not a whole number"))
                };
                let currency = optional("currency")?.map(|c| c.to_ascii_uppercase());
                let cost = match optional("cost")? {
                    Some(c) => {
                        let cur = currency
                            .clone()
                            .unwrap_or_else(|| self.cfg.currency.clone());
                        let exp = exponent(&cur).ok_or_else(|| {
                            Self::error(
                                line,
                                "currency",
                                format!("{cur:?} is not an ISO 4217 currency code"),
                            )
                        })?;
                        Some(
                            Decimal::parse(&c)
                                .and_then(|d| d.to_minor(exp))
                                .map_err(|m| Self::error(line, "cost", m))?,
                        )
                    }
                    None => None,
                };
                let time = match optional("time")? {
                    Some(t) => Some(parse_time(&t).map_err(|m| Self::error(line, "time", m))?),
                    None => None,
                };
                let new = NewTokenSpend {
                    provider: required("provider")?.to_owned(),
                    model: required("model")?.to_owned(),
                    tokens_in: count("tokens_in")?,
                    tokens_out: count("tokens_out")?,
                    cost,
                    currency,
                    session_id: optional("session_id")?,
                    domain,
                    time,
                    external_id: Some(external_id),
                };
                let agent = optional("agent")?.unwrap_or_else(|| self.who.sub.clone());
                Ok(Row::Token(
                    validate(self.cfg, new, &agent).map_err(to_row_error)?,
                ))
            }
        }
    }
}

/// A date, or the date of a timestamp (`2026-01-31`, `2026-01-31T00:00:00Z`, `2026-01-31 00:00:00`).
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let bad = || format!("{text:?} is not a date such as 2026-01-31");
    let head = text.get(..10).ok_or_else(bad)?;
    let rest = &text[10..];
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
        return Err(bad());
    }
    // The common shape without chrono's format interpreter (the same answer, several times faster).
    let b = head.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b[4] == b'-'
        && b[7] == b'-'
        && let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10))
    {
        return NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(bad);
    }
    NaiveDate::parse_from_str(head, "%Y-%m-%d").map_err(|_| bad())
}

fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    if text.len() == 10 {
        let d = parse_date(text)?;
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    Err(format!(
        "{text:?} is not an RFC 3339 time such as 2026-01-31T12:00:00Z or a date"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn layouts_are_found_or_refused_with_the_missing_columns() {
        let none = BTreeMap::new();
        let focus = layout(
            ImportKind::Costs,
            None,
            &none,
            &headers(&[
                "BilledCost",
                "BillingCurrency",
                "ChargePeriodStart",
                "ServiceName",
                "SubAccountName",
            ]),
            false,
        )
        .unwrap();
        assert_eq!(focus.format, ImportFormat::Focus);
        assert_eq!(focus.columns["service_id"], 3);
        let native = layout(
            ImportKind::Costs,
            None,
            &none,
            &headers(&["amount", "currency", "date"]),
            true,
        )
        .unwrap();
        assert_eq!(native.format, ImportFormat::Native);
        let err = layout(
            ImportKind::Costs,
            None,
            &none,
            &headers(&["BilledCost", "ServiceName"]),
            false,
        )
        .unwrap_err();
        assert!(
            err.contains("BillingCurrency, ChargePeriodStart, SubAccountName"),
            "{err}"
        );
        let map = BTreeMap::from([
            ("amount".to_owned(), "Cost".to_owned()),
            ("date".to_owned(), "Day".to_owned()),
        ]);
        let mapped = layout(
            ImportKind::Costs,
            None,
            &map,
            &headers(&["Day", "Cost", "currency"]),
            true,
        )
        .unwrap();
        assert_eq!(
            (
                mapped.format,
                mapped.columns["amount"],
                mapped.columns["currency"]
            ),
            (ImportFormat::Mapped, 1, 2)
        );
        let bad = BTreeMap::from([("colour".to_owned(), "Day".to_owned())]);
        assert!(
            layout(ImportKind::Costs, None, &bad, &headers(&["Day"]), true)
                .unwrap_err()
                .contains("unknown field colour")
        );
    }

    #[test]
    fn records_keep_line_numbers_across_quoted_newlines_and_long_records_stop_the_read() {
        let text = "a,b\n1,\"two\nlines\"\n3,4\n";
        let mut r = Records::open(text.as_bytes(), 1000).unwrap();
        assert_eq!(r.headers, ["a", "b"]);
        assert_eq!(
            r.next_record().unwrap().map(|(l, rec)| (l, rec.len())),
            Some((2, 2))
        );
        assert_eq!(r.next_record().unwrap().map(|(l, _)| l), Some(4));
        assert!(r.next_record().unwrap().is_none());

        let long = format!("a,b\n1,2\n3,{}\n", "x".repeat(5000));
        let mut r = Records::open(long.as_bytes(), 1000).unwrap();
        assert!(r.next_record().unwrap().is_some());
        let err = r.next_record().unwrap_err();
        assert!(
            err.starts_with("line 3: a record is longer than 1000 bytes"),
            "{err}"
        );

        let refused = |input: &[u8]| Records::open(input, 1000).err().unwrap_or_default();
        assert!(refused(b"\xff\xfea,b\n").contains("UTF-8"));
        assert!(refused(b"").contains("empty"));
    }

    #[test]
    fn a_byte_order_mark_and_crlf_line_ends_are_read() {
        let mut r = Records::open(&b"\xef\xbb\xbfa,b\n1,2\n"[..], 1000).unwrap();
        assert_eq!(r.headers, ["a", "b"]);
        let (line, rec) = r.next_record().unwrap().unwrap();
        assert_eq!((line, rec.get(1)), (2, Some(&b"2"[..])));
        let mut r = Records::open(&b"a,b\r\n1,2\r\n3,4\r\n"[..], 1000).unwrap();
        assert_eq!(r.next_record().unwrap().map(|(l, _)| l), Some(2));
        assert_eq!(r.next_record().unwrap().map(|(l, _)| l), Some(3));
    }

    #[test]
    fn dates_take_timestamps_too() {
        assert_eq!(
            parse_date("2026-01-31T00:00:00Z").unwrap().to_string(),
            "2026-01-31"
        );
        assert_eq!(
            parse_date("2026-01-31 10:00").unwrap().to_string(),
            "2026-01-31"
        );
        for bad in ["2026-02-30", "31/01/2026", "2026-01-31x", ""] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
