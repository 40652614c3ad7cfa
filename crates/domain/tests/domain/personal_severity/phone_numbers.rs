//! Phone numbers: masking, normalisation and their checks.

use domain::personal::{Mask, Personal, PhoneNumber};
use domain::DomainError;

use super::*;

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
