//! Behaviour of the sled event log through its public interface: one test
//! target, one module per concern.

mod appends;
mod atomic;
mod damage;
mod reads;
mod recovery;
mod repair;
mod support;
mod verify;
