//! Crash safety of the durable mode: a child process (`eventlog-crash-child`)
//! appends from several concurrent writers and reports every acknowledged
//! event on stdout; the test kills it with SIGKILL at a random moment,
//! reopens the store and checks that every acknowledged event survived at
//! its acknowledged position, intact, with dense positions and a store that
//! passes `verify`. Many rounds run on one data folder, so every round also
//! recovers from the crashes of all the rounds before it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use eventlog::{EventId, EventStore, RecordedEvent, SledEventStore, SledOptions, StreamId};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Rounds of spawn, kill, reopen and check, all on one data folder.
const ROUNDS: u64 = 24;
/// Concurrent writer tasks in the child.
const WRITERS: usize = 4;
/// Payload length the child writes (see `payload_for`).
const PAYLOAD_LEN: usize = 300;
/// How long a child may take to open the store and say `ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The payload the child writes for the event `id`; the same function as in
/// `src/bin/eventlog-crash-child.rs`.
fn payload_for(id: &EventId) -> Vec<u8> {
    let mut state = id.0.as_u128() as u64 ^ (id.0.as_u128() >> 64) as u64;
    let mut out = Vec::with_capacity(PAYLOAD_LEN);
    while out.len() < PAYLOAD_LEN {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(PAYLOAD_LEN);
    out
}

/// A deterministic splitmix64 generator, seeded per round.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..high`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

/// One acknowledged event as the child reported it.
#[derive(Clone, PartialEq, Eq, Debug)]
struct Ack {
    round: u64,
    id: EventId,
    stream: String,
    version: u64,
}

/// Parses `ack <position> <uuid> <stream> <version>`.
fn parse_ack(line: &str, round: u64) -> Option<(u64, Ack)> {
    let mut parts = line.split(' ');
    if parts.next()? != "ack" {
        return None;
    }
    let position = parts.next()?.parse().ok()?;
    let id = EventId(uuid::Uuid::parse_str(parts.next()?).ok()?);
    let stream = parts.next()?.to_string();
    let version = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((
        position,
        Ack {
            round,
            id,
            stream,
            version,
        },
    ))
}

/// Reads the child's stdout and sends each complete line (without its
/// newline). A last line without a newline was cut by the kill and is
/// dropped; the returned count says how many such lines there were (0 or 1).
fn spawn_line_reader(
    stdout: std::process::ChildStdout,
    lines: mpsc::Sender<String>,
) -> JoinHandle<std::io::Result<usize>> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf)?;
            if n == 0 {
                return Ok(0);
            }
            if buf.last() != Some(&b'\n') {
                return Ok(1);
            }
            buf.pop();
            let line = String::from_utf8_lossy(&buf).into_owned();
            if lines.send(line).is_err() {
                return Ok(0);
            }
        }
    })
}

fn spawn_child(dir: &Path) -> std::io::Result<Child> {
    Command::new(env!("CARGO_BIN_EXE_eventlog-crash-child"))
        .arg(dir)
        .arg(WRITERS.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Kills the child with SIGKILL and checks that it died of it rather than
/// of an error of its own.
fn kill_child(child: &mut Child, stderr: JoinHandle<String>, round: u64) -> TestResult {
    if let Some(status) = child.try_wait()? {
        let stderr = stderr.join().unwrap_or_default();
        panic!("round {round}: the child exited by itself before the kill ({status}); stderr:\n{stderr}");
    }
    child.kill()?;
    let status = child.wait()?;
    let stderr = stderr.join().unwrap_or_default();
    assert!(!status.success(), "round {round}: killed child reported success");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "round {round}: the child did not die of SIGKILL ({status}); stderr:\n{stderr}"
        );
    }
    Ok(())
}

