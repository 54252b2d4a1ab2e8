//! Runs an `aws-dbesdk-decrypt` manifest through the OFFICIAL aws-db-esdk.
//!
//! Usage: official_decrypt_manifest MANIFEST.json
//!
//! One line per test, then `N passed, M failed` (`, K skipped`) alone on the
//! last line; exits non-zero on any failure. Tests without `config.key` use
//! the static branch key, which the official SDK cannot use without a KMS key
//! store: they are skipped.

use std::path::PathBuf;

use fieldseal_interop::manifest::{run_manifest, Outcome};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: official_decrypt_manifest MANIFEST.json");
        std::process::exit(2);
    };
    let path = PathBuf::from(path);
    let summary = run_manifest(&path, |name, description, outcome| match outcome {
        Outcome::Passed => println!("ok    {name}: {description}"),
        Outcome::Failed(why) => println!("FAIL  {name}: {description}: {why}"),
        Outcome::Skipped(why) => println!("skip  {name}: {description}: skipped ({why})"),
    });
    match summary {
        Ok(s) => {
            println!("{}", s.closing_line());
            std::process::exit(if s.failed() == 0 { 0 } else { 1 });
        }
        Err(e) => {
            eprintln!("error: {e}");
            println!("0 passed, 1 failed");
            std::process::exit(1);
        }
    }
}
