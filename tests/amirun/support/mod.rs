//! Test support: the emulator, the proxy in front of it, fixtures and the amirun runner.

pub mod command;
pub mod emulator;
pub mod fixtures;
pub mod mocks;
pub mod proxy;
pub mod sharing_state;

use std::future::Future;

pub use command::{Amirun, Finished};
pub use emulator::Emulator;
pub use proxy::{Proxy, ProxyOptions};

/// Sends SIGINT (Ctrl-C) to a child process, as a terminal would.
#[track_caller]
pub fn send_ctrl_c(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill failed");
    assert!(status.success(), "kill -INT {} failed", child.id());
}

/// Runs an SDK future from a synchronous test.
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("failed to start a runtime")
        .block_on(future)
}

/// An emulator with the proxy in front, a source instance, the records bucket and a state
/// directory: the world of one EduGlobal test.
pub struct World {
    pub emulator: Emulator,
    pub proxy: Proxy,
    pub instance: String,
    pub state: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        Self::with_options(|options| options)
    }

    pub fn with_options(shape: impl FnOnce(ProxyOptions) -> ProxyOptions) -> World {
        let emulator = Emulator::start();
        let instance = block_on(fixtures::provision(&emulator.url()))
            .expect("failed to provision the emulator");
        let proxy = Proxy::start(shape(ProxyOptions::new(emulator.addr)))
            .expect("failed to start the proxy");
        World {
            emulator,
            proxy,
            instance,
            state: tempfile::tempdir().expect("no temp dir"),
        }
    }

    /// amirun aimed at the proxy.
    pub fn amirun(&self) -> Amirun {
        Amirun::new(Some(&self.proxy.url()))
    }

    /// `amirun run runbooks/eduglobal.rhai` with this world's instance and state directory.
    /// `amirun run RUNBOOK` with this world's instance and state directory.
    pub fn runbook(&self, runbook: &std::path::Path, extra: &[&str]) -> Amirun {
        self.amirun()
            .args(["run"])
            .arg_path(runbook)
            .args(["--poll-interval", "0.05", "--state-dir"])
            .arg_path(self.state.path())
            .args(["--param", &format!("source_instance={}", self.instance)])
            .args(["--param", "version=2023.09.1"])
            .args(extra)
    }

    /// `amirun run runbooks/eduglobal.rhai` with this world's instance and state directory.
    pub fn eduglobal(&self, extra: &[&str]) -> Amirun {
        self.runbook(std::path::Path::new("runbooks/eduglobal.rhai"), extra)
    }

    pub fn run_eduglobal(&self, extra: &[&str]) -> Finished {
        self.eduglobal(extra).run()
    }

    /// `amirun run tests/fixtures/runbooks/<runbook>` with this world's instance as
    /// `source_instance`, its state directory, and `params` as `NAME=VALUE` pairs.
    pub fn run_fixture(&self, runbook: &str, params: &[&str], extra: &[&str]) -> Finished {
        let mut command = self
            .amirun()
            .args(["run", &format!("tests/fixtures/runbooks/{runbook}")])
            .args(["--poll-interval", "0.05", "--state-dir"])
            .arg_path(self.state.path())
            .args(["--param", &format!("source_instance={}", self.instance)]);
        for param in params {
            command = command.args(["--param", param]);
        }
        command.args(extra).run()
    }

    /// Fails the test if amirun made any call other than a read.
    #[track_caller]
    pub fn assert_no_change(&self) {
        let mutating = self.proxy.mutating_calls();
        assert!(mutating.is_empty(), "mutating calls: {mutating:?}");
        let images = self.owned_images();
        assert!(images.is_empty(), "images made: {images:?}");
    }

    pub fn owned_images(&self) -> Vec<fixtures::OwnedImage> {
        block_on(fixtures::owned_images(
            &self.emulator.url(),
            &["ap-south-1", "ap-southeast-1", "ap-southeast-3"],
        ))
        .expect("failed to read the emulator's images")
    }

    /// Reads every object in the records bucket: key, body and server-side encryption.
    pub fn records(&self) -> Vec<(String, serde_json::Value, String)> {
        block_on(async {
            let s3 = fixtures::s3(&self.emulator.url());
            let listed = s3
                .list_objects_v2()
                .bucket(fixtures::RECORDS_BUCKET)
                .send()
                .await
                .expect("list failed");
            let mut records = Vec::new();
            for object in listed.contents() {
                let key = object.key().unwrap_or_default().to_owned();
                let got = s3
                    .get_object()
                    .bucket(fixtures::RECORDS_BUCKET)
                    .key(&key)
                    .send()
                    .await
                    .expect("get failed");
                let sse = got
                    .server_side_encryption()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default();
                let body = got.body.collect().await.expect("body failed").into_bytes();
                let json = serde_json::from_slice(&body).expect("record is not JSON");
                records.push((key, json, sse));
            }
            records
        })
    }
}

impl Amirun {
    pub fn arg_path(self, path: &std::path::Path) -> Self {
        self.args([path.as_os_str()])
    }
}
