//! A real crash: a process following the log is killed (SIGKILL) and the
//! views resume from a consistent checkpoint.

use domain::testing::fixtures::refs;
use eventlog::{EventStore, Position, SledEventStore, SledOptions};
use projections::all_views;
use projections::runner;
use projections::store::ViewDb;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::histories::*;
use super::prefix::LogPrefix;
use super::*;
use crate::support::*;

// ------------------------------------------------------- a real crash

/// Writes `appends` to `path` as `views-crash-child` reads them: one event
/// a line, tab-separated, with its append's number (see the binary's
/// documentation).
fn write_history(path: &std::path::Path, appends: &[Append]) {
    fn text(field: &str) -> &str {
        assert!(
            !field.contains(['\t', '\n']),
            "{field:?} cannot be written to the history file"
        );
        field
    }
    let mut out = String::new();
    for (number, append) in appends.iter().enumerate() {
        for event in &append.events {
            let m = &event.metadata;
            let payload: String = event.payload.iter().map(|b| format!("{b:02x}")).collect();
            let fields = [
                number.to_string(),
                text(append.stream.as_str()).to_string(),
                event.id.0.to_string(),
                text(&event.event_type).to_string(),
                event.schema_version.to_string(),
                text(&m.actor).to_string(),
                text(&m.role).to_string(),
                text(&m.channel).to_string(),
                m.occurred_at.map_or("-".to_string(), |t| t.to_rfc3339()),
                m.correlation_id.map_or("-".to_string(), |u| u.to_string()),
                m.causation_id.map_or("-".to_string(), |u| u.to_string()),
                payload,
            ];
            out.push_str(&fields.join("\t"));
            out.push('\n');
        }
    }
    std::fs::write(path, out).unwrap();
}

/// A process following the log with every view is killed (SIGKILL) at
/// some moment; views are flushed on sled's timer, so they come back at
/// some earlier checkpoint. Reopened, each view's state must be exactly
/// the view built from 0 up to its checkpoint, and once it has caught up,
/// the view built from 0 on the whole log; the tickets view must count
/// every event once.
#[tokio::test]
async fn killed_while_following_the_log_the_views_resume_from_a_consistent_checkpoint() {
    // The child appends a long history while every view follows it.
    let steps = steps(600).new_tree(&mut TestRunner::deterministic()).unwrap().current();
    let appends = decide_history(&refs(), &steps);
    for kill_after in [Duration::from_millis(200), Duration::from_millis(700)] {
        let dir = tempfile::tempdir().unwrap();
        write_history(&dir.path().join("history"), &appends);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_views-crash-child"))
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Every line the child prints, read until it dies.
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let (line_tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufRead::lines(stdout).map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        // Started, with its first append acknowledged.
        let mut said = Vec::new();
        while !said.iter().any(|l: &String| l.starts_with("appended ")) {
            match lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => said.push(line),
                Err(e) => {
                    child.kill().unwrap();
                    panic!("the child did not start appending ({e}); it said {said:?}");
                }
            }
        }
        assert_eq!(said.first().map(String::as_str), Some("ready"), "{said:?}");
        // The moment of the kill against sled's flush timer, which the
        // views' checkpoints follow: real time has to pass for it, so this
        // one sleep stays.
        std::thread::sleep(kill_after);
        child.kill().unwrap();
        child.wait().unwrap();

        let log = Arc::new(SledEventStore::open(dir.path().join("log"), SledOptions::default()).unwrap());
        let head = log.head().expect("the child appended nothing before it was killed");
        let db = ViewDb::open(&dir.path().join("views")).unwrap();
        let views = start_all(log.clone(), &db);
        // Nothing has run yet on this thread: each view is as the crash
        // left it.
        let at_crash: Vec<(Option<Position>, Entries)> =
            views.iter().map(|v| (v.applied(), entries(&v.tree()))).collect();

        // Each view built from 0 up to its own checkpoint.
        let prefix_db = ViewDb::open(&dir.path().join("prefix-views")).unwrap();
        let mut prefixes = Vec::new();
        for (view, (applied, state)) in all_views().into_iter().zip(&at_crash) {
            let Some(applied) = *applied else {
                assert!(state.is_empty(), "view {} has entries but no checkpoint", view.name());
                continue;
            };
            assert!(
                applied <= head,
                "view {} applied {applied}, past the log's head {head}",
                view.name()
            );
            let prefix = LogPrefix::new(log.clone(), applied);
            let handle = runner::start(prefix.clone(), prefix_db.clone(), view).unwrap();
            handle.wait_for(applied, WAIT).await.unwrap();
            if let Some(diff) = difference(&entries(&handle.tree()), state) {
                panic!(
                    "killed after {kill_after:?}: view {} at checkpoint {applied} differs from the view built up to it: {diff}",
                    handle.name()
                );
            }
            prefix.close();
            prefixes.push(handle);
        }
        for handle in &prefixes {
            handle.wait_stopped(WAIT).await.unwrap();
        }

        // Caught up, every view is the view built from 0.
        let from_zero_db = ViewDb::open(&dir.path().join("from-zero")).unwrap();
        let from_zero = start_all(log.clone(), &from_zero_db);
        wait_all(&views, head).await;
        wait_all(&from_zero, head).await;
        assert_same_views(&[("after the crash", &views), ("from 0", &from_zero)]).unwrap();
        assert_tickets_match_the_log(&log, views.iter().find(|v| v.name() == "tickets").unwrap());
        println!(
            "killed after {kill_after:?}: log head {head}, checkpoints {:?}",
            at_crash.iter().map(|(a, _)| *a).collect::<Vec<_>>()
        );
        log.close().unwrap();
        stop_all(&views).await;
        stop_all(&from_zero).await;
    }
}
