//! Personal data (个人信息) under PIPL: owners' names, phone numbers and ID
//! numbers.
//!
//! Such values are wrapped in [`Personal`], so that the type system tells
//! every later layer which fields need masking or erasure. A `Personal`
//! value never prints itself: `Debug` shows `<personal>`, and there is no
//! `Display`. Reading the value takes a deliberate call to
//! [`Personal::expose`]; [`Personal::masked`] gives the form that roles
//! without a need to know may see.
//!
//! In the log and the views personal values are [`Sealed`]: encrypted
//! under a key per data subject kept outside the log, so that destroying
//! the key erases them everywhere while every history still replays
//! (PIPL art. 47). Commands carry values in clear; the service seals them
//! before it appends.
//!
//! ```
//! use domain::personal::{Personal, PhoneNumber, PersonName};
//! let phone = Personal::new(PhoneNumber::new("13812345678").unwrap());
//! assert_eq!(phone.masked().as_deref(), Some("138****5678"));
//! assert_eq!(format!("{phone:?}"), "Personal(<personal>)");
//! let name = Personal::new(PersonName::new("欧阳", "娜娜").unwrap());
//! assert_eq!(name.masked().as_deref(), Some("欧阳**"));
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// A value that is personal data: either in clear (as a command brings
/// it) or sealed (encrypted under its data subject's key, as the log and
/// the views keep it; see [`Sealed`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Personal<T>(Held<T>);

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Held<T> {
    Clear(T),
    Sealed(Sealed),
}

/// A personal value encrypted under the key of its data subject (an owner,
/// or a caller known only by phone number). The domain treats it as
/// opaque bytes: sealing and opening happen where the keys are, outside
/// the domain. Destroying the subject's key erases every value sealed
/// under it, in the log and in the views alike (crypto-shredding).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sealed {
    /// The data subject whose key sealed the value (`owner-O-1`).
    pub subject: String,
    /// The cipher's nonce.
    pub nonce: Vec<u8>,
    /// The encrypted value, with its authentication tag.
    pub ciphertext: Vec<u8>,
}

impl<T> Personal<T> {
    /// Marks a value as personal data.
    pub fn new(value: T) -> Self {
        Self(Held::Clear(value))
    }

    /// A sealed value.
    pub fn sealed(sealed: Sealed) -> Self {
        Self(Held::Sealed(sealed))
    }

    /// The value itself if it is in clear, `None` if it is sealed. Call
    /// sites are where personal data leaves the protection of the type:
    /// keep them few and justified.
    pub fn expose(&self) -> Option<&T> {
        match &self.0 {
            Held::Clear(v) => Some(v),
            Held::Sealed(_) => None,
        }
    }

    /// The clear value, or `None` if sealed; for the same reasons as
    /// [`expose`](Self::expose).
    pub fn into_inner(self) -> Option<T> {
        match self.0 {
            Held::Clear(v) => Some(v),
            Held::Sealed(_) => None,
        }
    }

    /// The sealed form, if the value is sealed.
    pub fn as_sealed(&self) -> Option<&Sealed> {
        match &self.0 {
            Held::Clear(_) => None,
            Held::Sealed(s) => Some(s),
        }
    }
}

impl<T: Mask> Personal<T> {
    /// The masked form, safe to show to any role allowed to see the record;
    /// `None` if the value is sealed (open it first).
    pub fn masked(&self) -> Option<String> {
        self.expose().map(Mask::masked)
    }
}

impl<T> fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Held::Clear(_) => f.write_str("Personal(<personal>)"),
            Held::Sealed(s) => write!(f, "Personal(<sealed for {}>)", s.subject),
        }
    }
}

thread_local! {
    static SCHEMA_1: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `decode` reading personal values in the format of schema version
/// 1 of the stored events: the bare value, in clear, from before personal
/// data was sealed. Events of that version stay readable; their personal
/// values cannot be erased by destroying a key.
pub fn with_schema_1<R>(decode: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            SCHEMA_1.with(|s| s.set(false));
        }
    }
    SCHEMA_1.with(|s| s.set(true));
    let _reset = Reset;
    decode()
}

impl<T: Serialize> Serialize for Personal<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Personal<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if SCHEMA_1.with(|s| s.get()) {
            T::deserialize(deserializer).map(Personal::new)
        } else {
            Held::deserialize(deserializer).map(Personal)
        }
    }
}

