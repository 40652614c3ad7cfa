//! Reports as Excel workbooks: the report's CSV, cell for cell, in one
//! worksheet, its header row bold, numbers as numbers (so a manager can sum
//! and chart them), text as text. The workbook is a function of the report
//! alone: its creation date is fixed, so the same report gives the same
//! bytes on every read.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

/// Why a workbook could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    /// The CSV does not parse (a report's CSV always does).
    #[error("the report's CSV does not parse: {0}")]
    Csv(#[from] csv::Error),
    /// The workbook writer refused (a sheet name, a cell out of range).
    #[error("the workbook cannot be written: {0}")]
    Xlsx(#[from] XlsxError),
    /// More rows or columns than a worksheet holds.
    #[error("the report has more than {0} rows or columns for one worksheet")]
    TooLarge(u32),
}

/// The most columns the writer takes (Excel's 16,384).
const MAX_COLUMNS: usize = 16_384;
/// The most rows (Excel's 1,048,576).
const MAX_ROWS: usize = 1_048_576;

/// A worksheet name Excel takes: at most 31 characters, none of `[]:*?/\\`,
/// not starting or ending with an apostrophe, not empty.
fn sheet_name(text: &str) -> String {
    let name: String = text
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    let name = name.trim_matches('\'').trim().to_string();
    if name.is_empty() {
        "report".into()
    } else {
        name
    }
}

/// A workbook with one sheet named after `sheet` holding `csv` (its first
/// record the header); the `.xlsx` file's bytes.
pub fn from_csv(sheet: &str, csv: &str) -> Result<Vec<u8>, WorkbookError> {
    let sheet = sheet_name(sheet);
    let sheet = sheet.as_str();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_bytes());
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(sheet)
            .set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?),
    );
    let bold = Format::new().set_bold();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(sheet)?;
    let mut widths: Vec<usize> = Vec::new();
    for (r, record) in reader.records().enumerate() {
        let record = record?;
        if r >= MAX_ROWS || record.len() > MAX_COLUMNS {
            return Err(WorkbookError::TooLarge(MAX_ROWS as u32));
        }
        let row = r as u32;
        for (c, field) in record.iter().enumerate() {
            let col = c as u16;
            if r == 0 {
                worksheet.write_string_with_format(row, col, field, &bold)?;
            } else if let Some(number) = as_number(field) {
                worksheet.write_number(row, col, number)?;
            } else if !field.is_empty() {
                worksheet.write_string(row, col, field)?;
            }
            // CJK characters take two columns' width.
            let width: usize = field.chars().map(|ch| if ch.is_ascii() { 1 } else { 2 }).sum();
            if widths.len() <= c {
                widths.resize(c + 1, 0);
            }
            widths[c] = widths[c].max(width);
        }
    }
    for (c, width) in widths.iter().enumerate() {
        worksheet.set_column_width(c as u16, (*width).clamp(6, 60) as f64 + 1.0)?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// A field that is a plain decimal number (not an id such as `007` or a
/// date such as `2026-03`).
fn as_number(field: &str) -> Option<f64> {
    let digits = field.strip_prefix('-').unwrap_or(field);
    let plain = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
        && !digits.starts_with('.')
        && !digits.ends_with('.')
        && !(digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0."));
    if plain {
        field.parse().ok().filter(|n: &f64| n.is_finite())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn part(xlsx: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap_or_else(|e| panic!("{e}"));
        let mut file = archive.by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap_or_else(|e| panic!("{e}"));
        text
    }

    #[test]
    fn numbers_are_numbers_and_text_is_text() {
        let xlsx = from_csv(
            "月报",
            "section,item,value\nreport,project,杭州一期\nsla,met,12\nsla,rate,87.5\nreport,month,2026-03\nx,id,007\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&xlsx[..4], b"PK\x03\x04", "an xlsx is a zip archive");
        let sheet = part(&xlsx, "xl/worksheets/sheet1.xml");
        assert!(sheet.contains("<v>12</v>") && sheet.contains("<v>87.5</v>"), "{sheet}");
        let strings = part(&xlsx, "xl/sharedStrings.xml");
        for text in ["杭州一期", "2026-03", "007", "section"] {
            assert!(strings.contains(text), "{text} is text: {strings}");
        }
        assert!(part(&xlsx, "xl/workbook.xml").contains("name=\"月报\""));
    }

    #[test]
    fn the_same_report_gives_the_same_bytes() {
        let csv = "a,b\n1,2\n";
        assert_eq!(
            from_csv("r", csv).unwrap_or_else(|e| panic!("{e}")),
            from_csv("r", csv).unwrap_or_else(|e| panic!("{e}"))
        );
    }

    #[test]
    fn any_report_name_makes_a_sheet_name() {
        assert_eq!(sheet_name("a/b:c"), "a_b_c");
        assert_eq!(sheet_name("''"), "report");
        assert_eq!(sheet_name(&"长".repeat(40)).chars().count(), 31);
        for name in ["a/b", "'x'", "[]", &"长".repeat(40)] {
            assert!(from_csv(name, "x\n").is_ok(), "{name}");
        }
    }

    #[test]
    fn rows_of_any_length_and_quoted_fields_are_kept() {
        let xlsx = from_csv("r", "h1,h2,h3\n1\n\"a, \"\"b\"\"\",2,3,4\n").unwrap_or_else(|e| panic!("{e}"));
        let strings = part(&xlsx, "xl/sharedStrings.xml");
        assert!(
            strings.contains("a, &quot;b&quot;") || strings.contains("a, \"b\""),
            "{strings}"
        );
        let sheet = part(&xlsx, "xl/worksheets/sheet1.xml");
        assert!(sheet.contains("r=\"D3\""), "the fourth field of the third row: {sheet}");
    }

    #[test]
    fn what_counts_as_a_number() {
        for (field, number) in [
            ("12", Some(12.0)),
            ("-3.5", Some(-3.5)),
            ("0.25", Some(0.25)),
            ("0", Some(0.0)),
        ] {
            assert_eq!(as_number(field), number, "{field}");
        }
        for field in ["", "007", "2026-03", "1e5", "NaN", "inf", ".5", "5.", "1.2.3", "HZ-1"] {
            assert_eq!(as_number(field), None, "{field}");
        }
    }
}
