//! Personal data in free text (descriptions, notes): finding mobile and ID
//! numbers, and the placeholders that stand for them once sealed.

use serde::{Deserialize, Serialize};

use super::values::resident_id_check;
use super::{IdNumber, Mask, PhoneNumber, Sealed};

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