/// A personal field of an event or a record, by kind, for the code that
/// seals and opens them.
pub enum PersonalField<'a> {
    /// A name.
    Name(&'a mut Personal<PersonName>),
    /// A phone number.
    Phone(&'a mut Personal<PhoneNumber>),
    /// An identity document number.
    IdNumber(&'a mut Personal<IdNumber>),
}

/// How a kind of personal data is shown to roles that may not see it whole.
pub trait Mask {
    /// The masked text.
    fn masked(&self) -> String;
}

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
fn resident_id_check(digits: &str) -> char {
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits
        .chars()
        .take(17)
        .zip(weights)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
}

/// The kind of a piece of personal data found in free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TextKind {
    /// A mainland mobile number (11 digits, `1[3-9]…`, with or without
    /// `+86`, spaces or dashes).
    Phone,
    /// An 18-character mainland resident ID number with a valid check
    /// character.
    IdNumber,
}

impl TextKind {
    /// The masked form of `original` (a piece of this kind as typed), as
    /// the field of the same kind masks it.
    pub fn masked(self, original: &str) -> String {
        match self {
            TextKind::Phone => PhoneNumber::new(original)
                .map(|p| p.masked())
                .unwrap_or_else(|_| "*".repeat(original.chars().count())),
            TextKind::IdNumber => IdNumber::new(original)
                .map(|i| i.masked())
                .unwrap_or_else(|_| "*".repeat(original.chars().count())),
        }
    }
}

/// A piece of personal data found in an event's free text and sealed out
/// of it; the text holds [`placeholder`]`(tag)` where it was.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TextSeal {
    /// The placeholder's tag: lower-case letters, unique within the record.
    pub tag: String,
    /// What it is (for masking).
    pub kind: TextKind,
    /// The piece as typed, sealed for the ticket's data subject.
    pub sealed: Sealed,
}

/// Where a piece of personal data sits in a text (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// What it is.
    pub kind: TextKind,
}

const PLACEHOLDER_OPEN: &str = "[[personal:";
const PLACEHOLDER_CLOSE: &str = "]]";

/// The text that stands in stored free text for the sealed piece `tag`.
pub fn placeholder(tag: &str) -> String {
    format!("{PLACEHOLDER_OPEN}{tag}{PLACEHOLDER_CLOSE}")
}

