//! The report periods operators and staff name: a month (`YYYY-MM`) and
//! an ISO week (`YYYY-Www`).

use chrono::NaiveDate;

use crate::error::AppError;

/// Parses `YYYY-MM`.
pub fn parse_month(text: &str) -> Result<(i32, u32), AppError> {
    let err = || AppError::BadInput(format!("month {text:?} is not YYYY-MM"));
    let (y, m) = text.split_once('-').ok_or_else(err)?;
    let (y, m) = (
        y.parse::<i32>().map_err(|_| err())?,
        m.parse::<u32>().map_err(|_| err())?,
    );
    if y.to_string().len() != 4 || !(1..=12).contains(&m) {
        return Err(err());
    }
    Ok((y, m))
}

/// Parses `YYYY-Www`.
pub fn parse_week(text: &str) -> Result<(i32, u32), AppError> {
    let err = || AppError::BadInput(format!("week {text:?} is not YYYY-Www (ISO week, e.g. 2026-W07)"));
    let (y, w) = text.split_once("-W").ok_or_else(err)?;
    let (y, w) = (
        y.parse::<i32>().map_err(|_| err())?,
        w.parse::<u32>().map_err(|_| err())?,
    );
    if y.to_string().len() != 4 || NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon).is_none() {
        return Err(err());
    }
    Ok((y, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_weeks_parse_strictly() {
        assert_eq!(parse_month("2026-02").ok(), Some((2026, 2)));
        assert!(parse_month("2026-13").is_err());
        assert!(parse_month("26-01").is_err());
        assert!(parse_month("2026/01").is_err());
        assert_eq!(parse_week("2026-W07").ok(), Some((2026, 7)));
        assert_eq!(parse_week("2026-W53").ok(), Some((2026, 53)));
        assert!(parse_week("2025-W53").is_err(), "2025 has 52 ISO weeks");
        assert!(parse_week("2026-07").is_err());
    }
}
