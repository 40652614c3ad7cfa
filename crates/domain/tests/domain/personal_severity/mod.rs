//! Personal data (PIPL) and the small value types: masking of phone
//! numbers, names and ID numbers; `Personal` never printing its value;
//! phone-number normalisation; identifier validation; and the 0–100
//! severity score with the priority it suggests.

use std::fmt::Debug;
use std::str::FromStr;

use domain::actor::Role;
use domain::archive::OwnerEvent;
use domain::decider::Stamped;
use domain::ids::*;
use domain::personal::{IdNumber, Mask, PersonName, Personal, PhoneNumber, Sealed};
use domain::severity::Severity;
use domain::testing::fixtures::{bj, reporter, staff};
use domain::ticket::{Channel, Priority};
use domain::DomainError;
use serde::de::DeserializeOwned;
use serde::Serialize;

// ---- phone numbers ----

fn phone(text: &str) -> PhoneNumber {
    PhoneNumber::new(text).unwrap_or_else(|e| panic!("{text:?} refused: {e}"))
}

#[test]
fn a_mobile_number_keeps_its_first_three_and_last_four_digits() {
    let mobile = Personal::new(phone("13812345678"));
    assert_eq!(mobile.masked().unwrap(), "138****5678");
    // Written with separators, it is the same number and masks the same.
    assert_eq!(Personal::new(phone("138 1234-5678")).masked().unwrap(), "138****5678");
    assert_eq!(
        Personal::new(phone(" (138) 1234 5678 ")).masked().unwrap(),
        "138****5678"
    );
}

#[test]
fn a_landline_with_its_area_code_masks_like_a_mobile() {
    // 0571-8888-1234: 12 digits.
    let landline = phone("(0571) 8888-1234");
    assert_eq!(landline.as_str(), "057188881234");
    assert_eq!(landline.masked(), "057*****1234");
}

#[test]
fn a_short_landline_keeps_only_its_last_two_digits() {
    let local = phone("8888-1234");
    assert_eq!(local.as_str(), "88881234");
    assert_eq!(local.masked(), "******34");
    assert_eq!(phone("123456").masked(), "****56");
    assert_eq!(phone("0571888812").masked(), "********12");
}

#[test]
fn an_international_number_keeps_its_plus_and_hides_the_middle() {
    let number = phone("+86 138-1234-5678");
    assert_eq!(number.as_str(), "+8613812345678");
    // The first three characters are kept, the plus sign being one of them.
    assert_eq!(number.masked(), "+86*******5678");
}

#[test]
fn masking_never_shows_the_middle_digits_and_keeps_the_length() {
    for text in [
        "13812345678",
        "057188881234",
        "88881234",
        "123456",
        "+8613812345678",
        "12345678901234567890",
    ] {
        let number = phone(text);
        let masked = number.masked();
        assert_eq!(masked.chars().count(), number.as_str().chars().count(), "{text}");
        let digits: Vec<char> = text.chars().filter(char::is_ascii_digit).collect();
        let shown = masked.chars().filter(char::is_ascii_digit).count();
        assert!(shown <= 7, "{text} shows {shown} digits: {masked}");
        assert!(shown < digits.len(), "{text} is not masked at all: {masked}");
        if number.as_str().len() >= 11 {
            // Long numbers hide all but seven characters, so their middle
            // digits never show.
            let middle: String = digits[3..digits.len() - 4].iter().collect();
            assert!(!masked.contains(&middle), "{text} shows its middle: {masked}");
        } else {
            assert_eq!(shown, 2, "{text}: {masked}");
        }
    }
}

#[test]
fn a_phone_number_with_letters_or_other_characters_is_refused() {
    for text in [
        "138abcd5678",
        "call me",
        "138.1234.5678",
        "138/1234/5678",
        "++8613812345678",
        "１３８１２３４５６７８",
    ] {
        let err = PhoneNumber::new(text)
            .err()
            .unwrap_or_else(|| panic!("{text:?} accepted"));
        assert!(err.to_string().starts_with("invalid phone number:"), "{text}: {err}");
        assert!(err.to_string().contains("is not a digit or separator"), "{text}: {err}");
    }
    let err = PhoneNumber::new("138abcd5678").err().unwrap();
    assert_eq!(
        err,
        DomainError::input("phone number", "'a' is not a digit or separator")
    );
}

