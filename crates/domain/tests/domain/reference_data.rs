//! Service policies as data: the default table, specificity, validation.

use domain::calendar::BusinessCalendar;
use domain::ids::ProjectId;
use domain::policy::{ClockTarget, ServicePolicy, TargetSpec, TimeBasis, DEFAULT_POLICY_TOML};
use domain::ticket::{Category, Priority, TicketKind};

fn target(minutes: u32, basis: TimeBasis) -> Option<ClockTarget> {
    Some(ClockTarget::Duration { minutes, basis })
}

#[test]
fn the_default_policy_is_the_domain_table() {
    use TimeBasis::*;
    let policy = ServicePolicy::default_policy();
    let cal = BusinessCalendar::cn_mainland();
    let setup = |kind, priority| {
        policy
            .clock_setup(kind, priority, None, Category::Engineering, &cal)
            .unwrap()
    };
    let rows = [
        (
            TicketKind::Repair,
            Priority::Emergency,
            [target(30, WallClock), target(120, WallClock), target(1440, WallClock)],
        ),
        (
            TicketKind::Repair,
            Priority::Urgent,
            [target(120, Business), target(450, Business), target(1350, Business)],
        ),
        (
            TicketKind::Repair,
            Priority::Normal,
            [target(450, Business), target(900, Business), target(3150, Business)],
        ),
        (
            TicketKind::Complaint,
            Priority::Urgent,
            [target(450, Business), None, target(2250, Business)],
        ),
        (
            TicketKind::Inquiry,
            Priority::Normal,
            [target(450, Business), None, target(900, Business)],
        ),
        (TicketKind::HandoverDefect, Priority::Normal, [None, None, None]),
        (
            TicketKind::HandoverDefect,
            Priority::Emergency,
            [None, target(120, WallClock), None],
        ),
    ];
    for (kind, priority, [first, on_site, resolution]) in rows {
        let s = setup(kind, priority);
        assert_eq!(
            (s.first_response, s.on_site, s.resolution),
            (first, on_site, resolution),
            "{kind} {priority}"
        );
        assert_eq!(s.policy.to_string(), "default 2026.1");
    }
}

#[test]
fn the_most_specific_rule_wins() {
    let text = format!(
        "{DEFAULT_POLICY_TOML}
[[rules]]
kind = \"repair\"
priority = \"normal\"
project = \"HZ-1\"
first_response = \"4h business\"

[[rules]]
kind = \"repair\"
priority = \"normal\"
project = \"HZ-1\"
category = \"public_facilities\"
first_response = \"1h business\"

[[rules]]
kind = \"repair\"
category = \"public_facilities\"
first_response = \"2h business\"
"
    );
    let policy = ServicePolicy::from_toml(&text).unwrap();
    let cal = BusinessCalendar::cn_mainland();
    let hz1 = ProjectId::new("HZ-1").unwrap();
    let first = |project: Option<&ProjectId>, category| {
        policy
            .clock_setup(TicketKind::Repair, Priority::Normal, project, category, &cal)
            .unwrap()
            .first_response
            .unwrap()
            .minutes()
            .unwrap()
    };
    assert_eq!(first(Some(&hz1), Category::PublicFacilities), 60);
    assert_eq!(first(Some(&hz1), Category::Engineering), 240);
    // Category beats priority: public facilities anywhere else.
    assert_eq!(first(None, Category::PublicFacilities), 120);
    assert_eq!(first(None, Category::Engineering), 450);
}

#[test]
fn targets_parse_strictly() {
    for bad in [
        "",
        "30",
        "30m",
        "m 24x7",
        "0h business",
        "2w business",
        "2h office",
        "1.5h business",
        "2h business extra",
    ] {
        assert!(TargetSpec::parse(bad).is_err(), "{bad:?} should be refused");
    }
    let cal = BusinessCalendar::cn_mainland();
    assert_eq!(
        TargetSpec::parse("1d 24x7").unwrap().resolve(&cal).unwrap().minutes(),
        Some(1440)
    );
    assert_eq!(
        TargetSpec::parse("1d business")
            .unwrap()
            .resolve(&cal)
            .unwrap()
            .minutes(),
        Some(450)
    );
    assert!(TargetSpec::parse("400d 24x7").unwrap().resolve(&cal).is_err());
}

#[test]
fn malformed_policies_are_refused_with_the_rule_number() {
    let cases = [
        ("id = \"p\"\nversion = \"1\"\n[[rules]]\nkind = \"repairs\"\n", "rule 1"),
        (
            "id = \"p\"\nversion = \"1\"\n[[rules]]\nkind = \"repair\"\nfirst_response = \"soon\"\n",
            "rule 1",
        ),
        (
            "id = \"p\"\nversion = \"1\"\n[[rules]]\nkind = \"repair\"\n[[rules]]\nkind = \"repair\"\n",
            "repeats",
        ),
        ("id = \"\"\nversion = \"1\"\nrules = []\n", "must not be empty"),
        ("version = \"1\"\nrules = []\n", "missing field"),
    ];
    for (text, expected) in cases {
        let err = ServicePolicy::from_toml(text).unwrap_err().to_string();
        assert!(err.contains(expected), "{err:?} should mention {expected:?}");
    }
}

#[test]
fn a_ticket_no_rule_covers_is_refused() {
    let policy = ServicePolicy::from_toml("id = \"p\"\nversion = \"1\"\n[[rules]]\nkind = \"repair\"\n").unwrap();
    let err = policy
        .clock_setup(
            TicketKind::Complaint,
            Priority::Normal,
            None,
            Category::Service,
            &BusinessCalendar::cn_mainland(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no rule for a normal complaint ticket"), "{err}");
}

#[test]
fn a_policy_survives_a_round_trip_through_its_text() {
    let policy = ServicePolicy::default_policy();
    let again = ServicePolicy::from_toml(&policy.to_toml()).unwrap();
    assert_eq!(again.rules(), policy.rules());
    assert_eq!(again.reference(), policy.reference());
}

#[test]
fn a_misspelled_target_is_refused_not_ignored() {
    let typo = DEFAULT_POLICY_TOML.replacen("first_response =", "first_responce =", 1);
    let err = ServicePolicy::from_toml(&typo).unwrap_err().to_string();
    assert!(err.contains("first_responce"), "{err}");
}
