//! ID numbers: the GB 11643 check character, masking, other documents.

use domain::personal::{IdNumber, Mask, Personal};
use domain::DomainError;

use super::*;

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
