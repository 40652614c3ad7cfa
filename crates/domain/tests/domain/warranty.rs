//! Warranty periods at their boundaries: the last day in, the first day
//! out.

use domain::ids::ProjectId;
use domain::testing::fixtures::date;
use domain::warranty::{WarrantyItem, WarrantyPeriod, WarrantyRules, DEFAULT_WARRANTY_TOML};

fn rules() -> std::sync::Arc<WarrantyRules> {
    WarrantyRules::default_rules()
}

fn last_day(item: WarrantyItem, delivered: &str) -> chrono::NaiveDate {
    rules().last_day(item, None, date(delivered))
}

#[test]
fn default_periods_follow_the_regulation_and_the_quality_guarantee() {
    use WarrantyItem::*;
    let r = rules();
    let expected = [
        (FoundationAndStructure, WarrantyPeriod::DesignLife(50)),
        (RoofWaterproofing, WarrantyPeriod::Years(5)),
        (WaterproofedRooms, WarrantyPeriod::Years(5)),
        (ExteriorWallLeakage, WarrantyPeriod::Years(5)),
        (HeatingSystem, WarrantyPeriod::HeatingSeasons(2)),
        (CoolingSystem, WarrantyPeriod::CoolingSeasons(2)),
        (ElectricalLines, WarrantyPeriod::Years(2)),
        (WaterSupplyAndDrainage, WarrantyPeriod::Years(2)),
        (EquipmentInstallation, WarrantyPeriod::Years(2)),
        (Decoration, WarrantyPeriod::Years(2)),
        (PlasterFalling, WarrantyPeriod::Years(1)),
        (HollowOrCrackedFloor, WarrantyPeriod::Years(1)),
        (DoorsAndWindows, WarrantyPeriod::Years(1)),
        (SanitaryFixtures, WarrantyPeriod::Years(1)),
        (LampsAndSwitches, WarrantyPeriod::Months(6)),
        (BlockedPipes, WarrantyPeriod::Months(2)),
    ];
    for (item, period) in expected {
        assert_eq!(r.period(item, None), period, "{}", item.as_str());
    }
}

#[test]
fn the_last_day_in_warranty_is_the_corresponding_day_civil_code_art_202() {
    let r = rules();
    let finding = |report: &str| r.finding(WarrantyItem::ElectricalLines, None, date("2024-03-15"), date(report));
    // The delivery day is not counted; two years end on 15 March 2026.
    assert!(finding("2026-03-15").in_warranty);
    assert!(!finding("2026-03-16").in_warranty);
    assert_eq!(finding("2026-03-16").last_day, date("2026-03-15"));
    // A report before delivery (pre-inspection) is covered.
    assert!(finding("2024-03-01").in_warranty);
}

#[test]
fn a_last_day_on_a_holiday_moves_past_it_civil_code_art_203() {
    let r = rules();
    let cal = domain::calendar::BusinessCalendar::cn_mainland();
    // Delivered 2023-10-03, 2 years: 2025-10-03, inside the National Day
    // holiday (1–8 October 2025), so the last day is 9 October.
    let last = r.last_day_on(WarrantyItem::ElectricalLines, None, date("2023-10-03"), &cal);
    assert_eq!(last, date("2025-10-09"));
    let f = r.finding_on(
        WarrantyItem::ElectricalLines,
        None,
        date("2023-10-03"),
        date("2025-10-09"),
        &cal,
    );
    assert!(f.in_warranty);
    let f = r.finding_on(
        WarrantyItem::ElectricalLines,
        None,
        date("2023-10-03"),
        date("2025-10-10"),
        &cal,
    );
    assert!(!f.in_warranty);
    // A last day on an ordinary weekend does not move.
    assert_eq!(
        r.last_day_on(WarrantyItem::ElectricalLines, None, date("2023-09-27"), &cal),
        date("2025-09-27")
    );
}

