//! The fin module's settings (`[modules.fin]` in the hub config), validated at registration.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::money::{Decimal, Rates, exponent};

/// The settings as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinConfig {
    currency: Option<String>,
    thresholds: Option<Vec<u32>>,
    runway_alert_months: Option<u32>,
    trailing_months: Option<u32>,
    import_max_bytes: Option<u64>,
    max_record_bytes: Option<usize>,
    #[serde(default)]
    rates: BTreeMap<String, String>,
    /// `prices.<provider>.<model>`.
    #[serde(default)]
    prices: BTreeMap<String, BTreeMap<String, RawPrice>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    currency: String,
    /// Price of one million input tokens, in major units (`"2.50"`).
    input_per_million: String,
    output_per_million: String,
}

/// The price of a model's tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub currency: String,
    pub input_per_million: Decimal,
    pub output_per_million: Decimal,
}

/// Validated settings of the fin module.
#[derive(Debug, Clone)]
pub struct FinConfig {
    /// The currency reports use unless a request names another.
    pub currency: String,
    /// Budget alert thresholds in percent of the allocation, ascending.
    pub thresholds: Vec<u32>,
    /// Runway below this many months raises the viability alert.
    pub runway_alert_months: u32,
    /// Complete months the trailing average of spend covers.
    pub trailing_months: u32,
    pub rates: Rates,
    /// Token prices by (provider, model).
    pub prices: BTreeMap<(String, String), Price>,
    /// The largest CSV upload accepted.
    pub import_max_bytes: u64,
    /// The longest CSV record accepted; a longer one ends the import before anything is written.
    pub max_record_bytes: usize,
}

impl Default for FinConfig {
    fn default() -> Self {
        Self::from_toml(None).expect("the defaults are valid")
    }
}

impl FinConfig {
    /// Validates the `[modules.fin]` table (absent: every default).
    pub fn from_toml(table: Option<&toml::Table>) -> Result<Self, String> {
        let raw: RawFinConfig = match table {
            Some(t) => toml::Value::Table(t.clone())
                .try_into()
                .map_err(|e: toml::de::Error| e.to_string())?,
            None => RawFinConfig::default(),
        };
        let currency = raw.currency.unwrap_or_else(|| "EUR".into());
        if exponent(&currency).is_none() {
            return Err(format!("currency: {currency:?} is not an ISO 4217 code"));
        }
        let mut thresholds = raw.thresholds.unwrap_or_else(|| vec![80, 90, 100]);
        thresholds.sort_unstable();
        thresholds.dedup();
        if thresholds.is_empty() || thresholds.iter().any(|t| !(1..=1000).contains(t)) {
            return Err("thresholds: must be 1 to 1000 percent, at least one".into());
        }
        let mut prices = BTreeMap::new();
        for (provider, models) in raw.prices {
            for (model, p) in models {
                let field = format!("prices.{provider}.{model}");
                if exponent(&p.currency).is_none() {
                    return Err(format!(
                        "{field}.currency: {:?} is not an ISO 4217 code",
                        p.currency
                    ));
                }
                // At most 9 digits keeps the cost of any token count inside i128.
                let read = |v: &str, name: &str| {
                    Decimal::parse(v)
                        .ok()
                        .filter(|d| d.mantissa >= 0 && d.mantissa < 10i128.pow(9) && d.scale <= 9)
                        .ok_or_else(|| {
                            format!("{field}.{name}: {v:?} is not a decimal of at least 0 with at most 9 digits")
                        })
                };
                prices.insert(
                    (provider.clone(), model),
                    Price {
                        input_per_million: read(&p.input_per_million, "input_per_million")?,
                        output_per_million: read(&p.output_per_million, "output_per_million")?,
                        currency: p.currency,
                    },
                );
            }
        }
        Ok(Self {
            currency,
            thresholds,
            runway_alert_months: raw.runway_alert_months.unwrap_or(6),
            trailing_months: raw.trailing_months.unwrap_or(3).clamp(1, 24),
            rates: Rates::parse(&raw.rates)?,
            prices,
            import_max_bytes: raw.import_max_bytes.unwrap_or(2 << 30),
            max_record_bytes: raw.max_record_bytes.unwrap_or(1 << 20),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_validated_and_defaulted() {
        let c = FinConfig::default();
        assert_eq!(
            (c.currency.as_str(), c.thresholds.as_slice()),
            ("EUR", &[80, 90, 100][..])
        );
        assert_eq!((c.runway_alert_months, c.trailing_months), (6, 3));
        let t: toml::Table = toml::from_str(
            r#"
            currency = "USD"
            thresholds = [100, 50]
            [rates]
            "EUR/USD" = "1.08"
            [prices.openai."gpt-4o"]
            currency = "USD"
            input_per_million = "2.50"
            output_per_million = "10"
            "#,
        )
        .unwrap();
        let c = FinConfig::from_toml(Some(&t)).unwrap();
        assert_eq!(c.thresholds, [50, 100]);
        assert_eq!(c.rates.convert(100, "EUR", "USD"), Ok(108));
        assert_eq!(
            c.prices[&("openai".into(), "gpt-4o".into())].input_per_million,
            Decimal {
                mantissa: 250,
                scale: 2
            }
        );
        for bad in [
            "currency = \"eur\"",
            "colour = 1",
            "thresholds = [0]",
            "[rates]\n\"USD/EUR\" = \"-1\"",
        ] {
            let t: toml::Table = toml::from_str(bad).unwrap();
            assert!(FinConfig::from_toml(Some(&t)).is_err(), "{bad}");
        }
    }
}
