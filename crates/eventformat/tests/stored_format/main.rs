//! The stored format, pinned by bytes, for every stored event type and
//! every payload schema version still read.
//!
//! Payloads are positional bincode (`docs/events.md`): the order of a
//! type's fields is its stored format. Each stored event type has, per
//! schema version, a committed fixture of payload bytes in
//! `tests/fixtures/events/v<version>/<record>/<Name>.bin` (with a hex dump
//! beside it, `.txt`, for review). The tests decode every fixture the way
//! the log's readers do ([`wire::decode_new`]) into the value built in
//! code (`samples.rs`), and re-encode that value to the same bytes for the current
//! version. Every field of every sample holds a value unlike its
//! neighbours', so that reordering two fields, changing a field's type or
//! adding one changes what the fixture decodes to.
//!
//! Fixtures are written once and never rewritten: a missing fixture fails,
//! naming the command that writes it (`UPDATE_FIXTURES=1 cargo test -p
//! eventformat --test stored_format`), which writes missing files
//! only. A stored type changes only with a new schema version and new
//! fixtures.
//!
//! How the fixtures of the older versions were made. The code no longer
//! writes them, so their bytes follow the rules the code reads them by
//! (`wire::payload`): a version 2 payload is the version 3 payload without
//! its last byte, the empty `text_seals` list (one zero byte); a version 1
//! payload is that too, with each personal value written bare, without
//! the tag (clear or sealed) that version 2 put before it
//! (read through mirrors of their version 1 layout, `src/schema1.rs`). The events with personal values
//! (`Received`, `OwnerRegistered`, `ContactChanged`) are therefore written
//! for version 1 from a tuple of their fields in stored order
//! ([`encoding::schema_1_payload`]), which also keeps that fixture independent of
//! the current declaration.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod catalogue;
mod encoding;
mod fixtures;
mod samples;

use std::path::{Path, PathBuf};

use eventformat::wire;

use crate::catalogue::*;
use crate::encoding::*;
use crate::fixtures::*;
use crate::samples::*;

#[test]
fn schema_version_3_fixtures_decode_and_reencode() {
    assert_none(check_version(3));
}

#[test]
fn schema_version_2_fixtures_decode() {
    assert_none(check_version(2));
}

#[test]
fn schema_version_1_fixtures_decode() {
    assert_none(check_version(1));
}

/// A new schema version, a new stored event or a fixture of an unknown
/// event all fail here.
#[test]
fn every_stored_event_has_a_fixture() {
    assert_eq!(
        VERSIONS.last().copied(),
        Some(wire::SCHEMA_VERSION),
        "the current schema version needs fixtures: add it to VERSIONS and write them with `{WRITE_COMMAND}`"
    );
    // The lists agree with the enums' own names, variant by variant.
    for kind in KINDS {
        for (i, name) in names_of(kind).iter().enumerate() {
            let event = sample(wire::SCHEMA_VERSION, kind, name);
            assert_eq!(event.name(), *name, "{kind}/{name}");
            assert_eq!(listed(&event), (kind, i), "{kind}/{name}");
        }
    }
    // Every stored name of today has a fixture for the current version
    // (checked in full by the version's test); no fixture names an event
    // the code does not know.
    let mut missing = Vec::new();
    for kind in KINDS {
        for name in names_of(kind) {
            let expected = sample(wire::SCHEMA_VERSION, kind, name);
            if let Err(e) = fixture(wire::SCHEMA_VERSION, kind, name, &expected) {
                missing.push(e);
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    for entry in walk(&fixtures_dir()) {
        let rel = entry.strip_prefix(fixtures_dir()).unwrap();
        let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let [version, kind, file] = parts.as_slice() else {
            panic!("unexpected fixture path {}", rel.display());
        };
        let version: u16 = version.strip_prefix('v').and_then(|v| v.parse().ok()).unwrap();
        let name = file.strip_suffix(".bin").or_else(|| file.strip_suffix(".txt")).unwrap();
        assert!(VERSIONS.contains(&version), "{}: unknown version", rel.display());
        assert!(
            KINDS.contains(&kind.as_str()) && names_of(kind).contains(&name) && stored_in(version, kind, name),
            "{}: no such stored event in that version",
            rel.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The fixtures' samples are what the version's rules say: the older
/// payloads read with the current code only through the version's own
/// path (a version 1 payload with personal values does not read as
/// version 2, and the reverse).
#[test]
fn older_payloads_need_their_own_version() {
    for (kind, name) in [("ticket", "Received"), ("owner", "OwnerRegistered")] {
        let v1 = sample(1, kind, name);
        let bytes = fixture(1, kind, name, &v1).unwrap();
        assert!(!matches!(read_back(2, name, &stream_of(&v1), &bytes), Ok(d) if d == v1));
        let v2 = sample(2, kind, name);
        let bytes = fixture(2, kind, name, &v2).unwrap();
        assert!(!matches!(read_back(1, name, &stream_of(&v2), &bytes), Ok(d) if d == v2));
    }
}
