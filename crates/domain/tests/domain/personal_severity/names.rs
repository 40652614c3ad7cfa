//! Names: masking, trimming, and the check when read back.

use domain::personal::{PersonName, Personal};
use domain::DomainError;

use super::*;

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
