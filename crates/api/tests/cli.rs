//! The `aftersales log` tools, run as an operator would, on a data folder.

use std::path::Path;
use std::process::{Command, Output};

fn aftersales(data: &Path, args: &[&str]) -> Output {
    let binary = env!("CARGO_BIN_EXE_aftersales");
    Command::new(binary)
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn append_read_verify_and_refusals_through_the_binary() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let first = aftersales(
        &data,
        &[
            "log",
            "append",
            "--stream",
            "ticket-1",
            "--type",
            "Received",
            "--body",
            "漏水",
            "--expected",
            "none",
        ],
    );
    assert!(first.status.success(), "{first:?}");
    assert!(stdout(&first).contains("\"position\":0"), "{}", stdout(&first));

    let stale = aftersales(
        &data,
        &[
            "log",
            "append",
            "--stream",
            "ticket-1",
            "--type",
            "Received",
            "--expected",
            "none",
        ],
    );
    assert!(!stale.status.success());
    let message = String::from_utf8_lossy(&stale.stderr);
    assert!(message.contains("wrong expected version"), "{message}");
    assert!(
        !message.contains("backtrace"),
        "operators get one line, not a backtrace: {message}"
    );

    let bad = aftersales(
        &data,
        &[
            "log",
            "append",
            "--stream",
            "ticket-1",
            "--type",
            "X",
            "--expected",
            "seven",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--expected"));

    let second = aftersales(
        &data,
        &[
            "log",
            "append",
            "--stream",
            "ticket-1",
            "--type",
            "Acknowledged",
            "--expected",
            "0",
        ],
    );
    assert!(second.status.success(), "{second:?}");

    let read = stdout(&aftersales(&data, &["log", "read", "--stream", "ticket-1"]));
    let lines: Vec<&str> = read.lines().collect();
    assert_eq!(lines.len(), 2, "{read}");
    assert!(
        lines[0].contains("\"text\":\"漏水\"") && lines[1].contains("Acknowledged"),
        "{read}"
    );

    let verify = aftersales(&data, &["log", "verify"]);
    assert!(verify.status.success());
    assert!(
        stdout(&verify).contains("ok: 2 events in 1 streams, head 1"),
        "{}",
        stdout(&verify)
    );

    let stats = stdout(&aftersales(&data, &["log", "stats"]));
    assert!(stats.contains("head position: 1"), "{stats}");
    assert!(stats.contains("0 torn bytes dropped"), "{stats}");
}

/// A second process on a data folder in use gets a one-line error naming
/// the folder, not a hang or a sled backtrace.
#[test]
fn a_data_folder_in_use_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let first = aftersales(&data, &["log", "append", "--stream", "t", "--type", "Received"]);
    assert!(first.status.success(), "{first:?}");

    // `log tail` holds the store open; its first line shows it has opened it.
    let mut tail = Command::new(env!("CARGO_BIN_EXE_aftersales"))
        .arg("--data")
        .arg(&data)
        .args(["log", "tail"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut line = String::new();
    let stdout = tail.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap_or_else(|e| panic!("{e}"));
    assert!(line.contains("\"position\":0"), "{line}");

    let second = aftersales(&data, &["log", "stats"]);
    let _ = tail.kill();
    let _ = tail.wait();
    assert!(!second.status.success());
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(message.contains("in use by another process"), "{message}");
    assert_eq!(message.trim().lines().count(), 1, "{message}");
}
