//! Native throughput on the reference item (`tests/fixtures/reference-item.json`),
//! raw AES-256 keyring: fieldseal and the official `aws-db-esdk`, each suite the
//! fixture lists, encrypt and decrypt, single thread, one item per call.
//!
//! Each measurement warms up, then runs for a fixed wall time and reports
//! items/s = calls / elapsed. Prints a JSON array on stdout:
//! `[{"impl":"fieldseal"|"aws-db-esdk","suite":"0x6700","op":"encrypt"|"decrypt","itemsPerSec":N,"iterations":N,"seconds":S}, ...]`;
//! progress goes to stderr. The JS benchmark (`npm run bench`) runs this.
//!
//! ```sh
//! cargo run --release --bin bench_native -- [--seconds 2.5] [--warmup 0.5] [--impl fieldseal|aws-db-esdk] [--suite 0x6700|0x6701]
//! ```
//! `BENCH_SECONDS` sets the default of `--seconds`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use fieldseal_interop::convert::{item_from_ddb, item_to_ddb, DdbItem};
use fieldseal_interop::manifest::items_equal;
use fieldseal_interop::reference::{item_size, reference_keys, reference_suites, reference_table};
use fieldseal_interop::spec::fieldseal_encryptor;
use fieldseal_interop::{block_on, diff_items, expected_plaintext, official, reference_item};
use serde_json::{json, Value};

struct Args {
    seconds: f64,
    warmup: f64,
    only_impl: Option<String>,
    only_suite: Option<String>,
}

fn args() -> Result<Args, String> {
    let env_seconds = std::env::var("BENCH_SECONDS").ok();
    let mut a = Args {
        seconds: match env_seconds {
            Some(s) => s
                .parse()
                .map_err(|_| format!("BENCH_SECONDS={s:?} is not a number"))?,
            None => 2.5,
        },
        warmup: 0.5,
        only_impl: None,
        only_suite: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => a.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--warmup" => a.warmup = value()?.parse().map_err(|e| format!("--warmup: {e}"))?,
            "--impl" => a.only_impl = Some(value()?),
            "--suite" => a.only_suite = Some(value()?.to_ascii_lowercase()),
            "-h" | "--help" => {
                eprintln!("usage: bench_native [--seconds S] [--warmup S] [--impl fieldseal|aws-db-esdk] [--suite 0x6700|0x6701]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !(a.seconds > 0.0 && a.warmup >= 0.0) {
        return Err("--seconds must be > 0 and --warmup >= 0".into());
    }
    Ok(a)
}

/// Warm up for `warmup`, then call `f` until `seconds` of wall time have
/// passed; returns (calls, elapsed).
fn measure(warmup: f64, seconds: f64, mut f: impl FnMut()) -> (u64, Duration) {
    let until = Instant::now() + Duration::from_secs_f64(warmup);
    while Instant::now() < until {
        f();
    }
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n = 0u64;
    loop {
        f();
        n += 1;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return (n, elapsed);
        }
    }
}

fn main() {
    let a = args().unwrap_or_else(|e| {
        eprintln!("bench_native: {e}");
        std::process::exit(2)
    });
    let item = reference_item();
    let ddb_item: DdbItem = item_to_ddb(&item);
    eprintln!(
        "bench_native: reference item, {} attributes, ~{} bytes; {}s per measurement after {}s warm-up",
        item.len(),
        item_size(&item),
        a.seconds,
        a.warmup
    );
    let want = |i: &str| a.only_impl.as_deref().is_none_or(|x| x == i);
    let mut results: Vec<Value> = Vec::new();
    let mut push = |imp: &str, suite: &str, op: &str, (n, d): (u64, Duration)| {
        let ips = n as f64 / d.as_secs_f64();
        eprintln!(
            "  {imp:<12} {suite} {op:<8} {ips:>12.0} items/s ({n} in {:.2}s)",
            d.as_secs_f64()
        );
        results.push(json!({
            "impl": imp, "suite": suite, "op": op,
            "itemsPerSec": ips, "iterations": n, "seconds": d.as_secs_f64(),
        }));
    };

    for suite in reference_suites() {
        let s = format!("0x{:04x}", suite.id());
        if a.only_suite.as_deref().is_some_and(|x| x != s) {
            continue;
        }
        let table = reference_table(suite);
        let keys = reference_keys();
        let expected = expected_plaintext(&table, &item).expect("canonical reference item");

        if want("fieldseal") {
            let enc = fieldseal_encryptor(&table, &keys).expect("fieldseal encryptor");
            let sealed = block_on(enc.encrypt_item(&item)).expect("fieldseal encrypt");
            let back = block_on(enc.decrypt_item(&sealed)).expect("fieldseal decrypt");
            let diff = diff_items(&back, &expected);
            assert!(diff.is_empty(), "fieldseal round trip differs: {diff:?}");
            push(
                "fieldseal",
                &s,
                "encrypt",
                measure(a.warmup, a.seconds, || {
                    black_box(block_on(enc.encrypt_item(black_box(&item))).unwrap());
                }),
            );
            push(
                "fieldseal",
                &s,
                "decrypt",
                measure(a.warmup, a.seconds, || {
                    black_box(block_on(enc.decrypt_item(black_box(&sealed))).unwrap());
                }),
            );
        }

        if want("aws-db-esdk") {
            // Its builder takes ownership: the input is cloned per call (as in benches/seal.rs).
            let client = block_on(official::encryptor(&table, &keys)).expect("official encryptor");
            let sealed = block_on(official::encrypt_ddb(&client, ddb_item.clone()))
                .expect("official encrypt");
            let back =
                block_on(official::decrypt_ddb(&client, sealed.clone())).expect("official decrypt");
            let back = item_from_ddb(&back).expect("official output");
            assert!(
                items_equal(&back, &item),
                "official round trip differs: {:?}",
                diff_items(&back, &item)
            );
            push(
                "aws-db-esdk",
                &s,
                "encrypt",
                measure(a.warmup, a.seconds, || {
                    black_box(
                        block_on(official::encrypt_ddb(&client, black_box(ddb_item.clone())))
                            .unwrap(),
                    );
                }),
            );
            push(
                "aws-db-esdk",
                &s,
                "decrypt",
                measure(a.warmup, a.seconds, || {
                    black_box(
                        block_on(official::decrypt_ddb(&client, black_box(sealed.clone())))
                            .unwrap(),
                    );
                }),
            );
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&Value::Array(results)).expect("JSON")
    );
}
