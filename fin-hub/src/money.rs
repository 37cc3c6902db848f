//! Money and calendar values: integer minor units with ISO 4217 codes, decimals parsed without
//! floating point, conversion by configured rates, months, and the accepted ranges.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use hub_core::HubError;
use hub_core::error::Validator;

/// The largest amount one record may carry, in minor units (10 billion in a 2-decimal currency):
/// larger values are typing mistakes, and sums of many such values still fit in an `i64`.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// Current ISO 4217 codes with their minor-unit exponent (funds, metals and test codes left out).
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// The minor-unit exponent of an ISO 4217 code, or `None` for an unknown code.
pub fn exponent(code: &str) -> Option<u8> {
    CURRENCIES
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| CURRENCIES[i].1)
}

/// The first and last dates the fin hub accepts: anything else is a typing mistake.
pub fn date_range() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date"),
        NaiveDate::from_ymd_opt(2100, 12, 31).expect("valid date"),
    )
}

/// Reads a `YYYY-MM-DD` argument of a tool (REST bodies get theirs from serde).
pub fn parse_day(text: &str, field: &str) -> Result<NaiveDate, HubError> {
    text.parse().map_err(|_| {
        HubError::bad_request(field, format!("{text:?} is not a date such as 2026-01-31"))
    })
}

/// Field checks shared by every fin resource.
pub trait MoneyChecks {
    fn currency(&mut self, code: &str, field: &str) -> &mut Self;
    fn amount(&mut self, amount: i64, field: &str) -> &mut Self;
    fn date(&mut self, date: NaiveDate, field: &str) -> &mut Self;
}

// The messages are formatted only for a failing check: imports run these on every row.
impl MoneyChecks for Validator {
    fn currency(&mut self, code: &str, field: &str) -> &mut Self {
        if exponent(code).is_some() {
            return self;
        }
        self.check(
            false,
            field,
            format!("{code:?} is not an ISO 4217 currency code (upper case, e.g. EUR)"),
        )
    }

    fn amount(&mut self, amount: i64, field: &str) -> &mut Self {
        if (0..=MAX_AMOUNT).contains(&amount) {
            return self;
        }
        self.check(
            false,
            field,
            format!("must be between 0 and {MAX_AMOUNT} minor units"),
        )
    }

    fn date(&mut self, date: NaiveDate, field: &str) -> &mut Self {
        let (first, last) = date_range();
        if (first..=last).contains(&date) {
            return self;
        }
        self.check(false, field, format!("must be between {first} and {last}"))
    }
}

/// An exact decimal number: `mantissa / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    pub mantissa: i128,
    pub scale: u32,
}

impl Decimal {
    /// Parses `-?digits[.digits]` with at most 30 digits; no exponents, no grouping.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let ok = !(int.is_empty() && frac.is_empty())
            && int.len() + frac.len() <= 30
            && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit());
        if !ok {
            return Err(format!("{text:?} is not a decimal number such as 12.34"));
        }
        // At most 30 digits: no overflow.
        let mantissa = int
            .bytes()
            .chain(frac.bytes())
            .fold(0i128, |m, b| m * 10 + i128::from(b - b'0'));
        Ok(Self {
            mantissa: if negative { -mantissa } else { mantissa },
            scale: frac.len() as u32,
        })
    }

    /// The value in minor units of a currency with `exponent` decimals, rounded half away from zero.
    pub fn to_minor(self, exponent: u8) -> Result<i64, String> {
        let scaled = scale_div(self.mantissa, exponent as u32, self.scale);
        i64::try_from(scaled).map_err(|_| "is too large".to_owned())
    }
}

/// `value * 10^up / 10^down`, rounded half away from zero.
fn scale_div(value: i128, up: u32, down: u32) -> i128 {
    if up >= down {
        value.saturating_mul(10i128.saturating_pow(up - down))
    } else {
        div_round(value, 10i128.pow((down - up).min(38)))
    }
}

/// `num / den` rounded half away from zero; `den` must be positive.
pub fn div_round(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// Exchange rates from configuration: `"USD/EUR" = "0.92"` means 1 USD buys 0.92 EUR.
#[derive(Debug, Clone, Default)]
pub struct Rates(BTreeMap<(String, String), Decimal>);

/// No rate converts between two currencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRate {
    pub from: String,
    pub to: String,
}

impl fmt::Display for NoRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no conversion rate from {} to {} is configured (modules.fin.rates)",
            self.from, self.to
        )
    }
}

impl From<NoRate> for HubError {
    fn from(e: NoRate) -> Self {
        HubError::invalid("currency", e.to_string())
    }
}

impl Rates {
    /// Reads `FROM/TO = "rate"` entries; the rate must be positive.
    pub fn parse(entries: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut rates = BTreeMap::new();
        for (pair, rate) in entries {
            let (from, to) = pair
                .split_once('/')
                .filter(|(f, t)| exponent(f).is_some() && exponent(t).is_some())
                .ok_or_else(|| {
                    format!("rates.{pair:?}: key must be FROM/TO with ISO 4217 codes")
                })?;
            // At most 12 digits keeps every conversion of an i64 amount inside i128.
            let rate = Decimal::parse(rate)
                .ok()
                .filter(|r| r.mantissa > 0 && r.mantissa < 10i128.pow(12) && r.scale <= 12)
                .ok_or_else(|| {
                    format!("rates.{pair}: {rate:?} is not a positive decimal of at most 12 digits")
                })?;
            rates.insert((from.to_owned(), to.to_owned()), rate);
        }
        Ok(Self(rates))
    }

