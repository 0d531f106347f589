//! One fault model for every fake: what can go wrong with a request, and the queue of faults
//! waiting for the next requests of each operation.

use std::fmt::Debug;
use std::time::Duration;

/// What the next request of an operation meets instead of (or on top of) a normal answer.
///
/// Each fake answers every fault the way its platform would: a `Busy` is 2100004 on Douyin,
/// -5002 on iFinD, the configured busy code (else HTTP 503) on an ERP. Faults that say **not
/// processed** leave the fake's state as it was; the others do the work first, so a client
/// that gives up cannot know whether it happened: the case exactly-once creates exist for.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This HTTP status; not processed. The body is what the platform's servers send with it:
    /// its envelope where it has one, else a gateway's non-JSON page.
    Status(u16),
    /// This platform code in the platform's envelope, with this message (empty: the fake's
    /// own text); not processed.
    Code(i64, String),
    /// "Busy, try again": the platform's busy code; not processed.
    Busy,
    /// "Too many requests": the platform's rate-limit code (or HTTP 429); not processed.
    RateLimited,
    /// "Access token expired": the platform's code for it (or HTTP 401); not processed.
    TokenExpired,
    /// Processed normally, answered this much later (a client timing out first cannot know).
    Delay(Duration),
    /// Processed, then a complete HTTP 200 response holding half of the body.
    Cut,
    /// The connection is closed without an answer; not processed.
    Drop,
}

impl Fault {
    /// A platform code with the fake's own message.
    pub fn code(code: i64) -> Self {
        Self::Code(code, String::new())
    }

    /// True when the fake does the work before answering (`Delay`, `Cut`).
    pub fn is_processed(&self) -> bool {
        matches!(self, Self::Delay(_) | Self::Cut)
    }
}

/// An operation a fault can be queued for. By default a queued target covers exactly the
/// equal operation; a fake with a "any operation" target says which operations it covers.
pub trait FaultTarget: Clone + Eq + Debug {
    /// True when a fault queued for `self` applies to a request of `op`.
    fn covers(&self, op: &Self) -> bool {
        self == op
    }
}

impl FaultTarget for String {}
impl FaultTarget for &'static str {}

#[derive(Debug, Clone)]
struct Queued<Op> {
    target: Op,
    fault: Fault,
    remaining: usize,
}

/// The faults waiting for the next requests, in the order they were queued.
#[derive(Debug, Clone)]
pub struct Faults<Op> {
    queue: Vec<Queued<Op>>,
}

impl<Op> Default for Faults<Op> {
    fn default() -> Self {
        Self { queue: Vec::new() }
    }
}

impl<Op: FaultTarget> Faults<Op> {
    /// Queues `fault` for the next `times` requests of `target` (`times == 0` queues nothing).
    pub fn push(&mut self, target: Op, fault: Fault, times: usize) {
        if times > 0 {
            self.queue.push(Queued {
                target,
                fault,
                remaining: times,
            });
        }
    }

    /// The fault the next request of `op` meets, taken off the queue.
    pub fn take(&mut self, op: &Op) -> Option<Fault> {
        self.take_if(op, |_| true)
    }

    /// The first queued fault for `op` that `pred` accepts, taken off the queue; the others
    /// stay. A fake that applies a delay and an error to the same request takes each kind
    /// separately.
    pub fn take_if(&mut self, op: &Op, pred: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let at = self
            .queue
            .iter()
            .position(|q| q.target.covers(op) && pred(&q.fault))?;
        let q = &mut self.queue[at];
        q.remaining -= 1;
        let fault = q.fault.clone();
        if q.remaining == 0 {
            self.queue.remove(at);
        }
        Some(fault)
    }

    /// The fault the next request of `op` would meet, left on the queue.
    pub fn peek(&self, op: &Op) -> Option<&Fault> {
        self.queue
            .iter()
            .find(|q| q.target.covers(op))
            .map(|q| &q.fault)
    }

    /// Forgets every queued fault.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// True when no fault is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Op {
        Any,
        A,
        B,
    }

    impl FaultTarget for Op {
        fn covers(&self, op: &Self) -> bool {
            self == op || *self == Op::Any
        }
    }

    #[test]
    fn faults_are_taken_in_order_per_operation() {
        let mut f = Faults::default();
        f.push(Op::A, Fault::Busy, 1);
        f.push(Op::B, Fault::Drop, 1);
        f.push(Op::A, Fault::code(-1302), 2);
        f.push(Op::A, Fault::Cut, 0);
        assert_eq!(f.peek(&Op::B), Some(&Fault::Drop));
        assert_eq!(f.take(&Op::A), Some(Fault::Busy));
        assert_eq!(f.take(&Op::A), Some(Fault::code(-1302)));
        assert_eq!(f.take(&Op::B), Some(Fault::Drop));
        assert_eq!(f.take(&Op::A), Some(Fault::code(-1302)));
        assert_eq!(f.take(&Op::A), None);
        assert!(f.is_empty());
    }

    #[test]
    fn a_delay_and_an_error_can_meet_one_request() {
        let mut f = Faults::default();
        f.push(Op::A, Fault::Delay(Duration::from_millis(5)), 1);
        f.push(Op::A, Fault::Status(502), 1);
        let delay = f.take_if(&Op::A, |f| matches!(f, Fault::Delay(_)));
        let error = f.take_if(&Op::A, |f| !matches!(f, Fault::Delay(_)));
        assert_eq!(delay, Some(Fault::Delay(Duration::from_millis(5))));
        assert_eq!(error, Some(Fault::Status(502)));
    }

    #[test]
    fn a_wide_target_covers_what_it_says() {
        let mut f = Faults::default();
        f.push(Op::Any, Fault::RateLimited, 2);
        assert_eq!(f.take(&Op::B), Some(Fault::RateLimited));
        assert_eq!(f.peek(&Op::A), Some(&Fault::RateLimited));
        f.clear();
        assert_eq!(f.take(&Op::A), None);
        assert!(!Fault::Drop.is_processed() && Fault::Cut.is_processed());
    }
}
