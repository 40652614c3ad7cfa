//! Model-based property test: random operations (appends with every kind
//! of expectation, blind retries, concurrent appends, reads, subscriptions
//! and restarts) run against the sled store and against a trivially
//! correct model (a `Vec` of events), compared after every step.

use std::sync::Arc;
use std::time::Duration;

use eventlog::{
    EventId, EventMetadata, EventStore, ExpectedVersion, NewEvent, RecordedEvent, SledEventStore, SledOptions,
    StoreError, StreamId, Subscription,
};
use proptest::prelude::*;

const STREAMS: usize = 4;

#[derive(Clone, Debug)]
enum Expect {
    Any,
    NoStream,
    StreamExists,
    /// `Exact(current version + offset)`; offset 0 is right, others stale.
    ExactOffset(i8),
}

#[derive(Clone, Debug)]
enum Op {
    Append {
        stream: usize,
        expect: Expect,
        events: usize,
    },
    /// Resend an earlier append's exact batch (a blind client retry).
    Retry {
        pick: usize,
    },
    Concurrent {
        streams: Vec<usize>,
    },
    ReadStream {
        stream: usize,
        from: u64,
    },
    ReadAll {
        from: u64,
    },
    Subscribe {
        from: u64,
    },
    Restart,
}

fn expect_strategy() -> impl Strategy<Value = Expect> {
    prop_oneof![
        Just(Expect::Any),
        Just(Expect::NoStream),
        Just(Expect::StreamExists),
        (-2i8..=1).prop_map(Expect::ExactOffset),
        Just(Expect::ExactOffset(0)),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..STREAMS, expect_strategy(), 1usize..4).prop_map(|(stream, expect, events)| Op::Append { stream, expect, events }),
        2 => any::<usize>().prop_map(|pick| Op::Retry { pick }),
        2 => prop::collection::vec(0..STREAMS, 2..8).prop_map(|streams| Op::Concurrent { streams }),
        2 => (0..STREAMS, 0u64..6).prop_map(|(stream, from)| Op::ReadStream { stream, from }),
        1 => (0u64..30).prop_map(|from| Op::ReadAll { from }),
        2 => (0u64..30).prop_map(|from| Op::Subscribe { from }),
        1 => Just(Op::Restart),
    ]
}

/// The model's view of one stored event.
#[derive(Clone, Debug, PartialEq)]
struct Stored {
    stream: String,
    version: u64,
    id: EventId,
    event_type: String,
    payload: Vec<u8>,
}

impl Stored {
    fn of(e: &RecordedEvent) -> Self {
        Self {
            stream: e.stream().to_owned(),
            version: e.stream_version,
            id: e.id,
            event_type: e.event_type().to_owned(),
            payload: e.payload().to_vec(),
        }
    }
}

#[derive(Default)]
struct Model {
    log: Vec<Stored>,
    /// Every batch ever sent, with the positions it got if it was written.
    sent: Vec<(usize, Vec<NewEvent>, Option<Vec<u64>>)>,
    counter: u64,
}

impl Model {
    fn version(&self, stream: usize) -> Option<u64> {
        let name = stream_name(stream);
        self.log.iter().filter(|e| e.stream == name).map(|e| e.version).max()
    }

    fn batch(&mut self, events: usize) -> Vec<NewEvent> {
        (0..events)
            .map(|_| {
                self.counter += 1;
                NewEvent {
                    id: EventId::new_random(),
                    event_type: format!("T{}", self.counter % 5),
                    schema_version: 1,
                    payload: self.counter.to_be_bytes().to_vec(),
                    metadata: EventMetadata {
                        actor: "model".into(),
                        ..EventMetadata::default()
                    },
                }
            })
            .collect()
    }

    /// Applies a successful fresh append to the model.
    fn record(&mut self, stream: usize, events: &[NewEvent]) -> Vec<u64> {
        let first_version = self.version(stream).map_or(0, |v| v + 1);
        let mut positions = Vec::new();
        for (version, e) in (first_version..).zip(events) {
            positions.push(self.log.len() as u64);
            self.log.push(Stored {
                stream: stream_name(stream),
                version,
                id: e.id,
                event_type: e.event_type.clone(),
                payload: e.payload.clone(),
            });
        }
        positions
    }
}

fn stream_name(i: usize) -> String {
    format!("ticket-{i}")
}

fn sid(i: usize) -> StreamId {
    StreamId::new(stream_name(i)).unwrap_or_else(|e| panic!("{e}"))
}

fn open(dir: &std::path::Path) -> Arc<SledEventStore> {
    Arc::new(SledEventStore::open(dir, SledOptions::default()).unwrap_or_else(|e| panic!("open: {e}")))
}

fn check_against_model(store: &SledEventStore, model: &Model) {
    let all: Vec<Stored> = store
        .read_all(0)
        .map(|e| e.map(|e| Stored::of(&e)))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("read_all: {e}"));
    assert_eq!(all, model.log, "the whole log equals the model");
    assert_eq!(store.head(), (model.log.len() as u64).checked_sub(1));
    for s in 0..STREAMS {
        assert_eq!(
            store.stream_version(&sid(s)).ok().flatten(),
            model.version(s),
            "version of stream {s}"
        );
    }
}

async fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut store = open(dir.path());
    let mut model = Model::default();
    for op in ops {
        match op {
            Op::Append { stream, expect, events } => {
                let actual = model.version(stream);
                let expected = match expect {
                    Expect::Any => ExpectedVersion::Any,
                    Expect::NoStream => ExpectedVersion::NoStream,
                    Expect::StreamExists => ExpectedVersion::StreamExists,
                    Expect::ExactOffset(off) => {
                        ExpectedVersion::Exact((actual.map_or(0, |v| v as i64) + i64::from(off)).max(0) as u64)
                    }
                };
                // The model's own rule, independent of the store's code.
                let allowed = match expected {
                    ExpectedVersion::Any => true,
                    ExpectedVersion::NoStream => actual.is_none(),
                    ExpectedVersion::StreamExists => actual.is_some(),
                    ExpectedVersion::Exact(v) => actual == Some(v),
                };
                let batch = model.batch(events);
                let result = store.append(&sid(stream), expected, batch.clone()).await;
                if allowed {
                    let outcome = result.unwrap_or_else(|e| panic!("append refused: {e}"));
                    let positions = model.record(stream, &batch);
                    assert_eq!(outcome.positions, positions);
                    assert!(!outcome.deduplicated);
                    model.sent.push((stream, batch, Some(positions)));
                } else {
                    match result {
                        Err(StoreError::WrongExpectedVersion { actual: a, .. }) => assert_eq!(a, actual),
                        other => panic!("expected WrongExpectedVersion, got {other:?}"),
                    }
                    model.sent.push((stream, batch, None));
                }
            }
            Op::Retry { pick } => {
                if model.sent.is_empty() {
                    continue;
                }
                let (stream, batch, written) = model.sent[pick % model.sent.len()].clone();
                let result = store.append(&sid(stream), ExpectedVersion::Any, batch.clone()).await;
                match written {
                    Some(positions) => {
                        let outcome = result.unwrap_or_else(|e| panic!("retry refused: {e}"));
                        assert!(outcome.deduplicated);
                        assert_eq!(outcome.positions, positions);
                    }
                    None => {
                        // Never written before: this time it is new.
                        let outcome = result.unwrap_or_else(|e| panic!("append refused: {e}"));
                        let positions = model.record(stream, &batch);
                        assert_eq!(outcome.positions, positions);
                        if let Some(entry) = model.sent.iter_mut().find(|(_, b, _)| b[0].id == batch[0].id) {
                            entry.2 = Some(positions);
                        }
                    }
                }
            }
            Op::Concurrent { streams } => {
                let tasks: Vec<_> = streams
                    .iter()
                    .map(|&s| {
                        let batch = model.batch(1 + s % 2);
                        let store = store.clone();
                        let handle = tokio::spawn({
                            let batch = batch.clone();
                            async move { store.append(&sid(s), ExpectedVersion::Any, batch).await }
                        });
                        (s, batch, handle)
                    })
                    .collect();
                let mut results = Vec::new();
                for (s, batch, handle) in tasks {
                    let outcome = handle
                        .await
                        .unwrap_or_else(|e| panic!("task: {e}"))
                        .unwrap_or_else(|e| panic!("concurrent append: {e}"));
                    results.push((outcome, s, batch));
                }
                // Commit order is position order: replay the model in it.
                results.sort_by_key(|(o, _, _)| o.positions[0]);
                for (outcome, s, batch) in results {
                    let positions = model.record(s, &batch);
                    assert_eq!(outcome.positions, positions, "dense positions in commit order");
                    model.sent.push((s, batch, Some(positions)));
                }
            }
            Op::ReadStream { stream, from } => {
                let got: Vec<Stored> = store
                    .read_stream(&sid(stream), from, 1000)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .iter()
                    .map(Stored::of)
                    .collect();
                let name = stream_name(stream);
                let want: Vec<Stored> = model
                    .log
                    .iter()
                    .filter(|e| e.stream == name && e.version >= from)
                    .cloned()
                    .collect();
                assert_eq!(got, want);
            }
            Op::ReadAll { from } => {
                let got: Vec<Stored> = store
                    .read_all(from)
                    .map(|e| e.map(|e| Stored::of(&e)))
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|e| panic!("{e}"));
                let want = model.log.get(from as usize..).unwrap_or(&[]).to_vec();
                assert_eq!(got, want);
            }
            Op::Subscribe { from } => {
                let mut sub = Subscription::new(store.clone(), from);
                let mut got = Vec::new();
                while (from as usize + got.len()) < model.log.len() {
                    let next = tokio::time::timeout(Duration::from_secs(10), sub.next())
                        .await
                        .unwrap_or_else(|_| panic!("subscription stalled"))
                        .unwrap_or_else(|| panic!("subscription ended"))
                        .unwrap_or_else(|e| panic!("{e}"));
                    got.push(Stored::of(&next));
                }
                assert_eq!(got, model.log.get(from as usize..).unwrap_or(&[]).to_vec());
                // Nothing beyond the head: no duplicate, no phantom.
                assert!(tokio::time::timeout(Duration::from_millis(5), sub.next())
                    .await
                    .is_err());
            }
            Op::Restart => {
                store.close().unwrap_or_else(|e| panic!("close: {e}"));
                drop(store);
                store = open(dir.path());
            }
        }
        check_against_model(&store, &model);
    }
    let report = store.verify().unwrap_or_else(|e| panic!("verify: {e}"));
    assert_eq!(report.events, model.log.len() as u64);
    store.close().unwrap_or_else(|e| panic!("close: {e}"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_the_model(ops in prop::collection::vec(op_strategy(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        runtime.block_on(run(ops));
    }
}
