//! LARS, LAMB, ISTA and FISTA through the container: a non-finite gradient
//! touches nothing, a saved and restored run continues bit-identically, and
//! each method converges on a small problem.

use opt_core::state::{restore_state_from_json, state_to_json};
use opt_core::{OptError, SaveState, Scalar};
use opt_first_order::{Fista, Ista, Lamb, Lars, Method, Optimizer, ParamGroup};

/// Two layers of a smooth, non-quadratic function:
/// `f = sum_i (cosh(a_i - c_i) + 0.5 (b_i - 1)^2)` with `c_i = 0.1 i`.
fn gradient<T: Scalar>(layers: &[Vec<T>]) -> Vec<Vec<T>> {
    let a = layers[0]
        .iter()
        .enumerate()
        .map(|(i, &x)| (x - T::of(0.1 * i as f64)).sinh())
        .collect();
    let b = layers[1].iter().map(|&x| x - T::one()).collect();
    vec![a, b]
}

fn start<T: Scalar>() -> Vec<Vec<T>> {
    vec![
        (0..5).map(|i| T::of(0.5 - 0.3 * i as f64)).collect(),
        (0..3).map(|i| T::of(2.0 + i as f64)).collect(),
    ]
}

fn two_layers<M: Method, T: Scalar>(config: M) -> Optimizer<M, T> {
    Optimizer::with_groups(vec![ParamGroup { config, arrays: 2 }]).unwrap()
}

fn steps<M: Method, T: Scalar>(
    optimizer: &mut Optimizer<M, T>,
    layers: &mut [Vec<T>],
    count: usize,
) {
    for _ in 0..count {
        let grads = gradient(layers);
        let mut params: Vec<&mut [T]> = layers.iter_mut().map(|l| l.as_mut_slice()).collect();
        let grads: Vec<&[T]> = grads.iter().map(|g| g.as_slice()).collect();
        optimizer.step_slices(&mut params, &grads).unwrap();
    }
}

/// 10 steps in one go equal 4 steps, a JSON round trip of the state into a
/// fresh optimizer, and 6 more, bit for bit.
fn resume_is_bit_identical<M: Method, T: Scalar>(config: M) {
    let mut whole = two_layers::<M, T>(config.clone());
    let mut expected = start::<T>();
    steps(&mut whole, &mut expected, 10);

    let mut first = two_layers::<M, T>(config.clone());
    let mut layers = start::<T>();
    steps(&mut first, &mut layers, 4);
    let json = state_to_json(&first).unwrap();
    drop(first);
    // A fresh optimizer with other hyperparameters: the state carries them.
    let mut resumed = two_layers::<M, T>(config.clone());
    resumed.set_group_lr(0, 0.123).unwrap();
    restore_state_from_json(&mut resumed, &json).unwrap();
    assert_eq!(resumed.groups()[0].config, config);
    steps(&mut resumed, &mut layers, 6);

    for (got, want) in layers.iter().zip(&expected) {
        for (g, w) in got.iter().zip(want) {
            assert_eq!(
                g.to_bits_f64(),
                w.to_bits_f64(),
                "{}: {got:?} vs {want:?}",
                M::NAME
            );
        }
    }
    assert_eq!(resumed.save_state(), whole.save_state(), "{}", M::NAME);
}

trait Bits {
    fn to_bits_f64(self) -> u64;
}
impl<T: Scalar> Bits for T {
    fn to_bits_f64(self) -> u64 {
        self.to_f64_lossless().to_bits()
    }
}

