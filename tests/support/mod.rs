//! What the end-to-end modules share: the real server on an ephemeral port
//! over a data folder and stopping it so that the folder can be opened
//! again ([`server`]), HTTP and GraphQL calls ([`http`]), the cast and moves of
//! the ticket lifecycles ([`tickets`]), the tests' time
//! ([`time`]), records the tests' reports name ([`seed`]), and waiting for
//! the views ([`wait`]).

pub mod http;
pub mod seed;
pub mod server;
pub mod tickets;
pub mod time;
pub mod wait;

pub use http::*;
pub use seed::*;
pub use server::*;
pub use time::*;
pub use wait::*;