/// `text` with every placeholder whose tag `replace` knows replaced by
/// what it returns; other text (unknown tags included) stays as it is.
pub fn replace_placeholders(text: &str, mut replace: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PLACEHOLDER_OPEN) {
        let after = &rest[at + PLACEHOLDER_OPEN.len()..];
        let tag_len = after.bytes().take_while(u8::is_ascii_lowercase).count();
        let tag = &after[..tag_len];
        let replaced = if tag_len > 0 && after[tag_len..].starts_with(PLACEHOLDER_CLOSE) {
            replace(tag)
        } else {
            None
        };
        match replaced {
            Some(r) => {
                out.push_str(&rest[..at]);
                out.push_str(&r);
                rest = &after[tag_len + PLACEHOLDER_CLOSE.len()..];
            }
            None => {
                out.push_str(&rest[..at + PLACEHOLDER_OPEN.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholder that starts at byte `at` of `text`, if one does: its
/// length in bytes.
pub fn placeholder_at(text: &str, at: usize) -> Option<usize> {
    let rest = text.get(at..)?.strip_prefix(PLACEHOLDER_OPEN)?;
    let tag_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
    (tag_len > 0 && rest[tag_len..].starts_with(PLACEHOLDER_CLOSE))
        .then_some(PLACEHOLDER_OPEN.len() + tag_len + PLACEHOLDER_CLOSE.len())
}

/// The mainland mobile numbers and resident ID numbers written in `text`,
/// in order, not overlapping:
/// - a mobile number is 11 digits starting `13`–`19`, possibly with single
///   spaces or dashes between digits (`138 1234 5678`, `138-1234-5678`),
///   possibly after `+86` (and a space or dash); not part of a longer run of
///   digits;
/// - a resident ID number is 17 digits and a digit or `X` (either case)
///   with a valid GB 11643 check character, not next to other letters or
///   digits.
///
/// Landline numbers, numbers written with other separators or in
/// full-width digits, and ID numbers split by spaces are not found.
pub fn find_personal(text: &str) -> Vec<Found> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |(b, _)| *b);
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if let Some(end) = id_number_at(&chars, i) {
            found.push(Found {
                start: byte_at(i),
                end: byte_at(end),
                kind: TextKind::IdNumber,
            });
            i = end;
        } else if let Some(end) = mobile_at(&chars, i) {
            found.push(Found {
                start: byte_at(i),
                end: byte_at(end),
                kind: TextKind::Phone,
            });
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

fn char_is(chars: &[(usize, char)], i: usize, test: impl Fn(char) -> bool) -> bool {
    chars.get(i).is_some_and(|(_, c)| test(*c))
}

/// A resident ID number starting at char `i`: the char index past it.
fn id_number_at(chars: &[(usize, char)], i: usize) -> Option<usize> {
    if i > 0 && char_is(chars, i - 1, |c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let end = i + 18;
    if !(i..i + 17).all(|j| char_is(chars, j, |c| c.is_ascii_digit()))
        || !char_is(chars, i + 17, |c| c.is_ascii_digit() || c == 'X' || c == 'x')
        || char_is(chars, end, |c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let digits: String = chars[i..i + 17].iter().map(|(_, c)| *c).collect();
    (resident_id_check(&digits) == chars[i + 17].1.to_ascii_uppercase()).then_some(end)
}

/// A mobile number starting at char `i`: the char index past it.
fn mobile_at(chars: &[(usize, char)], i: usize) -> Option<usize> {
    if i > 0 && char_is(chars, i - 1, |c| c.is_ascii_digit()) {
        return None;
    }
    let separator = |c: char| c == ' ' || c == '-';
    let mut j = i;
    if char_is(chars, j, |c| c == '+') {
        if !(char_is(chars, j + 1, |c| c == '8') && char_is(chars, j + 2, |c| c == '6')) {
            return None;
        }
        j += 3;
        if char_is(chars, j, separator) {
            j += 1;
        }
    }
    let mut digits = String::new();
    while digits.len() < 11 {
        match chars.get(j).map(|(_, c)| *c) {
            Some(c) if c.is_ascii_digit() => {
                digits.push(c);
                j += 1;
            }
            Some(c) if separator(c) && !digits.is_empty() && char_is(chars, j + 1, |c| c.is_ascii_digit()) => j += 1,
            _ => return None,
        }
    }
    let mut d = digits.chars();
    let valid = d.next() == Some('1') && d.next().is_some_and(|c| ('3'..='9').contains(&c));
    (valid && !char_is(chars, j, |c| c.is_ascii_digit())).then_some(j)
}

#[cfg(test)]
mod text_tests {
    use super::*;

    fn pieces(text: &str) -> Vec<(&str, TextKind)> {
        find_personal(text)
            .into_iter()
            .map(|f| (&text[f.start..f.end], f.kind))
            .collect()
    }

    #[test]
    fn mobile_numbers_in_their_usual_spellings_are_found() {
        use TextKind::Phone;
        assert_eq!(pieces("业主电话13812345678，下午在家"), vec![("13812345678", Phone)]);
        assert_eq!(pieces("tel 138 1234 5678."), vec![("138 1234 5678", Phone)]);
        assert_eq!(pieces("138-1234-5678/"), vec![("138-1234-5678", Phone)]);
        assert_eq!(pieces("call +86 139-8765-4321 now"), vec![("+86 139-8765-4321", Phone)]);
        assert_eq!(pieces("+8619912345678"), vec![("+8619912345678", Phone)]);
        assert_eq!(
            pieces("A:13812345678 B:15900001111"),
            vec![("13812345678", Phone), ("15900001111", Phone)]
        );
        // Not mobile numbers: a second digit of 0-2, too short, part of a
        // longer run of digits, a double separator.
        for text in [
            "12812345678",
            "1381234567",
            "订单号2026138123456789",
            "138123456789",
            "138  1234 5678",
            "金额 1,381,234,5678",
            "",
            "+8",
        ] {
            assert_eq!(pieces(text), vec![], "{text}");
        }
    }

    #[test]
    fn resident_id_numbers_need_a_valid_check_character() {
        use TextKind::IdNumber;
        assert_eq!(
            pieces("身份证11010519491231002X。"),
            vec![("11010519491231002X", IdNumber)]
        );
        assert_eq!(pieces("id 11010519491231002x"), vec![("11010519491231002x", IdNumber)]);
        // A wrong check character, or letters around it: not an ID number
        // (and no mobile number hides inside it).
        assert_eq!(pieces("110105194912310021"), vec![]);
        assert_eq!(pieces("A11010519491231002X"), vec![]);
        assert_eq!(pieces("11010519491231002XA"), vec![]);
    }

    #[test]
    fn placeholders_are_replaced_only_when_known_and_whole() {
        let text = format!("call {} or {}; [[personal:x", placeholder("abc"), placeholder("zzz"));
        let out = replace_placeholders(&text, |tag| (tag == "abc").then(|| "13812345678".to_string()));
        assert_eq!(out, "call 13812345678 or [[personal:zzz]]; [[personal:x");
        assert_eq!(placeholder_at(&text, 5), Some(placeholder("abc").len()));
        assert_eq!(placeholder_at(&text, 4), None);
        assert!(find_personal(&placeholder("abcdefghijkl")).is_empty());
        assert_eq!(TextKind::Phone.masked("+86 139-8765-4321"), "+86*******4321");
        assert_eq!(TextKind::Phone.masked("138 1234 5678"), "138****5678");
        assert_eq!(TextKind::IdNumber.masked("11010519491231002x"), "1***************2X");
    }
}
