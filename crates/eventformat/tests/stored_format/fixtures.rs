//! The fixture files: where they lie, how a missing one is written, and
//! the check of every fixture of a version.

use std::path::{Path, PathBuf};

use eventformat::wire::{self, DomainEvent};

use crate::catalogue::*;
use crate::encoding::*;
use crate::samples::*;

// ---------------------------------------------------------------------------
// The fixture files.

pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events")
}

pub(crate) fn fixture_path(version: u16, kind: &str, name: &str) -> PathBuf {
    fixtures_dir().join(format!("v{version}/{kind}/{name}.bin"))
}

pub(crate) const WRITE_COMMAND: &str = "UPDATE_FIXTURES=1 cargo test -p eventformat --test stored_format";

pub(crate) fn hex_dump(version: u16, kind: &str, name: &str, bytes: &[u8]) -> String {
    let mut out = format!(
        "# {kind}/{name}, payload schema version {version}, {} bytes.\n\
         # Written once by the stored_format tests; never rewritten.\n",
        bytes.len()
    );
    for (i, line) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!("{:06x}  {}\n", i * 16, hex.join(" ")));
    }
    out
}

/// The committed bytes of a fixture. A missing one is written only when
/// `UPDATE_FIXTURES=1` is set, and never over an existing file.
pub(crate) fn fixture(version: u16, kind: &str, name: &str, expected: &DomainEvent) -> Result<Vec<u8>, String> {
    let path = fixture_path(version, kind, name);
    if path.exists() {
        return std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()));
    }
    if std::env::var("UPDATE_FIXTURES").as_deref() != Ok("1") {
        return Err(format!(
            "{} is missing: a stored event type (or schema version) needs its fixture; write the missing ones with `{WRITE_COMMAND}` and commit them",
            path.display()
        ));
    }
    let bytes = payload_of(version, expected);
    let dir = path.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    // `create_new`: an existing fixture is never overwritten.
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(file) => file,
        // Another test of this run wrote it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    file.sync_all().unwrap();
    let txt = path.with_extension("txt");
    if !txt.exists() {
        std::fs::write(&txt, hex_dump(version, kind, name, &bytes)).unwrap();
    }
    Ok(bytes)
}

/// Checks every fixture of `version`; returns the failures, one line each.
pub(crate) fn check_version(version: u16) -> Vec<String> {
    let mut failures = Vec::new();
    for kind in KINDS {
        for name in names_of(kind) {
            if !stored_in(version, kind, name) {
                continue;
            }
            let expected = sample(version, kind, name);
            let what = format!("v{version}/{kind}/{name}");
            let bytes = match fixture(version, kind, name, &expected) {
                Ok(b) => b,
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            // The hex dump beside the fixture shows the same bytes.
            let txt = fixture_path(version, kind, name).with_extension("txt");
            if std::fs::read_to_string(&txt).ok() != Some(hex_dump(version, kind, name, &bytes)) {
                failures.push(format!(
                    "{what}: {} is missing or does not show the fixture's bytes",
                    txt.display()
                ));
            }
            match read_back(version, name, &stream_of(&expected), &bytes) {
                Ok(decoded) if decoded == expected => {}
                Ok(decoded) => failures.push(format!(
                    "{what}: the stored bytes now read as\n  {decoded:?}\nnot\n  {expected:?}\n(a stored type changed: add a schema version and fixtures instead)"
                )),
                Err(e) => failures.push(format!(
                    "{what}: the stored bytes no longer read: {e} (a stored type changed: add a schema version and fixtures instead)"
                )),
            }
            if version == wire::SCHEMA_VERSION {
                let now = encode_current(&expected);
                if now != bytes {
                    failures.push(format!(
                        "{what}: the event now encodes to other bytes than the fixture's:\n  now     {now:02x?}\n  fixture {bytes:02x?}"
                    ));
                }
            }
        }
    }
    failures
}

pub(crate) fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
