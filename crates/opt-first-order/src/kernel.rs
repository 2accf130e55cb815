//! The fused pass every element-wise method runs: parameters, gradient and
//! the method's state read once and written once, split over threads above
//! a size threshold, with no allocation.
//!
//! A method's state is one buffer per parameter array holding `K` values per
//! element, interleaved (`[m_0, v_0, m_1, v_1, ...]` for Adam), so one
//! driver serves every method and the pass streams three arrays whatever `K`.
//!
//! A step over several arrays runs one parallel region for all of them
//! ([`Optimizer::step_slices`](crate::Optimizer::step_slices) splits their
//! concatenation into [`split_plan`] pieces). Inside such a region
//! ([`in_parallel_region`]) every pass and reduction of this module runs on
//! the calling thread, so a method's `update` on one piece never spawns.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use opt_core::{Scalar, all_finite};

/// Below this many elements a step runs on the calling thread: spawning
/// costs about as much as updating this many elements.
pub const PARALLEL_THRESHOLD: usize = 1 << 17;

/// Piece boundaries are multiples of this many elements (a cache line of f64
/// is 8 elements; 64 keeps f32 and f64 pieces line-aligned).
const ALIGN: usize = 64;

fn worker_count() -> usize {
    static WORKERS: OnceLock<usize> = OnceLock::new();
    *WORKERS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

thread_local! {
    /// Set while this thread runs its piece of a parallel region.
    static IN_REGION: Cell<bool> = const { Cell::new(false) };
}

/// Run `work` as one thread's piece of a parallel region: the passes and
/// reductions it calls run on this thread instead of spawning.
pub fn in_parallel_region<R>(work: impl FnOnce() -> R) -> R {
    /// Restores the flag even if `work` panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_REGION.with(|flag| flag.set(self.0));
        }
    }
    let _restore = Restore(IN_REGION.with(|flag| flag.replace(true)));
    work()
}

/// How many pieces to split `n` elements into.
fn pieces(n: usize) -> usize {
    if n < PARALLEL_THRESHOLD || IN_REGION.with(Cell::get) {
        1
    } else {
        worker_count().min(n / (PARALLEL_THRESHOLD / 2)).max(1)
    }
}

/// `(pieces, piece length)` for `n` elements: every piece but the last
/// holds `piece length` elements (a multiple of 64), the last the rest;
/// `(1, n)` below [`PARALLEL_THRESHOLD`] or inside a parallel region. Every
/// split in this crate, of one array or of several arrays' concatenation,
/// uses this plan.
pub fn split_plan(n: usize) -> (usize, usize) {
    let count = pieces(n);
    if count == 1 {
        (1, n)
    } else {
        (count, n.div_ceil(count).div_ceil(ALIGN) * ALIGN)
    }
}

/// Run `kernel(params, grads, state)` over the whole arrays in one pass,
/// split into contiguous pieces on scoped threads for large arrays.
/// `state.len()` must be `K * params.len()` (callers check).
pub fn fused_pass<T, const K: usize, F>(params: &mut [T], grads: &[T], state: &mut [T], kernel: F)
where
    T: Scalar,
    F: Fn(&mut [T], &[T], &mut [T]) + Sync,
{
    fused_reduce::<T, K, (), _, _>(params, grads, state, (), kernel, |(), ()| ());
}