#[test]
fn heating_seasons_count_whole_seasons_from_delivery() {
    // Delivered in summer: the seasons starting 15 Nov 2024 and 2025; the
    // second ends 15 March 2026.
    assert_eq!(last_day(WarrantyItem::HeatingSystem, "2024-06-30"), date("2026-03-15"));
    // Delivered on the first day of a season: that season counts.
    assert_eq!(last_day(WarrantyItem::HeatingSystem, "2024-11-15"), date("2026-03-15"));
    // Delivered inside a season: the next two full seasons.
    assert_eq!(last_day(WarrantyItem::HeatingSystem, "2024-12-01"), date("2027-03-15"));
}

#[test]
fn the_design_life_is_long() {
    assert_eq!(
        last_day(WarrantyItem::FoundationAndStructure, "2024-06-30"),
        date("2074-06-30")
    );
}

fn with_project(extra: &str) -> Result<WarrantyRules, domain::error::DomainError> {
    WarrantyRules::from_toml(&format!("{DEFAULT_WARRANTY_TOML}\n{extra}"))
}

#[test]
fn a_project_may_promise_longer_never_shorter() {
    let r = with_project("[projects.HZ-1]\ndecoration = \"3 years\"\nlamps_and_switches = \"1 years\"\n").unwrap();
    let hz1 = ProjectId::new("HZ-1").unwrap();
    assert_eq!(r.period(WarrantyItem::Decoration, Some(&hz1)), WarrantyPeriod::Years(3));
    assert_eq!(r.period(WarrantyItem::Decoration, None), WarrantyPeriod::Years(2));
    assert_eq!(
        r.last_day(WarrantyItem::Decoration, Some(&hz1), date("2024-06-30")),
        date("2027-06-30")
    );
    let err = with_project("[projects.HZ-1]\ndecoration = \"18 months\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("shorter than the company's 2 years"), "{err}");
    let err = with_project("[projects.HZ-1]\ndecoration = \"3 heating seasons\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be compared"), "{err}");
}

#[test]
fn malformed_rules_are_refused() {
    let missing = DEFAULT_WARRANTY_TOML.replace("blocked_pipes = \"2 months\"\n", "");
    let err = WarrantyRules::from_toml(&missing).unwrap_err().to_string();
    assert!(err.contains("no period for blocked_pipes"), "{err}");
    let bad = DEFAULT_WARRANTY_TOML.replace("\"2 months\"", "\"2 fortnights\"");
    assert!(WarrantyRules::from_toml(&bad)
        .unwrap_err()
        .to_string()
        .contains("is not a period"));
    let bad = DEFAULT_WARRANTY_TOML.replace("\"11-15\"", "\"13-15\"");
    assert!(WarrantyRules::from_toml(&bad)
        .unwrap_err()
        .to_string()
        .contains("season"));
    let bad = DEFAULT_WARRANTY_TOML.replace("[periods]", "[periods]\nchimney = \"1 years\"");
    assert!(WarrantyRules::from_toml(&bad)
        .unwrap_err()
        .to_string()
        .contains("chimney"));
}

#[test]
fn statutory_minimums_cannot_be_undercut() {
    let short = DEFAULT_WARRANTY_TOML.replace("roof_waterproofing = \"5 years\"", "roof_waterproofing = \"1 years\"");
    let err = WarrantyRules::from_toml(&short).unwrap_err().to_string();
    assert!(err.contains("below the statutory minimum of 5 years"), "{err}");
    let short = DEFAULT_WARRANTY_TOML.replace(
        "cooling_system = \"2 cooling seasons\"",
        "cooling_system = \"1 cooling seasons\"",
    );
    assert!(WarrantyRules::from_toml(&short).is_err());
    // Longer is fine.
    let long = DEFAULT_WARRANTY_TOML.replace("decoration = \"2 years\"", "decoration = \"3 years\"");
    assert!(WarrantyRules::from_toml(&long).is_ok());
}

#[test]
fn cooling_counts_cooling_seasons() {
    // Delivered in winter: the cooling seasons from 1 June 2025 and 2026.
    assert_eq!(last_day(WarrantyItem::CoolingSystem, "2024-12-01"), date("2026-09-30"));
}

#[test]
fn unknown_fields_in_a_rules_file_are_refused() {
    let typo = DEFAULT_WARRANTY_TOML.replace("heating_season =", "heating_seasons =");
    assert!(WarrantyRules::from_toml(&typo).is_err());
}