#[test]
fn resumed_runs_are_bit_identical() {
    let lars = Lars {
        lr: 0.5,
        weight_decay: 1e-2,
        eps: 1e-9,
        ..Lars::default()
    };
    resume_is_bit_identical::<_, f64>(lars.clone());
    resume_is_bit_identical::<_, f32>(lars);
    resume_is_bit_identical::<_, f64>(Lars {
        momentum: 0.0,
        ..Lars::default()
    });
    let lamb = Lamb {
        lr: 0.05,
        weight_decay: 1e-2,
        ..Lamb::default()
    };
    resume_is_bit_identical::<_, f64>(lamb.clone());
    resume_is_bit_identical::<_, f32>(lamb);
    resume_is_bit_identical::<_, f64>(Lamb {
        bias_correction: false,
        ..Lamb::default()
    });
    resume_is_bit_identical::<_, f64>(Ista { lr: 0.3, l1: 0.2 });
    resume_is_bit_identical::<_, f64>(Fista { lr: 0.3, l1: 0.2 });
    resume_is_bit_identical::<_, f32>(Fista { lr: 0.3, l1: 0.2 });
}

/// A NaN (or infinite) gradient in either layer is refused before any
/// layer moves, and the state is left as it was.
fn non_finite_gradients_touch_nothing<M: Method>(config: M) {
    let mut optimizer = two_layers::<M, f64>(config);
    let mut layers = start::<f64>();
    steps(&mut optimizer, &mut layers, 2);
    let before_layers = layers.clone();
    let before_state = optimizer.save_state();
    for bad in [f64::NAN, f64::INFINITY] {
        let mut grads = gradient(&layers);
        grads[1][2] = bad;
        let mut params: Vec<&mut [f64]> = layers.iter_mut().map(|l| l.as_mut_slice()).collect();
        let grads: Vec<&[f64]> = grads.iter().map(|g| g.as_slice()).collect();
        let error = optimizer.step_slices(&mut params, &grads).unwrap_err();
        assert!(
            matches!(
                error,
                OptError::NonFinite {
                    what: "gradient",
                    iteration: 2
                }
            ),
            "{}: {error}",
            M::NAME
        );
        assert_eq!(layers, before_layers, "{}", M::NAME);
        assert_eq!(optimizer.save_state(), before_state, "{}", M::NAME);
    }
}

#[test]
fn non_finite_gradients_are_refused() {
    non_finite_gradients_touch_nothing(Lars::default());
    non_finite_gradients_touch_nothing(Lamb::default());
    non_finite_gradients_touch_nothing(Ista { lr: 0.1, l1: 0.1 });
    non_finite_gradients_touch_nothing(Fista { lr: 0.1, l1: 0.1 });
}

/// The minimizer of the two-layer function: `a_i = 0.1 i`, `b = 1`.
fn distance_to_minimizer(layers: &[Vec<f64>]) -> f64 {
    let a = layers[0]
        .iter()
        .enumerate()
        .map(|(i, &x)| (x - 0.1 * i as f64).abs());
    let b = layers[1].iter().map(|&x| (x - 1.0).abs());
    a.chain(b).fold(0.0, f64::max)
}

#[test]
fn every_method_converges_on_the_two_layer_function() {
    fn run<M: Method>(config: M, iterations: usize) -> f64 {
        let mut optimizer = two_layers::<M, f64>(config);
        let mut layers = start::<f64>();
        steps(&mut optimizer, &mut layers, iterations);
        distance_to_minimizer(&layers)
    }
    // LARS and LAMB scale a step to the layer's norm: they settle within a
    // small multiple of lr * trust_coefficient * ||w|| (resp. lr ||w||)
    // unless the learning rate decays, so they get a loose tolerance here.
    assert!(
        run(
            Lars {
                lr: 20.0,
                ..Lars::default()
            },
            2000
        ) < 0.05
    );
    assert!(
        run(
            Lamb {
                lr: 1e-2,
                ..Lamb::default()
            },
            2000
        ) < 0.05
    );
    // Without l1, ISTA and FISTA are gradient descent and accelerated
    // gradient (L = cosh(1.7) ~ 2.8 on the start's box, lr = 0.3).
    assert!(run(Ista { lr: 0.3, l1: 0.0 }, 500) < 1e-10);
    assert!(run(Fista { lr: 0.3, l1: 0.0 }, 500) < 1e-10);
}