/// [`fused_pass`] for a kernel that also reduces: each piece's
/// `kernel(params, grads, state)` returns a partial result (e.g. sums of
/// squares), and the partial results are folded with `combine`, starting
/// from `identity`, in piece order (so the result is deterministic for a
/// given length and thread count). LAMB uses it to update its moments and
/// accumulate `||r||^2` and `||w||^2` in the same pass.
pub fn fused_reduce<T, const K: usize, R, F, C>(
    params: &mut [T],
    grads: &[T],
    state: &mut [T],
    identity: R,
    kernel: F,
    combine: C,
) -> R
where
    T: Scalar,
    R: Send,
    F: Fn(&mut [T], &[T], &mut [T]) -> R + Sync,
    C: Fn(R, R) -> R,
{
    debug_assert_eq!(params.len(), grads.len());
    debug_assert_eq!(state.len(), K * params.len());
    let (count, piece) = split_plan(params.len());
    if count == 1 {
        return combine(identity, kernel(params, grads, state));
    }
    std::thread::scope(|scope| {
        let kernel = &kernel;
        let mut handles = Vec::with_capacity(count);
        let mut rest = (params, grads, state);
        let mut last = None;
        while !rest.0.is_empty() {
            let take = piece.min(rest.0.len());
            let (p, p_rest) = rest.0.split_at_mut(take);
            let (g, g_rest) = rest.1.split_at(take);
            let (s, s_rest) = rest.2.split_at_mut(K * take);
            rest = (p_rest, g_rest, s_rest);
            if rest.0.is_empty() {
                last = Some(kernel(p, g, s));
            } else {
                handles.push(scope.spawn(move || in_parallel_region(|| kernel(p, g, s))));
            }
        }
        let spawned = handles.into_iter().fold(identity, |acc, handle| {
            // A panic inside `kernel` is a bug in this crate, not user input.
            combine(
                acc,
                handle
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            )
        });
        match last {
            Some(result) => combine(spawned, result),
            None => spawned,
        }
    })
}

/// `target.copy_from_slice(source)` split over threads exactly as
/// [`fused_pass`] splits a step: the reference a step's time is compared with.
pub fn parallel_copy<T: Scalar>(target: &mut [T], source: &[T]) {
    fused_pass::<T, 0, _>(target, source, &mut [], |t, s, _| t.copy_from_slice(s));
}

/// A reduction over pieces of a slice on scoped threads (large slices) or
/// inline: `combine` folds the per-piece results of `map`.
pub fn parallel_reduce<T, R, M, C>(values: &[T], identity: R, map: M, combine: C) -> R
where
    T: Sync,
    R: Send,
    M: Fn(&[T]) -> R + Sync,
    C: Fn(R, R) -> R,
{
    let (count, piece) = split_plan(values.len());
    if count == 1 {
        return combine(identity, map(values));
    }
    std::thread::scope(|scope| {
        let map = &map;
        let handles: Vec<_> = values
            .chunks(piece)
            .map(|chunk| scope.spawn(move || in_parallel_region(|| map(chunk))))
            .collect();
        handles.into_iter().fold(identity, |acc, handle| {
            // A panic inside `map` is a bug in this crate, not user input.
            combine(
                acc,
                handle
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            )
        })
    })
}

/// `true` when every gradient value is finite (checked in parallel for
/// large arrays).
pub fn gradient_is_finite<T: Scalar>(grads: &[T]) -> bool {
    parallel_reduce(grads, true, all_finite, |a, b| a && b)
}

/// `true` when every value of every gradient array is finite: one parallel
/// region over the arrays' concatenation (split as [`split_plan`] splits
/// it), without allocating.
pub fn gradients_are_finite<T: Scalar>(grads: &[&[T]]) -> bool {
    let total = grads.iter().map(|g| g.len()).sum();
    let (count, piece) = split_plan(total);
    if count == 1 {
        return grads.iter().all(|g| all_finite(g));
    }
    let finite = AtomicBool::new(true);
    let check = |start: usize| {
        let end = total.min(start + piece);
        if !for_range(grads, start, end, all_finite) {
            finite.store(false, Ordering::Relaxed);
        }
    };
    std::thread::scope(|scope| {
        let check = &check;
        for k in 1..count {
            scope.spawn(move || in_parallel_region(|| check(k * piece)));
        }
        in_parallel_region(|| check(0));
    });
    finite.into_inner()
}

/// `test` on the parts of `slices` that fall in `start..end` of their
/// concatenation, stopping at the first `false`.
fn for_range<T>(slices: &[&[T]], start: usize, end: usize, test: impl Fn(&[T]) -> bool) -> bool {
    let mut offset = 0;
    for slice in slices {
        let (first, last) = (offset, offset + slice.len());
        offset = last;
        if last <= start || first == last {
            continue;
        }
        if first >= end {
            break;
        }
        let part = &slice[start.max(first) - first..end.min(last) - first];
        if !test(part) {
            return false;
        }
    }
    true
}

