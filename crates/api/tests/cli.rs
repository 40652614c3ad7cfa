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
            "demo-1",
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
            "demo-1",
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
            "demo-1",
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
            "demo-1",
            "--type",
            "Acknowledged",
            "--expected",
            "0",
        ],
    );
    assert!(second.status.success(), "{second:?}");

    // A domain stream takes only an event its views can read.
    let raw = aftersales(
        &data,
        &[
            "log", "append", "--stream", "ticket-1", "--type", "Received", "--body", "漏水",
        ],
    );
    assert!(!raw.status.success());
    let message = String::from_utf8_lossy(&raw.stderr);
    assert!(
        message.contains("refused: stream ticket-1 is read by the views")
            && message.lines().filter(|l| l.starts_with("error: ")).count() == 1,
        "{message}"
    );

    let read = stdout(&aftersales(&data, &["log", "read", "--stream", "demo-1"]));
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

/// Sends one HTTP request over a plain socket; returns the whole answer.
fn http(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    // Not listening yet: an empty answer.
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return String::new();
    };
    if stream.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn tokens_work_through_the_server_and_never_reach_its_logs() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let created = aftersales(&data, &["token", "create", "--role", "analyst", "--user", "an-1"]);
    assert!(created.status.success(), "{created:?}");
    let token = stdout(&created).trim().to_string();
    assert!(token.starts_with("ast_"), "{token}");
    // `ast_<id>_<secret>`: the secret is URL-safe base64 and may itself
    // hold underscores, so it is everything after the second one.
    let secret = token.splitn(3, '_').nth(2).unwrap_or_default().to_string();
    assert!(secret.len() >= 40, "{token}");
    let listed = aftersales(&data, &["token", "list"]);
    let listing = stdout(&listed);
    assert!(listing.contains("analyst") && listing.contains("an-1"), "{listing}");
    assert!(!listing.contains(&secret), "token list shows a secret: {listing}");

    let addr = format!("127.0.0.1:{}", free_port());
    // Logs go to files: a pipe nobody reads would fill and block the server.
    let log_out = dir.path().join("stdout.log");
    let log_err = dir.path().join("stderr.log");
    let file = |p: &Path| std::fs::File::create(p).unwrap_or_else(|e| panic!("{e}"));
    let mut server = Command::new(env!("CARGO_BIN_EXE_aftersales"))
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", &addr])
        .env("RUST_LOG", "trace")
        .stdout(file(&log_out))
        .stderr(file(&log_err))
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let ready = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        http(
            &addr,
            &format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        )
        .contains("200 OK")
    });
    assert!(ready, "the server did not become ready");
    let post = |authorization: &str| {
        let body = r#"{"query":"{ workdays(from: \"2026-10-08\", to: \"2026-10-08\") }"}"#;
        http(
            &addr,
            &format!(
                "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: {authorization}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    assert!(post(&format!("Bearer {token}")).contains("2026-10-08"));
    let forged = format!("{}x", &token[..token.len() - 1]);
    assert!(post(&format!("Bearer {forged}")).contains("UNAUTHENTICATED"));
    let revoked = aftersales(&data, &["token", "revoke", token.split('_').nth(1).unwrap_or_default()]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert!(
        post(&format!("Bearer {token}")).contains("UNAUTHENTICATED"),
        "revocation takes effect at once"
    );

    // Stop it, then read everything it logged.
    let _ = server.kill();
    let _ = server.wait();
    let logs = format!(
        "{}{}",
        std::fs::read_to_string(&log_out).unwrap_or_default(),
        std::fs::read_to_string(&log_err).unwrap_or_default()
    );
    assert!(logs.contains("serving on"), "{logs}");
    assert!(!logs.contains(&secret), "a token secret reached the logs");
    assert!(
        !logs.contains(&forged[forged.len() - 20..]),
        "a presented token reached the logs"
    );
    let key = std::fs::read(data.join("auth/secret.key")).unwrap_or_default();
    assert_eq!(key.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("auth/secret.key"))
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600, "the server secret is readable by its owner only");
    }
}

#[test]
fn erase_owner_through_the_binary() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    // A date the demo cannot end on: refused, nothing written.
    let refused = aftersales(&data, &["demo", "--tickets", "200", "--until", "1850-01-01"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("--until 1850-01-01"), "{err}");
    // The binary's clock is the machine's, so the demo's year ends on a
    // stated date in its past (a later one would put the owners' last
    // events in the erasure's future).
    let demo = aftersales(&data, &["demo", "--tickets", "200", "--until", "2025-06-30"]);
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));

    // An unknown owner: a clear refusal, non-zero exit.
    let unknown = aftersales(&data, &["erase-owner", "O-NOBODY", "--request", "PIPL-1"]);
    assert!(!unknown.status.success());
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(err.contains("O-NOBODY"), "{err}");

    // A demo owner: recorded, keys destroyed; a second run completes
    // nothing more.
    let first = aftersales(&data, &["erase-owner", "O000001", "--request", "PIPL-2"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let out = stdout(&first);
    assert!(out.contains("erasure recorded now"), "{out}");
    assert!(!out.contains(" 0 keys destroyed"), "{out}");
    let again = aftersales(&data, &["erase-owner", "O000001", "--request", "PIPL-2"]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(
        stdout(&again).contains("completed now; 0 keys destroyed"),
        "{}",
        stdout(&again)
    );

    // The log still verifies.
    let verify = aftersales(&data, &["verify"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}

/// A data folder whose log `log append` filled (nothing sealed) opens and
/// gets a key folder; once that key folder is gone, the service refuses to
/// start with one line that names both folders, and creates nothing.
#[test]
fn a_missing_key_folder_is_refused_through_the_binary() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let appended = aftersales(&data, &["log", "append", "--stream", "t", "--type", "Received"]);
    assert!(appended.status.success(), "{appended:?}");
    let rebuilt = aftersales(&data, &["rebuild", "--view", "tickets"]);
    assert!(rebuilt.status.success(), "{}", String::from_utf8_lossy(&rebuilt.stderr));
    let keys = data.join("keys");
    assert!(keys.join("keyring.id").exists() && data.join("keys.id").exists());

    std::fs::rename(&keys, dir.path().join("keys-backup")).unwrap_or_else(|e| panic!("{e}"));
    let refused = aftersales(&data, &["rebuild", "--view", "tickets"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    let line = message
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {message}"));
    for part in [data.display().to_string(), keys.display().to_string(), "restore".into()] {
        assert!(line.contains(&part), "{part:?} not in: {line}");
    }
    assert!(!keys.exists(), "no new key folder");
}

/// The trees of each view in a data folder's view store.
fn view_trees(data: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("viewstate"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".view") && n != "meta.view")
        .collect();
    names.sort();
    names
}

/// `rebuild` on a folder without views builds each view once (the build
/// the open starts answers the request); on a folder with views, once
/// more, into a tree of its own that replaces the old one.
#[test]
fn rebuild_builds_each_view_once() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let appended = aftersales(&data, &["log", "append", "--stream", "t", "--type", "Received"]);
    assert!(appended.status.success(), "{appended:?}");
    assert!(!data.join("viewstate").exists(), "log append opened no views");
    let first = aftersales(&data, &["rebuild"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let trees = view_trees(&data);
    let views = projections::all_views().len();
    assert_eq!(trees.len(), views, "one tree per view: {trees:?}");
    assert!(
        trees.iter().all(|t| !t.contains(".r")),
        "a view was built a second time after its first build: {trees:?}"
    );
    let second = aftersales(&data, &["rebuild"]);
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let again = view_trees(&data);
    assert_eq!(again.len(), views, "the old trees are gone: {again:?}");
    assert!(
        again.iter().all(|t| t.contains(".r")),
        "each view was rebuilt: {again:?}"
    );
}

/// A mistyped --data is refused by every command that reads a log, and
/// nothing is created; a command meeting a running server says in one
/// line how to get the same answer from it, never "internal error".
#[test]
fn commands_never_pretend_on_a_missing_or_busy_folder() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = dir.path().join("mistyped");
    for args in [
        &["verify"][..],
        &["history", "T-1"],
        &["export", "monthly", "--project", "P01", "--period", "2026-10"],
        &["rebuild"],
        &["repair"],
        &["log", "stats"],
        &["log", "verify"],
        &["log", "read", "--stream", "ticket-T-1"],
    ] {
        let out = aftersales(&missing, args);
        assert!(!out.status.success(), "{args:?}: {out:?}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(message.contains("holds no event log"), "{args:?}: {message}");
        assert!(!missing.exists(), "{args:?} created {}", missing.display());
    }

    // A folder held by another process (as a running server holds it).
    let data = dir.path().join("data");
    let first = aftersales(&data, &["log", "append", "--stream", "demo-1", "--type", "Note"]);
    assert!(first.status.success(), "{first:?}");
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
    let answers: Vec<_> = [&["history", "T-1"][..], &["verify"]]
        .iter()
        .map(|args| aftersales(&data, args))
        .collect();
    let _ = tail.kill();
    let _ = tail.wait();
    for (out, says) in answers
        .iter()
        .zip(["ticketHistory(id: \"T-1\")", "stop the server first"])
    {
        assert!(!out.status.success(), "{out:?}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(message.contains("in use by a running"), "{message}");
        assert!(message.contains(says), "{message}");
        assert!(!message.contains("internal error"), "{message}");
        assert_eq!(message.trim().lines().count(), 1, "{message}");
    }
}

#[test]
fn reference_data_is_published_with_commands_alone() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    // A folder that holds a log.
    let first = aftersales(
        &data,
        &["log", "append", "--stream", "notes-1", "--type", "Note", "--body", "x"],
    );
    assert!(first.status.success(), "{first:?}");
    let file = dir.path().join("cn-mainland-2027.toml");
    let bad = dir.path().join("bad.toml");
    let text = domain::testing::calendar_with_2027("2027.1");
    std::fs::write(&file, &text).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        &bad,
        text.replace("working_days = [\"2027-02-14\"]", "working_days = [\"2027-02-15\"]")
            .replace("years = [2024, 2025, 2026, 2027]", "years = [2025, 2026, 2027]"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let head = |data: &Path| {
        let out = aftersales(data, &["log", "verify"]);
        assert!(out.status.success(), "{out:?}");
        stdout(&out)
    };
    let before = head(&data);

    // Every problem listed, non-zero exit, nothing appended.
    let refused = aftersales(&data, &["calendar", "publish", bad.to_str().unwrap_or_default()]);
    assert!(!refused.status.success(), "{refused:?}");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("already a working day") && message.contains("2024 is missing"),
        "{message}"
    );
    // A dry run appends nothing either.
    let dry = aftersales(
        &data,
        &["calendar", "publish", file.to_str().unwrap_or_default(), "--dry-run"],
    );
    assert!(dry.status.success(), "{dry:?}");
    assert!(stdout(&dry).contains("dry run"), "{}", stdout(&dry));
    assert_eq!(head(&data), before);

    // Published, listed, shown back byte for byte; again: nothing to do.
    let published = aftersales(&data, &["calendar", "publish", file.to_str().unwrap_or_default()]);
    assert!(published.status.success(), "{published:?}");
    assert!(
        stdout(&published).contains("published business calendar cn-mainland 2027.1"),
        "{}",
        stdout(&published)
    );
    let listed = stdout(&aftersales(&data, &["calendar", "list"]));
    assert!(
        listed.contains("cn-mainland 2026.1") && listed.contains("cn-mainland 2027.1"),
        "{listed}"
    );
    assert!(listed.contains("years 2024, 2025, 2026, 2027"), "{listed}");
    assert_eq!(stdout(&aftersales(&data, &["calendar", "show"])), text);
    let again = aftersales(&data, &["calendar", "publish", file.to_str().unwrap_or_default()]);
    assert!(again.status.success(), "{again:?}");
    assert!(stdout(&again).contains("nothing to do"), "{}", stdout(&again));
    // A mistyped folder is refused, not created.
    let nowhere = dir.path().join("nowhere");
    let out = aftersales(&nowhere, &["calendar", "publish", file.to_str().unwrap_or_default()]);
    assert!(!out.status.success() && !nowhere.exists(), "{out:?}");
}
