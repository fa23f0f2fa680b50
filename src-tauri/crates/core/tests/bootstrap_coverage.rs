//! The statistical check of bootstrap intervals: journeys drawn from a Markov chain whose
//! transition probabilities are known, so its true removal-effect weights (and true Shapley
//! weights) are known; over 100 seeded trials the 90% intervals must contain the true weight
//! about 90% of the time. Every seed is fixed, so the test is deterministic: it fails only if
//! the method changes, and its tolerance (80–97%) is wide enough for any sound method.

use lookback_core::attribution::{Model, TrainingPath, learn_weights};
use lookback_core::bootstrap::{BootstrapSettings, PathTable, Rng, bootstrap_weights};

const CHANNELS: usize = 3;
const CONVERSION: usize = CHANNELS;
const NULL: usize = CHANNELS + 1;

/// Rows: start, A, B, C; columns: A, B, C, conversion, null. Acyclic (A → B → C), so every
/// path is an increasing run of channels and the paths can be enumerated.
const TRANSITIONS: [[f64; 5]; 4] = [
    [0.5, 0.3, 0.2, 0.0, 0.0],
    [0.0, 0.3, 0.1, 0.15, 0.45],
    [0.0, 0.0, 0.25, 0.2, 0.55],
    [0.0, 0.0, 0.0, 0.3, 0.7],
];

/// Every path from start with its probability of converting and of not converting.
fn exact_paths() -> Vec<(Vec<u32>, f64, f64)> {
    fn walk(state: usize, prob: f64, path: &mut Vec<u32>, out: &mut Vec<(Vec<u32>, f64, f64)>) {
        let row = TRANSITIONS[state];
        if state > 0 {
            out.push((path.clone(), prob * row[CONVERSION], prob * row[NULL]));
        }
        for (next, &p) in row.iter().enumerate().take(CHANNELS) {
            if p > 0.0 {
                path.push(next as u32);
                walk(next + 1, prob * p, path, out);
                path.pop();
            }
        }
    }
    let mut out = Vec::new();
    walk(0, 1.0, &mut Vec::new(), &mut out);
    out
}

/// The true weights: the model learned from the chain's expected path counts (probabilities
/// scaled by 1e12), which give exactly the chain's transition probabilities.
fn true_weights(model: Model) -> Vec<f64> {
    let paths = exact_paths();
    let scaled: Vec<TrainingPath<'_>> = paths
        .iter()
        .map(|(channels, conv, null)| TrainingPath {
            channels,
            conversions: (conv * 1e12).round() as u64,
            non_conversions: (null * 1e12).round() as u64,
        })
        .collect();
    learn_weights(model, &scaled).unwrap().weight_by_channel()
}

/// `journeys` journeys walked through the chain.
fn draw_journeys(journeys: usize, rng: &mut Rng) -> Vec<(Vec<u32>, bool)> {
    (0..journeys)
        .map(|_| {
            let mut state = 0;
            let mut path = Vec::new();
            loop {
                let u = rng.unit();
                let mut acc = 0.0;
                let mut next = NULL;
                for (to, &p) in TRANSITIONS[state].iter().enumerate() {
                    acc += p;
                    if u < acc {
                        next = to;
                        break;
                    }
                }
                match next {
                    CONVERSION => return (path, true),
                    NULL => return (path, false),
                    channel => {
                        path.push(channel as u32);
                        state = channel + 1;
                    }
                }
            }
        })
        .filter(|(path, _)| !path.is_empty())
        .collect()
}

fn coverage(model: Model) -> f64 {
    let truth = true_weights(model);
    let settings = BootstrapSettings::default();
    let trials = 100;
    let mut covered = 0;
    let mut cases = 0;
    for trial in 0..trials {
        let journeys = draw_journeys(3000, &mut Rng::new(1000 + trial));
        let paths: Vec<TrainingPath<'_>> = journeys
            .iter()
            .map(|(channels, converted)| TrainingPath {
                channels,
                conversions: u64::from(*converted),
                non_conversions: u64::from(!*converted),
            })
            .collect();
        let table = PathTable::new(model, &paths).unwrap();
        let settings = BootstrapSettings {
            seed: 77 + trial,
            ..settings
        };
        let boot = bootstrap_weights(model, &table, &settings, 2).unwrap();
        for interval in &boot.intervals {
            cases += 1;
            let t = truth[interval.channel as usize];
            if interval.low <= t && t <= interval.high {
                covered += 1;
            }
        }
    }
    assert_eq!(cases, trials as usize * CHANNELS);
    let rate = covered as f64 / cases as f64;
    eprintln!("{model}: {covered} of {cases} intervals contain the true weight ({rate})");
    rate
}

#[test]
fn markov_90_percent_intervals_contain_the_true_weight_about_90_percent_of_the_time() {
    let truth = true_weights(Model::Markov);
    assert!((truth.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{truth:?}");
    let rate = coverage(Model::Markov);
    assert!((0.80..=0.97).contains(&rate), "coverage {rate}");
}

#[test]
fn shapley_90_percent_intervals_contain_the_true_weight_about_90_percent_of_the_time() {
    let rate = coverage(Model::Shapley);
    assert!((0.80..=0.97).contains(&rate), "coverage {rate}");
}