/// Sum of squares of `values` (parallel for large arrays), in `f64`, with
/// eight independent accumulators so the loop is not bound by the latency of
/// one chain of additions.
pub fn sum_of_squares<T: Scalar>(values: &[T]) -> f64 {
    parallel_reduce(values, 0.0, sum_of_squares_serial, |a, b| a + b)
}

fn sum_of_squares_serial<T: Scalar>(values: &[T]) -> f64 {
    const LANES: usize = 8;
    let mut lanes = [0.0f64; LANES];
    let chunks = values.chunks_exact(LANES);
    let remainder = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            let v = v.to_f64_lossless();
            *lane += v * v;
        }
    }
    let tail: f64 = remainder
        .iter()
        .map(|v| {
            let v = v.to_f64_lossless();
            v * v
        })
        .sum();
    lanes.iter().sum::<f64>() + tail
}

/// `self + weight (end - self)`, computed as `torch.lerp` does so that
/// moving averages round like PyTorch's `exp_avg.lerp_(grad, 1 - beta1)`:
/// `self + w (end - self)` for `|w| < 0.5`, else `end - (end - self)(1 - w)`.
#[inline(always)]
pub fn lerp<T: Scalar>(start: T, end: T, weight: T, weight_is_small: bool) -> T {
    if weight_is_small {
        start + weight * (end - start)
    } else {
        end - (end - start) * (T::one() - weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pass_covers_every_element_once_with_its_state() {
        for n in [
            0,
            1,
            63,
            1000,
            PARALLEL_THRESHOLD + 37,
            3 * PARALLEL_THRESHOLD + 5,
        ] {
            let mut params: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let grads: Vec<f64> = (0..n).map(|i| 2.0 * i as f64).collect();
            let mut state = vec![0.0f64; 2 * n];
            fused_pass::<f64, 2, _>(&mut params, &grads, &mut state, |p, g, s| {
                for ((p, &g), s) in p.iter_mut().zip(g).zip(s.chunks_exact_mut(2)) {
                    s[0] += *p;
                    s[1] += g;
                    *p += 1.0;
                }
            });
            for i in 0..n {
                assert_eq!(params[i], i as f64 + 1.0);
                assert_eq!(state[2 * i], i as f64);
                assert_eq!(state[2 * i + 1], 2.0 * i as f64);
            }
        }
    }

    #[test]
    fn the_reducing_pass_sums_every_piece_once() {
        for n in [
            0,
            1,
            1000,
            PARALLEL_THRESHOLD + 37,
            3 * PARALLEL_THRESHOLD + 5,
        ] {
            let mut params: Vec<f64> = (0..n).map(|i| (i % 5) as f64).collect();
            let grads = vec![1.0f64; n];
            let mut state = vec![0.0f64; n];
            let (count, squares) = fused_reduce::<f64, 1, _, _, _>(
                &mut params,
                &grads,
                &mut state,
                (0usize, 0.0f64),
                |p, g, s| {
                    let mut squares = 0.0;
                    for ((p, &g), s) in p.iter_mut().zip(g).zip(s.iter_mut()) {
                        squares += *p * *p;
                        *s = *p;
                        *p += g;
                    }
                    (p.len(), squares)
                },
                |a, b| (a.0 + b.0, a.1 + b.1),
            );
            assert_eq!(count, n);
            let expected: f64 = (0..n).map(|i| ((i % 5) * (i % 5)) as f64).sum();
            assert_eq!(squares, expected);
            for i in 0..n {
                assert_eq!(state[i], (i % 5) as f64);
                assert_eq!(params[i], (i % 5) as f64 + 1.0);
            }
        }
    }

    #[test]
    fn reductions_match_a_serial_loop() {
        let n = 3 * PARALLEL_THRESHOLD + 11;
        let values: Vec<f32> = (0..n).map(|i| (i % 7) as f32 - 3.0).collect();
        let expected: f64 = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        assert_eq!(sum_of_squares(&values), expected);
        assert!(gradient_is_finite(&values));
        let mut bad = values.clone();
        bad[n - 1] = f32::INFINITY;
        assert!(!gradient_is_finite(&bad));
    }

    #[test]
    fn lerp_follows_torch_in_both_branches() {
        assert_eq!(lerp(1.0, 3.0, 0.25, true), 1.5);
        assert_eq!(lerp(1.0, 3.0, 0.75, false), 2.5);
    }
}
