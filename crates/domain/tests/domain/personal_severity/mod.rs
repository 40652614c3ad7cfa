//! Personal data (PIPL) and the small value types: masking of phone
//! numbers, names and ID numbers; `Personal` never printing its value;
//! phone-number normalisation; identifier validation; and the 0–100
//! severity score with the priority it suggests.
//!
//! The value builders the modules share are here, with the property tests
//! of finding personal data in free text.

mod id_numbers;
mod identifiers;
mod names;
mod personal;
mod phone_numbers;
mod severity;

use domain::personal::{PersonName, PhoneNumber};

fn phone(text: &str) -> PhoneNumber {
    PhoneNumber::new(text).unwrap_or_else(|e| panic!("{text:?} refused: {e}"))
}

fn name(family: &str, given: &str) -> PersonName {
    PersonName::new(family, given).unwrap_or_else(|e| panic!("{family:?} {given:?} refused: {e}"))
}

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
