//! The case runner of the moto-backed interop tests (`tests/keystore.rs`,
//! `tests/plugin.rs`), which run without libtest (`harness = false`) so that
//! one moto serves cases that build on one another: one line per case, a
//! panic fails its case rather than the run, groups that cannot run here are
//! a loud skip (a failure under CI), and one summary line at the end.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::moto::Moto;

const BAR: &str = "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!";

thread_local! {
    /// The last panic's message and location, set by the hook
    /// [`run_with_moto`] installs: `catch_unwind` only yields the payload.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The tally of one test run.
pub struct Runner {
    /// `keystore interop`: starts the lines the runner prints.
    name: &'static str,
    passed: usize,
    failed: Vec<String>,
    /// Groups of cases that could not run here, and why (outside CI only).
    skipped: Vec<String>,
}

impl Runner {
    /// Runs one case; a panic is a failure, not an abort.
    pub fn case<T>(&mut self, label: &str, f: impl FnOnce() -> Result<T, String>) -> Option<T> {
        let outcome = match catch_unwind(AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(_) => Err(format!(
                "panicked: {}",
                LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| "(no message)".into())
            )),
        };
        match outcome {
            Ok(v) => {
                self.passed += 1;
                println!("ok    {label}");
                Some(v)
            }
            Err(e) => {
                println!("FAIL  {label}: {e}");
                self.failed.push(label.to_string());
                None
            }
        }
    }

    /// A group of cases that cannot run here (`why`): a loud banner saying
    /// `cases` did NOT run, then under CI the failed case `ci_case`, else the
    /// skipped `group` (listed, not counted, in the summary).
    pub fn cannot_run(&mut self, why: String, cases: &str, ci_case: &str, group: &str) {
        eprintln!("{BAR}");
        eprintln!("!! {}: {why}", self.name);
        eprintln!("!! {cases} did NOT run.");
        eprintln!("{BAR}");
        if ci() {
            self.case(ci_case, || Err::<(), _>(why));
        } else {
            self.skipped.push(format!("{group}: {why}"));
        }
    }
}

/// What the summary line is made from.
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    /// `, N group(s) SKIPPED`, or empty when none was.
    pub skipped: String,
    /// Since the run started (before moto).
    pub elapsed: Duration,
}

/// A case that needs an earlier step's result.
pub fn need<'a, T>(value: &'a Option<T>, what: &str) -> Result<&'a T, String> {
    value
        .as_ref()
        .ok_or_else(|| format!("not run: {what} failed earlier"))
}

pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(message())
    }
}

/// Under CI (env `CI` set, not empty) what cannot run fails instead of skipping.
pub fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// The whole test: starts moto and runs `cases` on it, then prints the
/// failed cases, the skipped groups and `{name}: {summary(tally)}`, and exits
/// 1 if a case failed. Without moto: a loud banner saying `test` did NOT
/// run, exit 1 under CI and 0 otherwise. A panic outside any case exits 101.
pub fn run_with_moto(
    name: &'static str,
    test: &str,
    cases: impl FnOnce(&mut Runner, &Moto),
    summary: impl FnOnce(&Tally) -> String,
) -> ! {
    std::panic::set_hook(Box::new(|info| {
        let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
            s.to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "(non-string panic)".into()
        };
        let loc = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{loc}")));
    }));
    // `run` owns moto: it is stopped (dropped) before the exit, which skips
    // destructors, and while unwinding from a panic outside any case.
    let code = match catch_unwind(AssertUnwindSafe(|| run(name, test, cases, summary))) {
        Ok(code) => code,
        Err(_) => {
            let message = LAST_PANIC.with(|p| p.borrow_mut().take());
            eprintln!(
                "{name}: panicked outside any case: {}",
                message.unwrap_or_else(|| "(no message)".into())
            );
            101
        }
    };
    std::process::exit(code);
}

fn run(
    name: &'static str,
    test: &str,
    cases: impl FnOnce(&mut Runner, &Moto),
    summary: impl FnOnce(&Tally) -> String,
) -> i32 {
    let started = Instant::now();
    let moto = match Moto::start() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{BAR}");
            eprintln!("!! {name}: cannot start moto (tools/moto/launch.py):");
            for line in e.lines() {
                eprintln!("!!   {line}");
            }
            eprintln!("!! {test} did NOT run.");
            eprintln!("!! Install python3-venv (scripts/setup.sh moto) and retry.");
            eprintln!("{BAR}");
            return if ci() { 1 } else { 0 };
        }
    };
    println!("moto at {}", moto.endpoint);
    let mut r = Runner {
        name,
        passed: 0,
        failed: Vec::new(),
        skipped: Vec::new(),
    };
    cases(&mut r, &moto);
    drop(moto);
    println!();
    if !r.failed.is_empty() {
        println!("failed cases:");
        for f in &r.failed {
            println!("  {f}");
        }
    }
    for skipped in &r.skipped {
        println!("SKIPPED (not run, not counted): {skipped}");
    }
    let tally = Tally {
        passed: r.passed,
        failed: r.failed.len(),
        skipped: if r.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} group(s) SKIPPED", r.skipped.len())
        },
        elapsed: started.elapsed(),
    };
    println!("{name}: {}", summary(&tally));
    i32::from(!r.failed.is_empty())
}

/// The runtime for the official SDK, and moto's endpoint for its clients;
/// `None` (a failed setup case) if the runtime cannot start. Multi-threaded:
/// the official SDK drives its AWS calls, and the interceptor its
/// transforms, with `block_in_place` on the current runtime when it is
/// multi-threaded, so its clients' connection pools live on this one runtime
/// (on a current-thread runtime it starts a runtime per call instead).
pub fn sdk_setup(
    r: &mut Runner,
    moto: &Moto,
) -> Option<(tokio::runtime::Runtime, crate::aws_clients::Endpoint)> {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            r.case("setup: tokio runtime", || Err::<(), _>(e.to_string()));
            return None;
        }
    };
    let endpoint = crate::aws_clients::Endpoint {
        url: moto.endpoint.clone(),
        access_key_id: crate::moto::ACCESS_KEY_ID.into(),
        secret_access_key: crate::moto::SECRET_ACCESS_KEY.into(),
    };
    Some((rt, endpoint))
}
