//! The kinds of personal data, each validated on the way in and masked
//! its own way: names, mobile numbers, resident ID numbers.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::Mask;

/// A person's name, family name (姓) and given name (名) kept apart so that
/// masking can keep the family name without guessing where it ends.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PersonNameParts")]
pub struct PersonName {
    family: String,
    given: String,
}

/// What a stored name deserializes from, checked by [`PersonName::new`].
#[derive(Deserialize)]
struct PersonNameParts {
    family: String,
    given: String,
}

impl TryFrom<PersonNameParts> for PersonName {
    type Error = DomainError;
    fn try_from(p: PersonNameParts) -> Result<Self, Self::Error> {
        PersonName::new(p.family, p.given)
    }
}

impl PersonName {
    /// A name; the family name must not be empty, the given name may be
    /// (a caller who only knows "王先生" records family name 王).
    pub fn new(family: impl Into<String>, given: impl Into<String>) -> Result<Self, DomainError> {
        let family = family.into().trim().to_string();
        let given = given.into().trim().to_string();
        if family.is_empty() {
            return Err(DomainError::input("family name", "it is empty"));
        }
        for (field, part) in [("family name", &family), ("given name", &given)] {
            if part.chars().count() > 50 {
                return Err(DomainError::input(field, "longer than 50 characters"));
            }
            if part.chars().any(char::is_control) {
                return Err(DomainError::input(field, "contains control characters"));
            }
        }
        Ok(Self { family, given })
    }

    /// The family name (姓).
    pub fn family(&self) -> &str {
        &self.family
    }

    /// The given name (名), possibly empty.
    pub fn given(&self) -> &str {
        &self.given
    }

    /// The full name as written: no space between Chinese family and given
    /// names, one space between Latin ones.
    pub fn full(&self) -> String {
        let latin = |s: &str| s.chars().last().is_some_and(|c| c.is_ascii_alphabetic());
        if self.given.is_empty() {
            self.family.clone()
        } else if latin(&self.family) {
            format!("{} {}", self.given, self.family)
        } else {
            format!("{}{}", self.family, self.given)
        }
    }
}

impl Mask for PersonName {
    /// The family name followed by one `*` per character of the given name
    /// (at least one): 张三丰 → `张**`.
    fn masked(&self) -> String {
        let stars = self.given.chars().count().max(1);
        format!("{}{}", self.family, "*".repeat(stars))
    }
}

/// A phone number: mobile (11 digits) or landline with area code, kept as
/// digits with an optional leading `+`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Accepts digits with spaces, dashes or parentheses as separators and
    /// an optional leading `+`; keeps 6 to 20 digits.
    pub fn new(text: &str) -> Result<Self, DomainError> {
        let trimmed = text.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", trimmed),
        };
        let mut digits = String::new();
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '(' | ')' => {}
                other => {
                    return Err(DomainError::input(
                        "phone number",
                        format!("{other:?} is not a digit or separator"),
                    ))
                }
            }
        }
        if !(6..=20).contains(&digits.len()) {
            return Err(DomainError::input(
                "phone number",
                format!("{} digits (6 to 20 expected)", digits.len()),
            ));
        }
        Ok(Self(format!("{plus}{digits}")))
    }

    /// The normalised number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Mask for PhoneNumber {
    /// Keeps the first three and the last four characters: `138****5678`
    /// (with a country code, `+86*******5678`). Numbers shorter than 11
    /// keep only their last two digits.
    fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let n = chars.len();
        if n >= 11 {
            let head: String = chars[..3].iter().collect();
            let tail: String = chars[n - 4..].iter().collect();
            format!("{head}{}{tail}", "*".repeat(n - 7))
        } else {
            let tail: String = chars[n - 2..].iter().collect();
            format!("{}{tail}", "*".repeat(n - 2))
        }
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

/// An identity document number (身份证号 or passport number).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

impl IdNumber {
    /// Accepts 5 to 30 letters and digits. A mainland resident ID (18
    /// characters) must also carry a correct GB 11643 check character.
    pub fn new(text: &str) -> Result<Self, DomainError> {
        let value: String = text.trim().to_uppercase();
        if !(5..=30).contains(&value.len()) || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(DomainError::input("ID number", "5 to 30 letters and digits expected"));
        }
        if value.len() == 18 && value[..17].chars().all(|c| c.is_ascii_digit()) {
            let check = resident_id_check(&value[..17]);
            if value.chars().nth(17) != Some(check) {
                return Err(DomainError::input("ID number", "the check character does not match"));
            }
        }
        Ok(Self(value))
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Mask for IdNumber {
    /// Keeps the first and the last two characters (`1***************2X`
    /// for an 18-character ID), so that staff can confirm a number read
    /// out on the phone.
    fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let n = chars.len();
        format!("{}{}{}{}", chars[0], "*".repeat(n - 3), chars[n - 2], chars[n - 1])
    }
}

impl TryFrom<String> for IdNumber {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<IdNumber> for String {
    fn from(p: IdNumber) -> String {
        p.0
    }
}

/// The GB 11643 check character of the first 17 digits of a mainland
/// resident ID number.
pub(super) fn resident_id_check(digits: &str) -> char {
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits
        .chars()
        .take(17)
        .zip(weights)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
}
