//! Interleaved timing of two calls, for ratios and differences that hold on a machine
//! whose speed drifts while a benchmark runs (a shared VM: other tenants, frequency).
//!
//! Criterion times one function after another, seconds apart, so a ratio of two of its
//! medians also measures how the machine changed in between. Here each round times a
//! chunk of one call and then a chunk of the other (in alternating order from round to
//! round), and the figures reported are the medians and quartiles, over the rounds, of
//! each round's own ratio and difference.

use std::time::Instant;

/// One side of a pair: a chunk of calls of `call`, then `between` (untimed: a drain, a
/// flush). Generic, so the call is inlined into the timing loop as in `Bencher::iter`.
pub struct Side<C, B> {
    pub call: C,
    pub between: B,
}

impl<C: FnMut(), B: FnMut()> Side<C, B> {
    pub fn new(call: C, between: B) -> Self {
        Side { call, between }
    }

    /// Nanoseconds per call over a chunk of `calls`.
    fn time(&mut self, calls: u64) -> f64 {
        let start = Instant::now();
        for _ in 0..calls {
            (self.call)();
        }
        let elapsed = start.elapsed();
        (self.between)();
        elapsed.as_nanos() as f64 / calls as f64
    }
}

/// A no-op for [`Side::between`].
pub fn nothing() {}

/// Takes a call's result (computed: it went through `black_box`) and drops it.
pub fn consume<T>(_value: T) {}

/// Per-round figures of a pair `b` against its baseline `a`.
pub struct Paired {
    pub a: Vec<f64>,
    pub b: Vec<f64>,
}

/// Times `rounds` rounds of `calls` calls of each side; the first two rounds (one of
/// each order) are a warm-up and are not kept.
pub fn pair<CA: FnMut(), BA: FnMut(), CB: FnMut(), BB: FnMut()>(
    rounds: usize,
    calls: u64,
    mut a: Side<CA, BA>,
    mut b: Side<CB, BB>,
) -> Paired {
    let mut paired = Paired {
        a: Vec::with_capacity(rounds),
        b: Vec::with_capacity(rounds),
    };
    for round in 0..rounds + 2 {
        let (time_a, time_b) = if round % 2 == 0 {
            let time_a = a.time(calls);
            (time_a, b.time(calls))
        } else {
            let time_b = b.time(calls);
            (a.time(calls), time_b)
        };
        if round >= 2 {
            paired.a.push(time_a);
            paired.b.push(time_b);
        }
    }
    paired
}

/// The median and the quartiles of `values`.
fn quartiles(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

impl Paired {
    /// Prints one line: both medians, and the median (quartiles) of `b / a` and `b − a`.
    pub fn report(&self, group: &str, a: &str, b: &str) {
        let ratios: Vec<f64> = self.a.iter().zip(&self.b).map(|(a, b)| b / a).collect();
        let differences: Vec<f64> = self.a.iter().zip(&self.b).map(|(a, b)| b - a).collect();
        let (_, median_a, _) = quartiles(&self.a);
        let (_, median_b, _) = quartiles(&self.b);
        let (r1, r2, r3) = quartiles(&ratios);
        let (d1, d2, d3) = quartiles(&differences);
        println!(
            "paired {group}: {b} / {a} = {r2:.3}x (quartiles {r1:.3}-{r3:.3}); \
             {b} - {a} = {d2:+.2} ns ({d1:+.2} to {d3:+.2}); medians {median_a:.2} and \
             {median_b:.2} ns per call; {} rounds",
            ratios.len()
        );
    }
}