#[test]
fn a_phone_number_needs_six_to_twenty_digits() {
    assert_eq!(
        PhoneNumber::new("12345").err(),
        Some(DomainError::input("phone number", "5 digits (6 to 20 expected)"))
    );
    assert_eq!(
        PhoneNumber::new("  ").err(),
        Some(DomainError::input("phone number", "0 digits (6 to 20 expected)"))
    );
    assert_eq!(
        PhoneNumber::new("+ - ( )").err(),
        Some(DomainError::input("phone number", "0 digits (6 to 20 expected)"))
    );
    assert_eq!(
        PhoneNumber::new(&"1".repeat(21)).err(),
        Some(DomainError::input("phone number", "21 digits (6 to 20 expected)"))
    );
    assert_eq!(phone("123456").as_str(), "123456");
    assert_eq!(phone(&"9".repeat(20)).as_str(), "9".repeat(20));
}

#[test]
fn a_phone_number_deserializes_through_its_checks() {
    let number: PhoneNumber = serde_json::from_str("\"138 1234 5678\"").unwrap();
    assert_eq!(number.as_str(), "13812345678");
    assert_eq!(serde_json::to_string(&number).unwrap(), "\"13812345678\"");
    assert!(serde_json::from_str::<PhoneNumber>("\"1234\"").is_err());
    assert!(serde_json::from_str::<Personal<PhoneNumber>>(r#"{"Clear":"138abcd5678"}"#).is_err());
}

// ---- names ----

fn name(family: &str, given: &str) -> PersonName {
    PersonName::new(family, given).unwrap_or_else(|e| panic!("{family:?} {given:?} refused: {e}"))
}

#[test]
fn a_name_keeps_the_family_name_and_hides_each_character_of_the_given_name() {
    let cases = [
        (("王", "小明"), "王**", "王小明"),
        (("李", "白"), "李*", "李白"),
        (("张", "三丰"), "张**", "张三丰"),
        // Compound family names (复姓) are kept whole.
        (("欧阳", "娜娜"), "欧阳**", "欧阳娜娜"),
        (("司马", "相如"), "司马**", "司马相如"),
        (("诸葛", "亮"), "诸葛*", "诸葛亮"),
        // A caller who only knows 王先生 records the family name alone.
        (("王", ""), "王*", "王"),
        // Latin names: given name first in full, one star per letter.
        (("Smith", "John"), "Smith****", "John Smith"),
        (("Müller", "Anna"), "Müller****", "Anna Müller"),
    ];
    for ((family, given), masked, full) in cases {
        let n = name(family, given);
        assert_eq!(n.family(), family);
        assert_eq!(n.given(), given);
        assert_eq!(Personal::new(n.clone()).masked().unwrap(), masked, "{family} {given}");
        assert_eq!(n.full(), full, "{family} {given}");
        if !given.is_empty() {
            assert!(!masked.contains(given), "{masked} shows the given name");
        }
    }
}

#[test]
fn a_name_is_trimmed_and_needs_a_family_name() {
    let n = name("  王 ", " 小明\t");
    assert_eq!((n.family(), n.given()), ("王", "小明"));
    assert_eq!(
        PersonName::new(" ", "小明").err(),
        Some(DomainError::input("family name", "it is empty"))
    );
    assert_eq!(
        PersonName::new("王", "小\u{7}明").err(),
        Some(DomainError::input("given name", "contains control characters"))
    );
    assert_eq!(
        PersonName::new("王".repeat(51), "").err(),
        Some(DomainError::input("family name", "longer than 50 characters"))
    );
    assert!(PersonName::new("王".repeat(50), "明".repeat(50)).is_ok());
}

// ---- ID numbers ----

/// The GB 11643-1999 check character of the first 17 digits, computed
/// from the standard's definition rather than a lookup table: weight
/// 2^(i-1) mod 11 for position i counted from the right (the check
/// character being position 1), check = (12 − S mod 11) mod 11, 10 → X.
fn gb11643_check(first17: &str) -> char {
    assert_eq!(first17.len(), 17);
    let sum: u32 = first17
        .chars()
        .enumerate()
        .map(|(k, c)| {
            let position = 18 - k as u32; // leftmost digit is position 18
            let weight = (0..position - 1).fold(1, |w, _| w * 2 % 11);
            c.to_digit(10).unwrap() * weight
        })
        .sum();
    match (12 - sum % 11) % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).unwrap(),
    }
}

/// A mainland ID: Hangzhou Xihu district (330106), born 1985-07-12,
/// sequence `seq`, with its correct check character.
fn mainland_id(seq: u32) -> String {
    let first17 = format!("33010619850712{seq:03}");
    format!("{first17}{}", gb11643_check(&first17))
}

