//! Encrypt/decrypt throughput of fieldseal and the official aws-db-esdk on the
//! reference item (12 attributes, ~1 KB), raw AES-256 keyring, both suites, in
//! the same run. The item, its table configuration, the key and the suites come
//! from `tests/fixtures/reference-item.json` (via `fieldseal_interop::reference`),
//! the file the JS benchmark and `src/bin/bench_native.rs` read too.
//!
//! Criterion measures; at the end a table gives items/s for each from
//! criterion's sample mean (the mean over its measurement samples of time per
//! iteration) and the ratio fieldseal/official.
//!
//! `cargo bench --bench seal` (about a minute on 2 cores). Extra arguments are
//! criterion's (e.g. a name filter).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use criterion::Criterion;
use fieldseal_interop::convert::{item_to_ddb, DdbItem};
use fieldseal_interop::reference::{item_size, reference_keys, reference_suites, reference_table};
use fieldseal_interop::spec::fieldseal_encryptor;
use fieldseal_interop::{block_on, official, reference_item};

const SAMPLE_SIZE: usize = 20;

thread_local! {
    /// Per benchmark id: every (iterations, elapsed) criterion asked for, in order.
    static TIMINGS: RefCell<BTreeMap<String, Vec<(u64, Duration)>>> = const { RefCell::new(BTreeMap::new()) };
}

fn record(id: &str, iters: u64, elapsed: Duration) {
    TIMINGS.with(|t| {
        t.borrow_mut()
            .entry(id.to_string())
            .or_default()
            .push((iters, elapsed))
    });
}

/// Criterion calls the routine once per measurement sample after its warm-up,
/// so the last SAMPLE_SIZE calls are the samples; their mean time per
/// iteration is criterion's sample mean.
fn mean_seconds(id: &str) -> Option<f64> {
    TIMINGS.with(|t| {
        let t = t.borrow();
        let calls = t.get(id)?;
        let samples = &calls[calls.len().saturating_sub(SAMPLE_SIZE)..];
        let per_iter: Vec<f64> = samples
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, d)| d.as_secs_f64() / *n as f64)
            .collect();
        (!per_iter.is_empty()).then(|| per_iter.iter().sum::<f64>() / per_iter.len() as f64)
    })
}

fn timed(id: &str, iters: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let elapsed = start.elapsed();
    record(id, iters, elapsed);
    elapsed
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(SAMPLE_SIZE)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .nresamples(10_000)
        .configure_from_args();

    let item = reference_item();
    let ddb_item: DdbItem = item_to_ddb(&item);
    println!(
        "reference item: {} attributes, ~{} bytes",
        item.len(),
        item_size(&item)
    );
    let mut notes = Vec::new();

    for suite in reference_suites() {
        let table = reference_table(suite);
        let keys = reference_keys();
        let s = format!("0x{:04x}", suite.id());

        // fieldseal: skipped (with a note) while its core is unfinished.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let ready = catch_unwind(AssertUnwindSafe(|| {
            let enc = fieldseal_encryptor(&table, &keys).expect("fieldseal encryptor");
            let sealed = block_on(enc.encrypt_item(&item)).expect("fieldseal encrypt");
            let back = block_on(enc.decrypt_item(&sealed)).expect("fieldseal decrypt");
            assert_eq!(back.len(), item.len());
            (enc, sealed)
        }));
        std::panic::set_hook(hook);
        match ready {
            Ok((enc, sealed)) => {
                let id = format!("fieldseal/encrypt/{s}");
                c.bench_function(&id, |b| {
                    b.iter_custom(|n| {
                        timed(&id, n, || {
                            black_box(block_on(enc.encrypt_item(black_box(&item))).unwrap());
                        })
                    })
                });
                let id = format!("fieldseal/decrypt/{s}");
                c.bench_function(&id, |b| {
                    b.iter_custom(|n| {
                        timed(&id, n, || {
                            black_box(block_on(enc.decrypt_item(black_box(&sealed))).unwrap());
                        })
                    })
                });
            }
            Err(e) => {
                let why = e
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| e.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                notes.push(format!(
                    "fieldseal {s}: not benchmarked (its core panicked: {why})"
                ))
            }
        }

        // The official SDK, on its own item type (the input is cloned per call
        // because its builder takes ownership).
        let client = block_on(official::encryptor(&table, &keys)).expect("official encryptor");
        let sealed =
            block_on(official::encrypt_ddb(&client, ddb_item.clone())).expect("official encrypt");
        let id = format!("official/encrypt/{s}");
        c.bench_function(&id, |b| {
            b.iter_custom(|n| {
                timed(&id, n, || {
                    black_box(
                        block_on(official::encrypt_ddb(&client, black_box(ddb_item.clone())))
                            .unwrap(),
                    );
                })
            })
        });
        let id = format!("official/decrypt/{s}");
        c.bench_function(&id, |b| {
            b.iter_custom(|n| {
                timed(&id, n, || {
                    black_box(
                        block_on(official::decrypt_ddb(&client, black_box(sealed.clone())))
                            .unwrap(),
                    );
                })
            })
        });
    }

    c.final_summary();

    println!();
    println!("items/s (criterion sample mean), reference item, raw AES-256 keyring");
    println!(
        "{:<7} {:<8} {:>16} {:>16} {:>20}",
        "suite", "op", "fieldseal", "aws-db-esdk", "fieldseal/official"
    );
    for suite in reference_suites() {
        let s = format!("0x{:04x}", suite.id());
        for op in ["encrypt", "decrypt"] {
            let f = mean_seconds(&format!("fieldseal/{op}/{s}")).map(|m| 1.0 / m);
            let o = mean_seconds(&format!("official/{op}/{s}")).map(|m| 1.0 / m);
            let fmt = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.0}"));
            let ratio = match (f, o) {
                (Some(f), Some(o)) => format!("{:.2}x", f / o),
                _ => "-".into(),
            };
            println!(
                "{:<7} {:<8} {:>16} {:>16} {:>20}",
                s,
                op,
                fmt(f),
                fmt(o),
                ratio
            );
        }
    }
    for n in notes {
        println!("note: {n}");
    }
}
