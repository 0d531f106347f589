//! What every platform's fake server shares (behind the `fake` feature): the loopback server
//! ([`FakeServer`]), one fault model ([`Fault`], queued per operation in [`Faults`]), and the
//! poison-tolerant state every fake's responders share ([`Shared`]), and one redacting view of
//! a received request for snapshot tests ([`Describe`]).
//!
//! Each platform's fake keeps its platform logic (what it stores, how it signs, which codes it
//! answers) and offers the same fault call, `fail_next(op, fault, times)`, where `op` is the
//! platform's operation type and `fault` one of these:
//!
//! ```
//! use conn_core::fake::{Fault, Faults};
//! use std::time::Duration;
//!
//! #[derive(Debug, Clone, PartialEq, Eq)]
//! enum Op { Publish, Stats }
//! impl conn_core::fake::FaultTarget for Op {}
//!
//! let mut faults = Faults::default();
//! faults.push(Op::Publish, Fault::Status(503), 2);
//! faults.push(Op::Publish, Fault::Delay(Duration::from_millis(50)), 1);
//! assert_eq!(faults.take(&Op::Stats), None);
//! assert_eq!(faults.take(&Op::Publish), Some(Fault::Status(503)));
//! assert_eq!(faults.take(&Op::Publish), Some(Fault::Status(503)));
//! assert!(faults.take(&Op::Publish).is_some_and(|f| f.is_processed()));
//! assert!(faults.is_empty());
//! ```

mod answer;
mod describe;
mod fault;
mod server;
mod state;

pub use answer::envelope_answer;
pub use describe::{Describe, SECRET, VARIES};
pub use fault::{Fault, FaultTarget, Faults};
pub use server::FakeServer;
pub use state::Shared;