/// Reopens the store in this process and checks it against every event
/// acknowledged so far. Returns the number of events in the log.
fn check_store(dir: &Path, acked: &BTreeMap<u64, Ack>, round: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let store = SledEventStore::open(dir, SledOptions::default())?;
    let head = store.head();
    let all: Vec<RecordedEvent> = store.read_all(0).collect::<Result<_, _>>()?;
    let expected_len = head.map_or(0, |h| h + 1);
    assert_eq!(
        all.len() as u64,
        expected_len,
        "round {round}: read_all yields {} events but the head is {head:?}",
        all.len()
    );

    let mut ids = HashSet::with_capacity(all.len());
    let mut by_stream: HashMap<&str, Vec<&RecordedEvent>> = HashMap::new();
    for (i, event) in all.iter().enumerate() {
        assert_eq!(event.position, i as u64, "round {round}: positions are not dense");
        assert!(ids.insert(event.id), "round {round}: id {} appears twice", event.id);
        assert_eq!(event.event_type(), "CrashTest", "round {round}: position {i}");
        assert!(
            event.payload() == payload_for(&event.id),
            "round {round}: the payload at position {i} (id {}) is damaged",
            event.id
        );
        by_stream.entry(event.stream()).or_default().push(event);
    }

    for (position, ack) in acked {
        let event = all.get(*position as usize).unwrap_or_else(|| {
            panic!(
                "round {round}: event {} acknowledged at position {position} in round {} is lost; \
                 the log ends at {head:?}",
                ack.id, ack.round
            )
        });
        assert_eq!(
            (&event.id, event.stream(), event.stream_version),
            (&ack.id, ack.stream.as_str(), ack.version),
            "round {round}: position {position} holds another event than the one acknowledged in round {}",
            ack.round
        );
    }

    // The stream index agrees with the log.
    for (name, events) in &by_stream {
        let stream = StreamId::new(*name)?;
        let read = store.read_stream(&stream, 0, usize::MAX)?;
        let positions: Vec<u64> = read.iter().map(|e| e.position).collect();
        let expected: Vec<u64> = events.iter().map(|e| e.position).collect();
        assert_eq!(
            positions, expected,
            "round {round}: read_stream({name}) disagrees with read_all"
        );
        assert!(
            read.iter().enumerate().all(|(v, e)| e.stream_version == v as u64),
            "round {round}: versions of {name} are not dense from 0"
        );
        assert_eq!(store.stream_version(&stream)?, Some(events.len() as u64 - 1));
    }

    let report = store.verify()?;
    assert_eq!(
        report.events, expected_len,
        "round {round}: verify counted other events"
    );
    assert_eq!(report.head, head, "round {round}: verify saw another head");

    store.close()?;
    drop(store);
    Ok(expected_len)
}

#[test]
fn acknowledged_appends_survive_sigkill() -> TestResult {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let mut acked: BTreeMap<u64, Ack> = BTreeMap::new();
    let mut rounds_with_acks = 0;
    let mut cut_lines = 0;
    let mut previous_len = 0;

    for round in 0..ROUNDS {
        let mut rng = Rng(round.wrapping_mul(0xA076_1D64_78BD_642F) ^ 0xE703_7ED1_A0B4_28DB);
        // About one round in five is killed 0-120 ms after the spawn, not
        // waiting for `ready` (a debug build takes some 70 ms to open the
        // store), so the kill lands during start-up, sled's recovery or the
        // first appends; the others 20-300 ms after the child said ready.
        // The printed kind is `open` for a kill before the child said
        // ready, `early` for one after.
        let early_kill = rng.range(0, 5) == 0;
        let delay = if early_kill {
            Duration::from_millis(rng.range(0, 120))
        } else {
            Duration::from_millis(rng.range(20, 300))
        };

        let mut child = spawn_child(dir.path())?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let mut stderr_pipe = child.stderr.take().ok_or("no stderr pipe")?;
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            text
        });
        let (tx, rx) = mpsc::channel();
        let reader = spawn_line_reader(stdout, tx);

        let mut lines = Vec::new();
        if !early_kill {
            match rx.recv_timeout(READY_TIMEOUT) {
                Ok(line) => lines.push(line),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let stderr = stderr.join().unwrap_or_default();
                    panic!("round {round}: the child never said ready ({e}); stderr:\n{stderr}");
                }
            }
        }
        std::thread::sleep(delay);
        kill_child(&mut child, stderr, round)?;
        cut_lines += reader.join().map_err(|_| "the stdout reader panicked")??;
        lines.extend(rx.try_iter());

        let mut round_acks = 0;
        for (i, line) in lines.iter().enumerate() {
            if line == "ready" {
                assert_eq!(i, 0, "round {round}: `ready` after an ack");
                continue;
            }
            let (position, ack) =
                parse_ack(line, round).unwrap_or_else(|| panic!("round {round}: unexpected line {line:?}"));
            if let Some(earlier) = acked.get(&position) {
                panic!(
                    "round {round}: position {position} acknowledged twice: {earlier:?} and then {ack:?} \
                     (an acknowledged event was lost and its position reused)"
                );
            }
            assert!(
                position >= previous_len,
                "round {round}: acknowledged position {position} lies below the log's length {previous_len} \
                 checked after the previous round"
            );
            acked.insert(position, ack);
            round_acks += 1;
        }
        if round_acks > 0 {
            rounds_with_acks += 1;
        }

        let len = check_store(dir.path(), &acked, round)?;
        assert!(
            len >= previous_len,
            "round {round}: the log shrank from {previous_len} to {len} events"
        );
        println!(
            "round {round:2}: {} kill after {:3} ms, {round_acks:5} acks, log {previous_len:6} -> {len:6} events",
            match (early_kill, lines.first().map(String::as_str)) {
                (false, _) => "late ",
                (true, Some("ready")) => "early",
                (true, _) => "open ",
            },
            delay.as_millis()
        );
        previous_len = len;
    }

    println!(
        "{} acknowledged events in {rounds_with_acks} of {ROUNDS} rounds, {} events in the log, \
         {cut_lines} cut lines, {:.1} s",
        acked.len(),
        previous_len,
        started.elapsed().as_secs_f64()
    );
    assert!(
        rounds_with_acks >= ROUNDS / 4,
        "only {rounds_with_acks} of {ROUNDS} rounds acknowledged any event: the child hardly wrote"
    );
    Ok(())
}
