//! A real `redis-server` on a loopback port of the test's own.
//!
//! Tests that need Redis call [`RedisServer::start`]. When `redis-server` is not installed they
//! are skipped with a message saying why, on stderr even without `--nocapture`, unless
//! `HUBSPOT_PROJECTS_REQUIRE_REDIS` is set (CI sets it, after installing Redis), in which case
//! they fail.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`, killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    /// Starts one, or returns `None` (after saying why) when Redis is not installed here and
    /// not required.
    pub fn start() -> Option<Self> {
        let required = std::env::var_os("HUBSPOT_PROJECTS_REQUIRE_REDIS").is_some();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) if !required => {
                // Written to the process's stderr itself: the test harness captures eprintln!
                // and shows it only for a failed test, so a skipped test would pass as `ok`
                // without a word.
                let test = std::thread::current()
                    .name()
                    .unwrap_or("this test")
                    .to_string();
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "SKIPPED {test}: it needs a real Redis, and `redis-server` could not be started ({error}); install it (apt-get install redis-server) to run it. CI installs it and sets HUBSPOT_PROJECTS_REQUIRE_REDIS, so it never skips there."
                );
                return None;
            }
            Err(error) => panic!(
                "HUBSPOT_PROJECTS_REQUIRE_REDIS is set but redis-server cannot start: {error}"
            ),
        };
        let server = Self {
            child: Some(child),
            port,
        };
        server.wait_until_ready();
        Some(server)
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Polls `PING` until the server answers `PONG` (at most ten seconds).
    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                let mut answer = [0u8; 7];
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read_exact(&mut answer).is_ok()
                    && &answer == b"+PONG\r\n"
                {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start in 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server now.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
