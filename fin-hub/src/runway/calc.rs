//! Runway arithmetic as a pure function: cash now from the latest balance, then month by month
//! forward at the projected burn until the money runs out.

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use crate::burn::calc::{MonthTotal, Terms, committed};
use crate::money::{NoRate, Period, Rates, div_round};

/// Runway is not followed past this many months: beyond it the money does not run out.
pub const HORIZON_MONTHS: u32 = 1200;

/// What a runway computation needs; amounts in minor units.
#[derive(Debug, Clone)]
pub struct RunwayInput<'a> {
    pub as_of: NaiveDate,
    pub currency: &'a str,
    /// The latest balance at or before `as_of`, in `currency`.
    pub balance: i64,
    pub balance_date: NaiveDate,
    /// Ledger totals of the balance's month and later.
    pub spend: &'a [MonthTotal],
    /// The projected monthly ledger spend (the burn's trailing average).
    pub trailing_average: i64,
    pub commitments: &'a [Terms],
    pub threshold_months: u32,
}

/// How long the money lasts.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Runway {
    pub currency: String,
    pub as_of: NaiveDate,
    /// The balance snapshot the runway starts from.
    pub balance: i64,
    pub balance_date: NaiveDate,
    /// Cash on `as_of`: the balance less the spend and commitments since its date.
    pub cash: i64,
    /// Projected burn of the coming month: trailing average plus its commitments.
    pub monthly_burn: i64,
    /// Months until the cash is gone (two decimals); `null` when it lasts past the horizon.
    pub months_left: Option<f64>,
    /// The day the cash is gone; `null` when it lasts past the horizon.
    pub run_out_date: Option<NaiveDate>,
    pub threshold_months: u32,
    /// True when `months_left` is under `threshold_months`.
    pub below_threshold: bool,
}

/// Spend since the balance date: the days after it in its own month (a day-proportional share
/// of that month's total), then the whole months up to `as_of`'s.
fn spent_since(input: &RunwayInput<'_>, rates: &Rates) -> Result<i64, NoRate> {
    let first = Period::of(input.balance_date);
    let last = Period::of(input.as_of);
    let mut sum = 0i64;
    for t in input
        .spend
        .iter()
        .filter(|t| t.period >= first && t.period <= last)
    {
        let total = rates.convert(t.total, &t.currency, input.currency)?;
        sum += if t.period == first {
            let after = first.days() - input.balance_date.day() as i64;
            div_round(total as i128 * after as i128, first.days() as i128) as i64
        } else {
            total
        };
    }
    Ok(sum)
}

