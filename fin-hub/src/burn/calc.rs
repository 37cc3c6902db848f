//! Burn-rate arithmetic as pure functions: commitment shares of a date range, actual spend per
//! month, the trailing average and the projections built on them. Amounts are converted into
//! the report currency before they are added; a missing rate is an error, never a guess.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use crate::commitment::model::Cadence;
use crate::money::{NoRate, Period, Rates, div_round};

/// What a commitment promises, as the arithmetic needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub amount: i64,
    pub currency: String,
    pub cadence: Cadence,
    pub start: NaiveDate,
    /// Inclusive; `None` runs on.
    pub end: Option<NaiveDate>,
}

/// Spend of one month in one currency, from the ledger totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthTotal {
    pub period: Period,
    pub currency: String,
    pub total: i64,
}

/// The part of a commitment that falls on the days `from..=to`, in its own currency.
///
/// A one-off payment falls whole on its start date. A recurring one is spread evenly over its
/// active days: each month gets `amount / months-per-cadence` times the share of that month's
/// days inside both the range and the commitment's start..=end (rounded per month).
pub fn share(c: &Terms, from: NaiveDate, to: NaiveDate) -> i64 {
    if c.cadence == Cadence::OneOff {
        return if (from..=to).contains(&c.start) && c.end.is_none_or(|e| e >= c.start) {
            c.amount
        } else {
            0
        };
    }
    let start = c.start.max(from);
    let end = c.end.map_or(to, |e| e.min(to));
    let mut total = 0i64;
    let mut month = Period::of(start);
    while start <= end && month.first_day() <= end {
        let days = (end.min(month.last_day()) - start.max(month.first_day())).num_days() + 1;
        let den = c.cadence.months() as i128 * month.days() as i128;
        total += div_round(c.amount as i128 * days as i128, den) as i64;
        month = month.next();
    }
    total
}

/// The commitments' shares of `from..=to`, in `currency`.
pub fn committed(
    commitments: &[Terms],
    from: NaiveDate,
    to: NaiveDate,
    currency: &str,
    rates: &Rates,
) -> Result<i64, NoRate> {
    commitments.iter().try_fold(0i64, |sum, c| {
        Ok(sum + rates.convert(share(c, from, to), &c.currency, currency)?)
    })
}

/// Actual spend of `period` in `currency`.
pub fn actual(
    spend: &[MonthTotal],
    period: Period,
    currency: &str,
    rates: &Rates,
) -> Result<i64, NoRate> {
    spend
        .iter()
        .filter(|t| t.period == period)
        .try_fold(0i64, |sum, t| {
            Ok(sum + rates.convert(t.total, &t.currency, currency)?)
        })
}

/// What a burn computation needs.
#[derive(Debug, Clone)]
pub struct BurnInput<'a> {
    pub as_of: NaiveDate,
    /// Months of history shown, the current one included.
    pub months: u32,
    /// Complete months the trailing average covers at most.
    pub trailing: u32,
    pub currency: &'a str,
    pub spend: &'a [MonthTotal],
    pub commitments: &'a [Terms],
}

/// One month of a burn report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BurnMonth {
    /// `YYYY-MM`.
    pub period: String,
    /// Spend recorded in the ledger.
    pub actual: i64,
    /// The commitments' share of the month.
    pub committed: i64,
    /// True for the month of `as_of`, which is still running.
    pub partial: bool,
}

/// Actual and projected spend, in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Burn {
    pub currency: String,
    pub as_of: NaiveDate,
    /// Oldest first; the last one is the current, partial month.
    pub months: Vec<BurnMonth>,
    /// How many complete months the trailing average covers (0: run rate of the current month).
    pub trailing_months: u32,
    /// Average monthly ledger spend over the trailing months.
    pub trailing_average: i64,
    /// The current month: actual so far, plus the trailing average for its remaining days,
    /// plus its commitments.
    pub current_month_projected: i64,
    /// A coming month: the trailing average plus next month's commitments.
    pub projected_monthly: i64,
}

