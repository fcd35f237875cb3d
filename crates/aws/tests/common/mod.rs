//! Test harness: the project venv's tools (moto server, aws CLI) and faketime, with the
//! EAM_REQUIRE_TOOLS rule: when `EAM_REQUIRE_TOOLS=1` a missing tool fails the test; otherwise
//! the test prints a note and returns.

#![allow(dead_code)]

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use eks_auth_aws::StateStore;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The deadline of the engine runs and worker batches the tests start (as `Instant::now() +
/// RUN_DEADLINE`): Lambda's longest timeout. A safety net against a hang, never a performance
/// bound: a run only stops OUT_OF_TIME when it reaches it, however slow the machine.
pub const RUN_DEADLINE: Duration = Duration::from_secs(900);

/// Secret of the test credentials: must never appear in an error.
pub const TEST_SECRET: &str = "eam-test-secret-0f1e2d3c4b5a";
/// Session token of the test credentials: must never appear in an error.
pub const TEST_SESSION_TOKEN: &str = "eam-test-session-token-9a8b7c";

/// `<venv>/bin/<name>`: the venv `$EAM_VENV` names (as scripts/test sets it), else the
/// workspace's `.venv` (the simulator harness's rule).
pub fn venv_bin(name: &str) -> PathBuf {
    eks_sim::harness::venv_dir().join("bin").join(name)
}

/// `name` found on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Report a missing tool: panic under `EAM_REQUIRE_TOOLS=1`, otherwise print a note.
pub fn missing(what: &str) {
    if std::env::var("EAM_REQUIRE_TOOLS").as_deref() == Ok("1") {
        panic!(
            "{what} is missing and EAM_REQUIRE_TOOLS=1 (pip install -r tests/requirements.txt into $EAM_VENV or .venv; apt-get install faketime)"
        );
    }
    eprintln!("note: {what} is missing; test not run (set EAM_REQUIRE_TOOLS=1 to make this fail)");
}

/// moto_server's own `main`, with werkzeug serving one request at a time.
///
/// The stock `moto_server` is multi-threaded and moto evaluates a DynamoDB condition and applies
/// the write without a lock, so two racing conditional writes can both succeed (observed: two
/// lease winners in 1 of 10 rounds). DynamoDB serializes writes to an item; serving requests one
/// at a time restores that, so the race test checks our condition expressions, not moto's
/// threading.
///
/// The server also exits when the test process that started it dies (even by SIGKILL, when
/// `Drop` cannot run), so no server outlives its test.
const SERIAL_MOTO_SERVER: &str = "import os, threading, time\n\
import moto.server as m\n\
parent = os.getppid()\n\
def watch():\n\
\x20   while os.getppid() == parent:\n\
\x20       time.sleep(0.2)\n\
\x20   os._exit(0)\n\
threading.Thread(target=watch, daemon=True).start()\n\
rs = m.run_simple\n\
m.run_simple = lambda *a, **k: rs(*a, **{**k, 'threaded': False})\n\
m.main()\n";

/// A moto server on a free 127.0.0.1 port, killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Moto {
    /// Start moto_server (from the venv, see [`SERIAL_MOTO_SERVER`]) and wait until it accepts
    /// connections.
    pub fn start() -> Option<Moto> {
        let bin = venv_bin("moto_server");
        if !bin.is_file() {
            missing(&format!("{}", bin.display()));
            return None;
        }
        for _ in 0..5 {
            let addr = eks_sim::harness::free_loopback_addr().expect("free port");
            let mut child = Command::new(venv_bin("python"))
                .args([
                    "-c",
                    SERIAL_MOTO_SERVER,
                    "-H",
                    "127.0.0.1",
                    "-p",
                    &addr.port().to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn moto_server");
            let ready = eks_sim::harness::wait_for_moto(&mut child, addr, Duration::from_secs(60))
                .expect("moto_server not ready after 60 s");
            if ready {
                return Some(Moto {
                    child,
                    url: format!("http://{addr}"),
                });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server could not start on any of 5 free ports");
    }

    /// The server's process id (for `eks_sim::harness::cpu_seconds`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Shared configuration pointing at this server, through standard configuration only.
    pub async fn config(&self) -> aws_config::SdkConfig {
        config_for(&self.url).await
    }

    /// A state store over a freshly created table.
    pub async fn store(&self, table: &str) -> StateStore {
        let store = StateStore::from_config(&self.config().await, table);
        store
            .create_table(Duration::from_secs(30))
            .await
            .expect("create table");
        store
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Shared configuration for `endpoint` with the test credentials.
pub async fn config_for(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIAEAMTEST",
            TEST_SECRET,
            Some(TEST_SESSION_TOKEN.to_owned()),
            None,
            "eam-tests",
        ))
        .load()
        .await
}

/// A trust policy any principal may assume (moto does not evaluate it).
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;

/// Creates an IAM role (`kind` "role") or user in moto, with its path ("/" for none).
pub async fn create_principal(iam: &aws_sdk_iam::Client, kind: &str, path: &str, name: &str) {
    if kind == "role" {
        iam.create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(TRUST)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateRole {path}{name}: {e:?}"));
    } else {
        iam.create_user()
            .user_name(name)
            .path(path)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateUser {path}{name}: {e:?}"));
    }
}