    /// `amount` minor units of `from` in minor units of `to`, rounded half away from zero; the
    /// inverse of a configured rate serves the other direction.
    pub fn convert(&self, amount: i64, from: &str, to: &str) -> Result<i64, NoRate> {
        if from == to {
            return Ok(amount);
        }
        let no_rate = || NoRate {
            from: from.to_owned(),
            to: to.to_owned(),
        };
        let (ef, et) = (
            exponent(from).ok_or_else(no_rate)? as u32,
            exponent(to).ok_or_else(no_rate)? as u32,
        );
        let a = amount as i128;
        let value = if let Some(r) = self.0.get(&(from.to_owned(), to.to_owned())) {
            // amount * m / 10^s * 10^et / 10^ef
            div_round(a * r.mantissa * 10i128.pow(et), 10i128.pow(r.scale + ef))
        } else if let Some(r) = self.0.get(&(to.to_owned(), from.to_owned())) {
            div_round(a * 10i128.pow(r.scale + et), r.mantissa * 10i128.pow(ef))
        } else {
            return Err(no_rate());
        };
        Ok(value.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }
}

/// A calendar month, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Parses `YYYY-MM` inside the accepted date range.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a month such as 2026-01 between 2000-01 and 2100-12");
        let (y, m) = text.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Self { year, month })
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid month")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("valid date")
    }

    pub fn days(self) -> i64 {
        (self.last_day() - self.first_day()).num_days() + 1
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn prev(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// This month moved by `n` months (negative: back).
    pub fn plus(self, n: i32) -> Self {
        let index = self.year * 12 + self.month as i32 - 1 + n;
        Self {
            year: index.div_euclid(12),
            month: (index.rem_euclid(12) + 1) as u32,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_currency_list_is_sorted_and_knows_exponents() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(exponent("EUR"), Some(2));
        assert_eq!(exponent("JPY"), Some(0));
        assert_eq!(exponent("KWD"), Some(3));
        assert_eq!(exponent("eur"), None);
        assert_eq!(exponent("XXX"), None);
    }

    #[test]
    fn decimals_become_minor_units_rounding_half_away_from_zero() {
        let minor = |t: &str, e| Decimal::parse(t).unwrap().to_minor(e).unwrap();
        assert_eq!(minor("12.34", 2), 1234);
        assert_eq!(minor("12", 2), 1200);
        assert_eq!(minor("0.005", 2), 1);
        assert_eq!(minor("0.0049", 2), 0);
        assert_eq!(minor("-0.005", 2), -1);
        assert_eq!(minor("1234.5", 0), 1235);
        assert_eq!(minor(".5", 3), 500);
        for bad in ["", "1e5", "1,000.00", "abc", "1.2.3", "-", "."] {
            assert!(Decimal::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_convert_both_ways_and_refuse_unknown_pairs() {
        let rates = Rates::parse(&BTreeMap::from([
            ("USD/EUR".to_owned(), "0.92".to_owned()),
            ("EUR/JPY".to_owned(), "160".to_owned()),
        ]))
        .unwrap();
        // 100.00 USD = 92.00 EUR
        assert_eq!(rates.convert(10_000, "USD", "EUR"), Ok(9_200));
        // 92.00 EUR = 100.00 USD by the inverse rate
        assert_eq!(rates.convert(9_200, "EUR", "USD"), Ok(10_000));
        // 1.00 EUR = 160 JPY (exponent 2 -> 0)
        assert_eq!(rates.convert(100, "EUR", "JPY"), Ok(160));
        // 1 JPY = 0.00625 EUR -> 0.01 EUR after rounding
        assert_eq!(rates.convert(1, "JPY", "EUR"), Ok(1));
        assert_eq!(
            rates.convert(1, "USD", "GBP"),
            Err(NoRate {
                from: "USD".into(),
                to: "GBP".into()
            })
        );
        assert!(Rates::parse(&BTreeMap::from([("USD-EUR".to_owned(), "1".to_owned())])).is_err());
        assert!(Rates::parse(&BTreeMap::from([("USD/EUR".to_owned(), "0".to_owned())])).is_err());
        let long = BTreeMap::from([("USD/EUR".to_owned(), "0.1234567890123".to_owned())]);
        assert!(Rates::parse(&long).is_err());
    }

    #[test]
    fn periods_parse_and_step() {
        let p = Period::parse("2024-02").unwrap();
        assert_eq!(p.days(), 29);
        assert_eq!(p.next().to_string(), "2024-03");
        assert_eq!(
            Period::parse("2024-01").unwrap().prev().to_string(),
            "2023-12"
        );
        assert_eq!(p.plus(-3).to_string(), "2023-11");
        assert_eq!(p.plus(11).to_string(), "2025-01");
        for bad in ["2024-13", "24-01", "2024-1", "1999-12", "2101-01", "x"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
