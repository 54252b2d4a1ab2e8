//! moto (a local AWS KMS + DynamoDB) for the interop tests, started through
//! the project's launcher (`tools/moto/launch.py`, in the venv that
//! `tools/moto/setup_venv.sh` makes), exactly as the JS side does in
//! `tools/moto/start.mjs`: same patches, same readiness check.
//!
//! The server cannot outlive the test: it runs under the same small Python
//! watchdog as start.mjs, which exits once its stdin (a pipe this process
//! holds) reaches EOF, and the kernel closes that pipe however this process
//! ends, even by SIGKILL. [`Moto`]'s `Drop` also kills and reaps it, so a
//! panicking test does not leave it behind.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The static credentials moto accepts (any are accepted; these name it).
pub const ACCESS_KEY_ID: &str = "test";
pub const SECRET_ACCESS_KEY: &str = "test";

/// `python -c WATCHDOG launch.py --port N`: runs launch.py as `__main__`,
/// with a daemon thread that exits the process once stdin is closed
/// (the same program as start.mjs's WATCHDOG).
const WATCHDOG: &str = "import os, runpy, sys, threading
def _watch():
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')";

/// How long the server may take to answer once its venv exists.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server; stopped (killed and reaped) on drop.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    child: Child,
    /// Held open: closing it is what makes the watchdog exit.
    stdin: Option<ChildStdin>,
    log: Arc<Mutex<String>>,
}

impl Moto {
    /// Installs the venv if needed, starts the server on a free loopback
    /// port and waits until it answers. The error says why it could not.
    pub fn start() -> Result<Moto, String> {
        let tools = tools_dir();
        let python = venv_python(&tools)?;
        let port = free_port()?;
        let mut child = Command::new(&python)
            .arg("-c")
            .arg(WATCHDOG)
            .arg(tools.join("launch.py"))
            .arg("--port")
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        let log = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let stdin = child.stdin.take();
        let mut moto = Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
            stdin,
            log,
        };
        moto.wait_ready(port)?;
        Ok(moto)
    }

    /// Everything the server printed so far (for failure messages).
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Ready = it printed its banner (so it is ours, patched) and answers
    /// HTTP on the port.
    fn wait_ready(&mut self, port: u16) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("moto exited early ({status}):\n{}", self.log()));
            }
            if self.log().contains("serving on") && http_answers(port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "moto did not start within {} s:\n{}",
                    START_TIMEOUT.as_secs(),
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // EOF on stdin ends the watchdog; the kill covers a server that
        // does not get to run it.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tools/moto, from this crate's manifest directory (tests/interop).
fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/moto")
}

/// The venv's python, as `setup_venv.sh` prints it (it installs on first use).
fn venv_python(tools: &Path) -> Result<PathBuf, String> {
    let script = tools.join("setup_venv.sh");
    let out = Command::new(&script)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!("{} failed ({})", script.display(), out.status));
    }
    let python = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if python.is_empty() {
        return Err(format!("{} printed no python path", script.display()));
    }
    Ok(PathBuf::from(python))
}

/// A port on 127.0.0.1 that was free a moment ago (the OS picks it).
fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

/// Whether `GET /moto-api/` answers with a status below 500.
fn http_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request =
        format!("GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut status_line = String::new();
    if BufReader::new(stream).read_line(&mut status_line).is_err() {
        return false;
    }
    // "HTTP/1.1 200 OK"
    status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .is_some_and(|code| code < 500)
}