#[test]
fn the_check_computation_agrees_with_the_standards_sample() {
    // The worked example of GB 11643-1999 is 11010519491231002X.
    assert_eq!(gb11643_check("11010519491231002"), 'X');
    assert!(IdNumber::new("11010519491231002X").is_ok());
}

#[test]
fn a_mainland_id_with_its_check_character_is_accepted_and_masked() {
    let id = mainland_id(123);
    let number = IdNumber::new(&id).unwrap();
    assert_eq!(number.as_str(), id);
    let masked = Personal::new(number).masked().unwrap();
    // The first character and the last two, so that staff can confirm a
    // number read out on the phone; the birth date is hidden.
    let expected = format!("3{}{}", "*".repeat(15), &id[16..]);
    assert_eq!(masked, expected);
    assert_eq!(masked.chars().count(), 18);
    assert!(!masked.contains("19850712"));
}

#[test]
fn every_check_character_is_accepted_and_every_wrong_one_refused() {
    // Sequences 000..=999 cover all eleven check characters; each ID is
    // accepted with its own and refused with any other.
    let mut seen = std::collections::BTreeSet::new();
    for seq in 0..1000 {
        let id = mainland_id(seq);
        let right = id.chars().last().unwrap();
        seen.insert(right);
        assert!(IdNumber::new(&id).is_ok(), "{id} refused");
        if seq % 50 == 0 {
            for wrong in "0123456789X".chars().filter(|c| *c != right) {
                let bad = format!("{}{wrong}", &id[..17]);
                assert_eq!(
                    IdNumber::new(&bad).err(),
                    Some(DomainError::input("ID number", "the check character does not match")),
                    "{bad}"
                );
            }
        }
    }
    assert_eq!(seen.len(), 11, "{seen:?}");
}

#[test]
fn a_lowercase_x_check_character_is_accepted_and_upper_cased() {
    let id = (0..1000)
        .map(mainland_id)
        .find(|id| id.ends_with('X'))
        .expect("some sequence has X as its check character");
    let lower = id.to_lowercase();
    assert_eq!(IdNumber::new(&lower).unwrap().as_str(), id);
}

#[test]
fn a_mistyped_digit_is_caught_by_the_check_character() {
    let id = mainland_id(42);
    // Two adjacent digits swapped (birth date 0712 typed as 0721): adjacent
    // weights differ, so the rule always notices.
    let swapped = id.replacen("0712", "0721", 1);
    assert_ne!(gb11643_check(&swapped[..17]), swapped.chars().last().unwrap());
    assert_eq!(
        IdNumber::new(&swapped).err(),
        Some(DomainError::input("ID number", "the check character does not match")),
        "{swapped}"
    );
    // One digit mistyped.
    let typo = format!("{}9{}", &id[..10], &id[11..]);
    assert_ne!(typo, id);
    let err = IdNumber::new(&typo).err().expect("a mistyped digit is refused");
    assert_eq!(err.to_string(), "invalid ID number: the check character does not match");
}

#[test]
fn other_identity_documents_need_five_to_thirty_letters_and_digits() {
    // A passport number, an old 15-digit ID (no check character).
    let passport = IdNumber::new("e12345678").unwrap();
    assert_eq!(passport.as_str(), "E12345678");
    assert_eq!(passport.masked(), "E******78");
    assert!(IdNumber::new("330106850712123").is_ok());
    for text in ["1234", "", "E1234 5678", "E-12345678", "护照12345678", &"1".repeat(31)] {
        assert_eq!(
            IdNumber::new(text).err(),
            Some(DomainError::input("ID number", "5 to 30 letters and digits expected")),
            "{text:?}"
        );
    }
    // An ID number deserializes through the same checks.
    let bad = format!("\"{}Y\"", &mainland_id(7)[..17]);
    assert!(serde_json::from_str::<IdNumber>(&bad).is_err());
    let good = format!("\"{}\"", mainland_id(7));
    assert_eq!(
        serde_json::from_str::<IdNumber>(&good).unwrap().as_str(),
        mainland_id(7)
    );
}

// ---- Personal never prints its value ----

