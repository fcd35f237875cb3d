//! A test harness: the simulator in-process on a free port, plus moto as a child process
//! when the project's venv has it. Everything stops when the [`Stack`] is dropped.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::seed::Seed;
use crate::server::{Sim, SimError};

/// Errors starting the stack.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The simulator failed to start.
    #[error("starting the EKS simulator")]
    Sim(#[from] SimError),
    /// moto could not be spawned.
    #[error("starting moto_server")]
    Spawn(#[source] std::io::Error),
    /// moto did not open its port in time.
    #[error("moto_server did not become ready on {0} within 30 s")]
    MotoTimeout(SocketAddr),
}

/// The venv that holds moto and boto3: `$EAM_VENV`, else `<workspace>/.venv`.
pub fn venv_dir() -> PathBuf {
    std::env::var_os("EAM_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv"),
        PathBuf::from,
    )
}

/// A moto server child process, killed on drop.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    addr: SocketAddr,
}

impl Moto {
    /// Starts `<venv>/bin/moto_server` on a free loopback port and waits until it accepts
    /// connections; `Ok(None)` when the venv has no moto.
    ///
    /// # Errors
    ///
    /// [`HarnessError`] when it cannot be spawned or does not become ready.
    pub fn start() -> Result<Option<Self>, HarnessError> {
        let bin = venv_dir().join("bin/moto_server");
        if !bin.exists() {
            return Ok(None);
        }
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map_err(HarnessError::Spawn)?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(HarnessError::Spawn)?;
        let moto = Self { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                return Err(HarnessError::MotoTimeout(addr));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(Some(moto))
    }

    /// `http://127.0.0.1:PORT` (use as `AWS_ENDPOINT_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The local AWS stack for one test.
#[derive(Debug)]
pub struct Stack {
    /// The EKS simulator.
    pub sim: Sim,
    /// moto, when the venv has it.
    pub moto: Option<Moto>,
}

impl Stack {
    /// Starts the simulator with `seed` (and moto when `with_moto` and the venv has it).
    ///
    /// # Errors
    ///
    /// [`HarnessError`] when either fails to start.
    pub async fn start(seed: Seed, with_moto: bool) -> Result<Self, HarnessError> {
        let sim = Sim::start(seed).await?;
        let moto = if with_moto {
            tokio::task::spawn_blocking(Moto::start)
                .await
                .map_err(|e| HarnessError::Spawn(std::io::Error::other(e)))??
        } else {
            None
        };
        Ok(Self { sim, moto })
    }

    /// The standard AWS environment for this stack: `AWS_ENDPOINT_URL_EKS` (and
    /// `AWS_ENDPOINT_URL` with moto), default credentials and region.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("AWS_ENDPOINT_URL_EKS".to_owned(), self.sim.url()),
            (
                "AWS_ACCESS_KEY_ID".to_owned(),
                crate::seed::DEFAULT_ACCESS_KEY_ID.to_owned(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                crate::seed::DEFAULT_SECRET_ACCESS_KEY.to_owned(),
            ),
            ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ];
        if let Some(m) = &self.moto {
            env.push(("AWS_ENDPOINT_URL".to_owned(), m.url()));
        }
        env
    }
}