pub fn runway(input: &RunwayInput<'_>, rates: &Rates) -> Result<Runway, NoRate> {
    let (currency, as_of) = (input.currency, input.as_of);
    let next_day = |d: NaiveDate| d.checked_add_days(Days::new(1)).expect("date in range");
    let cash = input.balance
        - spent_since(input, rates)?
        - committed(
            input.commitments,
            next_day(input.balance_date),
            as_of,
            currency,
            rates,
        )?;
    let next = Period::of(as_of).next();
    let monthly_burn = input.trailing_average
        + committed(
            input.commitments,
            next.first_day(),
            next.last_day(),
            currency,
            rates,
        )?;

    let (mut left, mut months, mut day) = (cash, 0f64, next_day(as_of));
    let mut out = (cash <= 0).then_some((0f64, as_of));
    for _ in 0..HORIZON_MONTHS {
        if out.is_some() {
            break;
        }
        let month = Period::of(day);
        let (end, dim) = (month.last_day(), month.days());
        let days = (end - day).num_days() + 1;
        let burn = div_round(input.trailing_average as i128 * days as i128, dim as i128) as i64
            + committed(input.commitments, day, end, currency, rates)?;
        if burn > 0 && burn >= left {
            // Spend is taken as even over the days of the month.
            let covered = (left as i128 * days as i128 / burn as i128) as i64;
            out = Some((
                months + covered as f64 / dim as f64,
                day + chrono::Duration::days(covered),
            ));
        } else {
            left -= burn;
            months += days as f64 / dim as f64;
            day = next_day(end);
        }
    }
    let months_left = out.map(|(m, _)| (m * 100.0).round() / 100.0);
    Ok(Runway {
        currency: currency.to_owned(),
        as_of,
        balance: input.balance,
        balance_date: input.balance_date,
        cash,
        monthly_burn,
        months_left,
        run_out_date: out.map(|(_, d)| d),
        threshold_months: input.threshold_months,
        below_threshold: months_left.is_some_and(|m| m < input.threshold_months as f64),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::commitment::model::Cadence;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn input<'a>(spend: &'a [MonthTotal], commitments: &'a [Terms]) -> RunwayInput<'a> {
        RunwayInput {
            as_of: d("2026-03-15"),
            currency: "EUR",
            balance: 1_000_000,
            balance_date: d("2026-03-15"),
            spend,
            trailing_average: 300_000,
            commitments,
            threshold_months: 6,
        }
    }

    #[test]
    fn runway_by_hand_at_a_steady_burn() {
        let r = runway(&input(&[], &[]), &Rates::default()).unwrap();
        // March 16..31: 300000 * 16/31 = 154839 -> 845161 left (0.516 months);
        // April, May: 300000 each -> 245161 left (2.516 months);
        // June: 245161 * 30 / 300000 = 24.5 -> 24 days, June 25 (0.8 months) -> 3.32 months.
        assert_eq!(r.cash, 1_000_000);
        assert_eq!(r.monthly_burn, 300_000);
        assert_eq!(r.months_left, Some(3.32));
        assert_eq!(r.run_out_date, Some(d("2026-06-25")));
        assert!(r.below_threshold);
    }

    #[test]
    fn spend_and_commitments_since_the_balance_reduce_cash_and_an_ending_commitment_extends_runway()
    {
        let spend = [
            MonthTotal {
                period: Period::parse("2026-02").unwrap(),
                currency: "EUR".into(),
                total: 999,
            },
            MonthTotal {
                period: Period::parse("2026-03").unwrap(),
                currency: "USD".into(),
                total: 62_000,
            },
        ];
        // 3100 a month, ending April 15.
        let c = [Terms {
            amount: 3_100,
            currency: "EUR".into(),
            cadence: Cadence::Monthly,
            start: d("2025-01-01"),
            end: Some(d("2026-04-15")),
        }];
        let rates =
            Rates::parse(&BTreeMap::from([("USD/EUR".to_owned(), "0.5".to_owned())])).unwrap();
        let mut i = input(&spend, &c);
        i.balance_date = d("2026-03-05");
        i.trailing_average = 0;
        let r = runway(&i, &rates).unwrap();
        // March spend 62000 USD = 31000 EUR; 26 of 31 days after March 5 -> 26000.
        // Commitment March 6..15: 3100 * 10/31 = 1000. February's total is before the balance.
        assert_eq!(r.cash, 1_000_000 - 26_000 - 1_000);
        // The coming month is April, whose first 15 of 30 days are promised: 1550.
        assert_eq!(r.monthly_burn, 1_550);
        // Only 1600 (March 16..31) + 1550 (April 1..15) ever leave: the money lasts.
        assert_eq!(
            (r.months_left, r.run_out_date, r.below_threshold),
            (None, None, false)
        );
    }

    #[test]
    fn no_cash_means_no_runway_and_a_missing_rate_is_refused() {
        let mut i = input(&[], &[]);
        i.balance = 0;
        let r = runway(&i, &Rates::default()).unwrap();
        assert_eq!(
            (r.months_left, r.run_out_date),
            (Some(0.0), Some(d("2026-03-15")))
        );
        let spend = [MonthTotal {
            period: Period::parse("2026-03").unwrap(),
            currency: "GBP".into(),
            total: 1,
        }];
        assert!(runway(&input(&spend, &[]), &Rates::default()).is_err());
    }
}
