//! The 0–100 severity score and the priority it suggests.

use domain::severity::Severity;
use domain::ticket::Priority;
use domain::DomainError;

fn severity([impact_scope, satisfaction_risk, legal_risk, economic_loss, brand_damage]: [u8; 5]) -> Severity {
    Severity {
        impact_scope,
        satisfaction_risk,
        legal_risk,
        economic_loss,
        brand_damage,
    }
}

/// Every combination of the five factors, 0 to 4 each.
fn every_severity() -> impl Iterator<Item = [u8; 5]> {
    (0..5u32.pow(5)).map(|mut n| {
        let mut factors = [0u8; 5];
        for f in &mut factors {
            *f = (n % 5) as u8;
            n /= 5;
        }
        factors
    })
}

fn score(factors: [u8; 5]) -> u8 {
    severity(factors).score().unwrap()
}

fn priority(factors: [u8; 5]) -> Priority {
    severity(factors).suggested_priority().unwrap()
}

/// A combination with `score` and no factor at 4, so that only the score
/// decides the priority.
fn without_extremes_scoring(target: u8) -> [u8; 5] {
    every_severity()
        .find(|f| !f.contains(&4) && score(*f) == target)
        .unwrap_or_else(|| panic!("no combination without an extreme factor scores {target}"))
}

#[test]
fn no_factor_scores_zero_and_every_extreme_factor_scores_a_hundred() {
    assert_eq!(Severity::default().score().unwrap(), 0);
    assert_eq!(Severity::default().suggested_priority().unwrap(), Priority::Normal);
    assert_eq!(score([4; 5]), 100);
    assert_eq!(priority([4; 5]), Priority::Emergency);
}

#[test]
fn a_factor_above_four_is_refused() {
    for position in 0..5 {
        for value in [5, 9, u8::MAX] {
            let mut factors = [2; 5];
            factors[position] = value;
            let expected = DomainError::input("severity factor", "each factor is rated 0 to 4");
            assert_eq!(severity(factors).score().err(), Some(expected.clone()), "{factors:?}");
            assert_eq!(
                severity(factors).suggested_priority().err(),
                Some(expected),
                "{factors:?}"
            );
        }
    }
}

#[test]
fn the_weights_are_thirty_twenty_twenty_fifteen_fifteen() {
    // One factor at 4 alone scores its weight.
    assert_eq!(score([4, 0, 0, 0, 0]), 30);
    assert_eq!(score([0, 4, 0, 0, 0]), 20);
    assert_eq!(score([0, 0, 4, 0, 0]), 20);
    assert_eq!(score([0, 0, 0, 4, 0]), 15);
    assert_eq!(score([0, 0, 0, 0, 4]), 15);
}

#[test]
fn the_score_is_the_weighted_sum_rounded_to_the_nearest_whole_number() {
    let weights = [30.0, 20.0, 20.0, 15.0, 15.0];
    for factors in every_severity() {
        let exact: f64 = factors.iter().zip(weights).map(|(f, w)| f64::from(*f) * w / 4.0).sum();
        let got = score(factors);
        assert!(got <= 100);
        assert_eq!(f64::from(got), exact.round(), "{factors:?} scores {exact}");
    }
    // Halves round up: 1 × 30 / 4 = 7.5.
    assert_eq!(score([1, 0, 0, 0, 0]), 8);
    // 1 × 15 / 4 = 3.75.
    assert_eq!(score([0, 0, 0, 1, 0]), 4);
}

#[test]
fn a_single_extreme_factor_other_than_scope_suggests_urgent() {
    for position in 1..5 {
        let mut factors = [0; 5];
        factors[position] = 4;
        assert!(score(factors) < 30, "{factors:?} scores {}", score(factors));
        assert_eq!(priority(factors), Priority::Urgent, "{factors:?}");
    }
    // With the score below 60, an extreme factor other than scope does not
    // make it an emergency.
    let factors = [2, 4, 4, 0, 0];
    assert!(score(factors) < 60, "{}", score(factors));
    assert_eq!(priority(factors), Priority::Urgent);
}

#[test]
fn an_extreme_impact_scope_suggests_emergency_on_its_own() {
    assert_eq!(score([4, 0, 0, 0, 0]), 30);
    assert_eq!(priority([4, 0, 0, 0, 0]), Priority::Emergency);
}

#[test]
fn the_score_boundaries_are_thirty_and_sixty() {
    let f29 = without_extremes_scoring(29);
    let f30 = without_extremes_scoring(30);
    let f59 = without_extremes_scoring(59);
    let f60 = without_extremes_scoring(60);
    assert_eq!(priority(f29), Priority::Normal, "{f29:?}");
    assert_eq!(priority(f30), Priority::Urgent, "{f30:?}");
    assert_eq!(priority(f59), Priority::Urgent, "{f59:?}");
    assert_eq!(priority(f60), Priority::Emergency, "{f60:?}");
}

#[test]
fn every_combination_follows_the_documented_rule() {
    for factors in every_severity() {
        let s = score(factors);
        let expected = if s >= 60 || factors[0] == 4 {
            Priority::Emergency
        } else if s >= 30 || factors.contains(&4) {
            Priority::Urgent
        } else {
            Priority::Normal
        };
        assert_eq!(priority(factors), expected, "{factors:?} scores {s}");
    }
}

#[test]
fn raising_a_factor_never_lowers_the_score_or_the_priority() {
    let rank = |p: Priority| match p {
        Priority::Normal => 0,
        Priority::Urgent => 1,
        Priority::Emergency => 2,
    };
    for factors in every_severity() {
        for position in 0..5 {
            if factors[position] == 4 {
                continue;
            }
            let mut higher = factors;
            higher[position] += 1;
            assert!(score(higher) > score(factors), "{factors:?} → {higher:?}");
            assert!(
                rank(priority(higher)) >= rank(priority(factors)),
                "{factors:?} → {higher:?}"
            );
        }
    }
}
