//! The stored event format, shared by everything that writes domain events
//! to the log or reads them back (the application's commands, the views,
//! the simulator, the operator's tools).
//!
//! - [`wire`]: one stream per record, the event's stored name as the log's
//!   type, the [`domain::decider::Stamped`] event as the payload (the
//!   frozen codec and its schema versions), the audit facts in the log's
//!   metadata.
//! - [`sealing`]: personal data sealed under a key per data subject
//!   ([`keyring::Keyring`]) before an event is appended, opened when it is
//!   read to be shown or decided on.
//!
//! Every stored event type, at every schema version still read, is pinned
//! by committed bytes in `tests/fixtures/events/` (`tests/stored_format/`).

mod schema1;
pub mod sealing;
pub mod wire;