#[test]
fn debug_of_personal_data_never_shows_the_value() {
    let phone = Personal::new(phone("13812345678"));
    let person = Personal::new(name("欧阳", "娜娜"));
    let id = Personal::new(IdNumber::new(&mainland_id(123)).unwrap());
    for shown in [
        format!("{phone:?}"),
        format!("{phone:#?}"),
        format!("{person:?}"),
        format!("{id:?}"),
    ] {
        assert_eq!(shown, "Personal(<personal>)");
    }

    // Nor inside the records and events that carry it.
    let event = Stamped {
        occurred_at: bj("2025-09-30 10:00"),
        actor: staff(Role::Admin),
        channel: Channel::BackOffice,
        event: OwnerEvent::OwnerRegistered {
            owner: OwnerId::new("O-1").unwrap(),
            name: person.clone(),
            phone: phone.clone(),
            id_number: Some(id.clone()),
        },
        text_seals: Vec::new(),
    };
    let reporter = reporter();
    for shown in [format!("{event:?}"), format!("{event:#?}"), format!("{reporter:#?}")] {
        for secret in [
            "13812345678",
            "1234",
            "欧阳",
            "娜娜",
            "小明",
            "19850712",
            &mainland_id(123),
        ] {
            assert!(!shown.contains(secret), "{secret:?} shows in {shown}");
        }
        assert!(shown.contains("<personal>"), "{shown}");
    }
}

#[test]
fn personal_data_serializes_in_clear_or_sealed_and_reads_schema_1() {
    let phone = Personal::new(phone("138 1234 5678"));
    assert_eq!(serde_json::to_string(&phone).unwrap(), r#"{"Clear":"13812345678"}"#);
    assert_eq!(phone.expose().unwrap().as_str(), "13812345678");
    assert_eq!(phone.clone().into_inner().unwrap().as_str(), "13812345678");
    assert!(phone.as_sealed().is_none());

    // Sealed: opaque bytes, never shown, nothing to expose or mask.
    let sealed = Personal::<PhoneNumber>::sealed(Sealed {
        subject: "owner-O-1".into(),
        nonce: vec![7; 24],
        ciphertext: vec![1, 2, 3],
    });
    assert!(sealed.expose().is_none());
    assert!(sealed.masked().is_none());
    assert_eq!(format!("{sealed:?}"), "Personal(<sealed for owner-O-1>)");
    let config = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&sealed, config).unwrap();
    let (back, _): (Personal<PhoneNumber>, usize) = bincode::serde::decode_from_slice(&bytes, config).unwrap();
    assert_eq!(back, sealed);

    // Schema 1 stored the bare value: it never reads as a personal value
    // (the stored format reads those payloads through their old layout,
    // `eventformat`'s schema 1 mirrors, pinned by its fixtures).
    let legacy = bincode::serde::encode_to_vec(PhoneNumber::new("13812345678").unwrap(), config).unwrap();
    assert!(bincode::serde::decode_from_slice::<Personal<PhoneNumber>, _>(&legacy, config).is_err());
}

// ---- identifiers ----

/// Runs the same checks on every identifier type.
fn check_identifier<T>(kind: &str)
where
    T: FromStr<Err = DomainError> + TryFrom<String, Error = DomainError> + Debug + ToString,
    T: Serialize + DeserializeOwned + Into<String> + Clone + PartialEq,
{
    for good in ["HZ-01-3-1502", "T_2025.0001", "ns:42", "滨江-1", &"a".repeat(64)] {
        let id = T::from_str(good).unwrap_or_else(|e| panic!("{kind} {good:?} refused: {e}"));
        assert_eq!(id.to_string(), good);
        assert_eq!(T::try_from(good.to_string()).unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{good}\""));
        assert_eq!(serde_json::from_str::<T>(&format!("\"{good}\"")).unwrap(), id);
        let text: String = id.into();
        assert_eq!(text, good);
    }

    let err = T::from_str("").err().unwrap();
    assert_eq!(
        err.to_string(),
        format!("invalid {kind}: \"\" is not a valid {kind}: it is empty")
    );

    let long = "a".repeat(65);
    let err = T::from_str(&long).err().unwrap();
    assert!(err.to_string().contains("it is 65 bytes long (at most 64)"), "{err}");
    // The limit is in bytes: 21 three-byte characters fit, 22 do not.
    assert!(T::from_str(&"滨".repeat(21)).is_ok());
    assert!(T::from_str(&"滨".repeat(22)).is_err());

    for bad in [
        "T 1", " T-1", "T-1\n", "HZ/1", "..\\x", "T-1?x=1", "T#1", "T%201", "T-1;drop",
    ] {
        let err = T::from_str(bad)
            .err()
            .unwrap_or_else(|| panic!("{kind} {bad:?} accepted"));
        assert!(
            err.to_string()
                .contains("(letters, digits, '-', '_', '.' and ':' only)"),
            "{kind} {bad:?}: {err}"
        );
        let json = serde_json::to_string(bad).unwrap();
        let err = serde_json::from_str::<T>(&json)
            .err()
            .unwrap_or_else(|| panic!("{kind} {bad:?} deserialized"));
        assert!(err.to_string().contains(&format!("not a valid {kind}")), "{err}");
    }
    let err = T::from_str("HZ/1").err().unwrap();
    assert!(err.to_string().contains("it contains '/'"), "{err}");
    assert!(serde_json::from_str::<T>("\"\"").is_err());
    assert!(serde_json::from_str::<T>(&format!("\"{long}\"")).is_err());
    assert!(serde_json::from_str::<T>("42").is_err());
}