/// The trailing average of complete months before `as_of`'s month, from the first month that
/// has spend at all (a young ledger is not diluted by empty months). With no complete month it
/// is the run rate of the current month: its spend so far scaled to the whole month.
pub fn trailing_average(
    spend: &[MonthTotal],
    as_of: NaiveDate,
    trailing: u32,
    currency: &str,
    rates: &Rates,
) -> Result<(i64, u32), NoRate> {
    let current = Period::of(as_of);
    let first = spend
        .iter()
        .filter(|t| t.total != 0)
        .map(|t| t.period)
        .min();
    let window: Vec<Period> = (1..=trailing as i32)
        .map(|back| current.plus(-back))
        .filter(|p| first.is_some_and(|f| *p >= f))
        .collect();
    if window.is_empty() {
        let so_far = actual(spend, current, currency, rates)?;
        let rate = div_round(so_far as i128 * current.days() as i128, as_of.day() as i128);
        return Ok((rate as i64, 0));
    }
    let mut sum = 0i64;
    for p in &window {
        sum += actual(spend, *p, currency, rates)?;
    }
    Ok((
        div_round(sum as i128, window.len() as i128) as i64,
        window.len() as u32,
    ))
}

pub fn burn(input: &BurnInput<'_>, rates: &Rates) -> Result<Burn, NoRate> {
    let (currency, as_of) = (input.currency, input.as_of);
    let current = Period::of(as_of);
    let mut months = Vec::with_capacity(input.months as usize);
    for back in (0..input.months.max(1) as i32).rev() {
        let p = current.plus(-back);
        months.push(BurnMonth {
            period: p.to_string(),
            actual: actual(input.spend, p, currency, rates)?,
            committed: committed(
                input.commitments,
                p.first_day(),
                p.last_day(),
                currency,
                rates,
            )?,
            partial: back == 0,
        });
    }
    let (average, n) = trailing_average(input.spend, as_of, input.trailing, currency, rates)?;
    let now = months.last().expect("at least the current month");
    let remaining = current.days() - as_of.day() as i64;
    let current_month_projected = now.actual
        + div_round(average as i128 * remaining as i128, current.days() as i128) as i64
        + now.committed;
    let next = current.next();
    let projected_monthly = average
        + committed(
            input.commitments,
            next.first_day(),
            next.last_day(),
            currency,
            rates,
        )?;
    Ok(Burn {
        currency: currency.to_owned(),
        as_of,
        months,
        trailing_months: n,
        trailing_average: average,
        current_month_projected,
        projected_monthly,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    fn terms(amount: i64, cadence: Cadence, start: &str, end: Option<&str>) -> Terms {
        Terms {
            amount,
            currency: "EUR".into(),
            cadence,
            start: d(start),
            end: end.map(d),
        }
    }

    fn total(period: &str, currency: &str, total: i64) -> MonthTotal {
        MonthTotal {
            period: p(period),
            currency: currency.into(),
            total,
        }
    }

    fn rates() -> Rates {
        Rates::parse(&BTreeMap::from([("USD/EUR".to_owned(), "0.5".to_owned())])).unwrap()
    }

    #[test]
    fn recurring_commitments_are_spread_over_their_active_days() {
        let monthly = terms(3_100, Cadence::Monthly, "2026-01-16", None);
        // January: 16 of 31 days -> 3100 * 16 / 31 = 1600.
        assert_eq!(share(&monthly, d("2026-01-01"), d("2026-01-31")), 1_600);
        assert_eq!(share(&monthly, d("2026-02-01"), d("2026-02-28")), 3_100);
        // Ending mid-period: February 1..=14 of 28 days -> 1550; nothing in March.
        let ending = terms(3_100, Cadence::Monthly, "2025-06-01", Some("2026-02-14"));
        assert_eq!(share(&ending, d("2026-02-01"), d("2026-02-28")), 1_550);
        assert_eq!(share(&ending, d("2026-03-01"), d("2026-03-31")), 0);
        // Quarterly 9000 is 3000 a month; yearly 12000 is 1000 a month.
        let quarterly = terms(9_000, Cadence::Quarterly, "2026-01-01", None);
        assert_eq!(share(&quarterly, d("2026-04-01"), d("2026-04-30")), 3_000);
        let yearly = terms(12_000, Cadence::Yearly, "2025-01-01", None);
        // Two whole months and 10 of 31 March days: 1000 + 1000 + 323 (322.58 rounded).
        assert_eq!(share(&yearly, d("2026-01-01"), d("2026-03-10")), 2_323);
        // A one-off falls whole on its start date.
        let once = terms(50_000, Cadence::OneOff, "2026-02-10", None);
        assert_eq!(share(&once, d("2026-02-01"), d("2026-02-28")), 50_000);
        assert_eq!(share(&once, d("2026-03-01"), d("2026-03-31")), 0);
        // Not started yet.
        assert_eq!(share(&monthly, d("2025-12-01"), d("2025-12-31")), 0);
    }

    #[test]
    fn burn_by_hand_with_partial_month_and_mixed_currencies() {
        let spend = [
            total("2025-12", "EUR", 90_000),
            total("2026-01", "EUR", 100_000),
            total("2026-01", "USD", 20_000), // 10000 EUR at 0.5
            total("2026-02", "EUR", 80_000),
            total("2026-03", "EUR", 40_000),
        ];
        // Ends on March 20: March gets 20 of 31 days of 3100 = 2000; April nothing.
        let commitments = [terms(
            3_100,
            Cadence::Monthly,
            "2025-01-01",
            Some("2026-03-20"),
        )];
        let input = BurnInput {
            as_of: d("2026-03-10"),
            months: 3,
            trailing: 3,
            currency: "EUR",
            spend: &spend,
            commitments: &commitments,
        };
        let b = burn(&input, &rates()).unwrap();
        let rows: Vec<(&str, i64, i64, bool)> = b
            .months
            .iter()
            .map(|m| (m.period.as_str(), m.actual, m.committed, m.partial))
            .collect();
        assert_eq!(
            rows,
            [
                ("2026-01", 110_000, 3_100, false),
                ("2026-02", 80_000, 3_100, false),
                ("2026-03", 40_000, 2_000, true),
            ]
        );
        // (90000 + 110000 + 80000) / 3 = 93333.33 -> 93333
        assert_eq!((b.trailing_average, b.trailing_months), (93_333, 3));
        // 40000 + 93333 * 21 / 31 (63225.58 -> 63226) + 2000
        assert_eq!(b.current_month_projected, 105_226);
        // April: the commitment has ended.
        assert_eq!(b.projected_monthly, 93_333);
    }

    #[test]
    fn a_young_ledger_averages_only_its_months_or_the_run_rate() {
        let spend = [
            total("2026-02", "EUR", 60_000),
            total("2026-03", "EUR", 10_000),
        ];
        let (avg, n) =
            trailing_average(&spend, d("2026-03-10"), 3, "EUR", &Rates::default()).unwrap();
        assert_eq!((avg, n), (60_000, 1));
        // Only the current month: 10000 in 10 of 31 days -> 31000 a month.
        let spend = [total("2026-03", "EUR", 10_000)];
        let (avg, n) =
            trailing_average(&spend, d("2026-03-10"), 3, "EUR", &Rates::default()).unwrap();
        assert_eq!((avg, n), (31_000, 0));
    }

    #[test]
    fn a_currency_without_a_rate_is_refused() {
        let spend = [total("2026-02", "GBP", 1)];
        let input = BurnInput {
            as_of: d("2026-03-10"),
            months: 2,
            trailing: 3,
            currency: "EUR",
            spend: &spend,
            commitments: &[],
        };
        assert_eq!(
            burn(&input, &rates()),
            Err(NoRate {
                from: "GBP".into(),
                to: "EUR".into()
            })
        );
    }
}

/// The projected total of `period` seen on `as_of`: a past month is what was spent, the
/// current one adds the average for its remaining days, a future one is the average; each plus
/// its commitments.
pub fn project_month(
    spent: i64,
    committed: i64,
    average: i64,
    period: Period,
    as_of: NaiveDate,
) -> i64 {
    let current = Period::of(as_of);
    let variable = if period < current {
        spent
    } else if period == current {
        let remaining = period.days() - as_of.day() as i64;
        spent + div_round(average as i128 * remaining as i128, period.days() as i128) as i64
    } else {
        average
    };
    variable + committed
}

#[cfg(test)]
mod projection_tests {
    use super::*;

    #[test]
    fn months_are_projected_by_where_they_lie() {
        let as_of: NaiveDate = "2026-04-10".parse().unwrap();
        let p = |s| Period::parse(s).unwrap();
        assert_eq!(project_month(500, 100, 3_000, p("2026-03"), as_of), 600);
        // April: 20 of 30 days left -> 500 + 2000 + 100.
        assert_eq!(project_month(500, 100, 3_000, p("2026-04"), as_of), 2_600);
        assert_eq!(project_month(500, 100, 3_000, p("2026-05"), as_of), 3_100);
    }
}
