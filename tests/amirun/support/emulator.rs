//! The local AWS emulator (moto's server) for one test, on a free loopback port.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::fixtures::OWNER_ACCOUNT;

/// A running emulator; killed when dropped.
pub struct Emulator {
    child: Child,
    pub addr: SocketAddr,
}

/// `AMIRUN_MOTO_SERVER`, else the server that `scripts/install-emulator.sh` installs.
fn server_path() -> PathBuf {
    if let Some(path) = std::env::var_os("AMIRUN_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".emulator/venv/bin/moto_server")
}

impl Emulator {
    pub fn start() -> Emulator {
        let bin = server_path();
        assert!(
            bin.exists(),
            "the emulator is not installed at {}; run scripts/install-emulator.sh or set AMIRUN_MOTO_SERVER",
            bin.display()
        );
        // Another process can take the free port before the emulator binds it, so try a few.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("failed to bind a free port on 127.0.0.1")
                .port();
            let mut child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_ACCOUNT_ID", OWNER_ACCOUNT)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|err| panic!("failed to start {}: {err}", bin.display()));
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if TcpStream::connect(addr).is_ok() {
                    return Emulator { child, addr };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "emulator {} did not accept connections within 30 s",
            bin.display()
        );
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