#[test]
fn identifiers_are_short_and_safe_in_names_and_urls() {
    check_identifier::<TicketId>("ticket id");
    check_identifier::<ProjectId>("project id");
    check_identifier::<BuildingId>("building id");
    check_identifier::<UnitId>("unit id");
    check_identifier::<OwnerId>("owner id");
    check_identifier::<IncidentId>("incident id");
    check_identifier::<UserId>("user id");
    check_identifier::<ContractorId>("contractor id");
}

#[test]
fn an_identifier_debugs_with_its_type() {
    assert_eq!(format!("{:?}", TicketId::new("T-1").unwrap()), "TicketId(\"T-1\")");
    assert_eq!(UnitId::new("HZ-1-3-1502").unwrap().as_str(), "HZ-1-3-1502");
    assert_eq!(MAX_ID_LEN, 64);
}

#[test]
fn invalid_identifiers_inside_an_event_fail_to_deserialize() {
    let json = r#"{"TicketLinked":{"ticket":"T/1"}}"#;
    let err = serde_json::from_str::<domain::incident::IncidentEvent>(json).unwrap_err();
    assert!(err.to_string().contains("not a valid ticket id"), "{err}");
    let json = r#"{"TicketLinked":{"ticket":"T-1"}}"#;
    assert!(serde_json::from_str::<domain::incident::IncidentEvent>(json).is_ok());
}

// ---- severity ----

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

#[test]
fn a_stored_name_is_checked_when_read_back() {
    let Err(err) = serde_json::from_str::<domain::personal::PersonName>(r#"{"family":"","given":"x"}"#) else {
        panic!("an empty family name was accepted");
    };
    let err = err.to_string();
    assert!(err.contains("family name"), "{err}");
    let ok: domain::personal::PersonName = serde_json::from_str(r#"{"family":"王","given":"小明"}"#).unwrap();
    assert_eq!(ok.full(), "王小明");
}

mod free_text {
    use domain::personal::{find_personal, placeholder, replace_placeholders, TextKind};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any text, however odd: no panic, pieces in order, on character
        /// boundaries, each one a number of its kind; a mobile number
        /// written into it is found.
        #[test]
        fn finding_numbers_in_any_text_never_panics(
            before in "[0-9a-z +\\-\u{4e00}-\u{4e10}X]{0,24}",
            middle in "1[3-9][0-9]{9}",
            after in "[a-z +\u{4e00}-\u{4e10}]{0,24}",
            noise in ".{0,64}",
        ) {
            for text in [noise.clone(), format!("{before}{noise}{after}"), format!("{before} {middle} {after}")] {
                let found = find_personal(&text);
                let mut last = 0;
                for f in &found {
                    prop_assert!(last <= f.start && f.start < f.end && f.end <= text.len());
                    prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
                    let piece = &text[f.start..f.end];
                    let digits = piece.chars().filter(char::is_ascii_digit).count();
                    match f.kind {
                        TextKind::Phone => prop_assert!(digits == 11 || digits == 13, "{piece}"),
                        TextKind::IdNumber => prop_assert_eq!(piece.chars().count(), 18),
                    }
                    last = f.end;
                }
                // Replacing placeholders in any text never panics either.
                let _ = replace_placeholders(&text, |_| Some(String::new()));
            }
            let text = format!("{before} {middle} {after}");
            prop_assert!(
                find_personal(&text).iter().any(|f| text[f.start..f.end].contains(&middle)),
                "{} not found in {:?}", middle, text
            );
            let replaced = replace_placeholders(&format!("a{}b", placeholder("tag")), |_| Some(middle.clone()));
            prop_assert_eq!(replaced, format!("a{middle}b"));
        }
    }
}
