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
    /// moto's request recorder could not be started or read.
    #[error("moto's request recording: {0}")]
    Recording(String),
}

/// SDK configuration for the local stack through standard configuration only, as the product
/// reads it: a config file written into `dir` (moto at `moto` for every service, `eks` for EKS
/// and for Lambda's Invoke API — the simulator hosts the in-VPC agents —, region us-east-1) and
/// `credentials`.
#[allow(deprecated)] // ProfileFiles: the loader's way to read a config file from a chosen path
pub async fn sdk_config(
    moto: &str,
    eks: &str,
    dir: &std::path::Path,
    credentials: aws_credential_types::Credentials,
) -> aws_config::SdkConfig {
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
    let path = dir.join("config");
    std::fs::write(
        &path,
        format!(
            "[default]\nregion = us-east-1\nendpoint_url = {moto}\nservices = local-stack\n\n[services local-stack]\neks =\n  endpoint_url = {eks}\nlambda =\n  endpoint_url = {eks}\n"
        ),
    )
    .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .profile_files(
            ProfileFiles::builder()
                .with_file(ProfileFileKind::Config, &path)
                .build(),
        )
        .credentials_provider(credentials)
        .load()
        .await
}

/// The venv that holds moto and boto3: `$EAM_VENV`, else `<workspace>/.venv`.
pub fn venv_dir() -> PathBuf {
    std::env::var_os("EAM_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv"),
        PathBuf::from,
    )
}

/// How many ports to try before giving up on starting moto.
const MOTO_PORT_ATTEMPTS: usize = 5;

/// A loopback address whose port was free a moment ago. Another process may take it before the
/// caller binds it, so callers must check that what answers there is theirs.
pub fn free_loopback_addr() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()
}

/// Waits until the moto server `child` answers on `addr`. `Ok(true)` once moto itself answers
/// (its `/moto-api/data.json`, not merely an open port: tests running in parallel start many
/// listeners, and one may have taken the port); `Ok(false)` when the child exited first, e.g.
/// because its port was taken.
///
/// # Errors
///
/// [`HarnessError::MotoTimeout`] when neither happens within `timeout`.
pub fn wait_for_moto(
    child: &mut Child,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<bool, HarnessError> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_)) | Err(_)) {
            return Ok(false);
        }
        if answers_as_moto(addr) {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(HarnessError::MotoTimeout(addr))
}

/// True when an HTTP GET of `/moto-api/data.json` at `addr` gets moto's 200.
fn answers_as_moto(addr: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0_u8; 256];
    let n = stream.read(&mut head).unwrap_or(0);
    let head = String::from_utf8_lossy(&head[..n]);
    // A single-threaded Werkzeug answers HTTP/1.0, a threaded one HTTP/1.1.
    (head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"))
        && head.contains("Werkzeug")
}

/// CPU seconds (user + system) process `pid` has used so far, from Linux's `/proc/PID/stat`
/// (utime and stime, in ticks of USER_HZ = 100); 0 when it cannot be read. Benchmarks use it to
/// tell how busy moto (one Python process) was.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name `(...)`: utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

/// A moto server child process, killed on drop.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    addr: SocketAddr,
    /// Where moto's recorder writes (MOTO_RECORDER_FILEPATH), once recording is started.
    recording: PathBuf,
}

impl Moto {
    /// Starts `<venv>/bin/moto_server` on a free loopback port and waits until moto answers
    /// there (trying another port when the chosen one was taken); `Ok(None)` when the venv has
    /// no moto.
    ///
    /// # Errors
    ///
    /// [`HarnessError`] when it cannot be spawned or does not become ready.
    pub fn start() -> Result<Option<Self>, HarnessError> {
        let bin = venv_dir().join("bin/moto_server");
        if !bin.exists() {
            return Ok(None);
        }
        for _ in 0..MOTO_PORT_ATTEMPTS {
            let addr = free_loopback_addr().map_err(HarnessError::Spawn)?;
            let recording = std::env::temp_dir().join(format!(
                "eam-moto-{}-{}.jsonl",
                std::process::id(),
                addr.port()
            ));
            let mut child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &addr.port().to_string()])
                .env("MOTO_RECORDER_FILEPATH", &recording)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(HarnessError::Spawn)?;
            if wait_for_moto(&mut child, addr, Duration::from_secs(30))? {
                return Ok(Some(Self {
                    child,
                    addr,
                    recording,
                }));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        Err(HarnessError::MotoTimeout(SocketAddr::from((
            [127, 0, 0, 1],
            0,
        ))))
    }

    /// `http://127.0.0.1:PORT` (use as `AWS_ENDPOINT_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's process id (for [`cpu_seconds`]).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Makes moto record every request it receives from now on (its recorder).
    ///
    /// # Errors
    ///
    /// [`HarnessError::Recording`] when moto does not accept.
    pub fn start_recording(&self) -> Result<(), HarnessError> {
        use std::io::{Read, Write};
        let fail = |e: std::io::Error| HarnessError::Recording(e.to_string());
        let mut stream = TcpStream::connect(self.addr).map_err(fail)?;
        stream
            .write_all(
                b"POST /moto-api/recorder/start-recording HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
            )
            .map_err(fail)?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).map_err(fail)?;
        if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
            Ok(())
        } else {
            Err(HarnessError::Recording(format!(
                "start-recording answered {}",
                answer.lines().next().unwrap_or_default()
            )))
        }
    }

    /// The AWS calls recorded since [`Moto::start_recording`], in order.
    ///
    /// # Errors
    ///
    /// [`HarnessError::Recording`] when the recording cannot be read.
    pub fn recorded_calls(&self) -> Result<Vec<RecordedCall>, HarnessError> {
        let text = std::fs::read_to_string(&self.recording)
            .map_err(|e| HarnessError::Recording(format!("{}: {e}", self.recording.display())))?;
        Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .filter_map(|entry: serde_json::Value| RecordedCall::from_entry(&entry))
            .collect())
    }
}

/// One AWS call moto received: who signed it, for which service, which operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordedCall {
    /// The access key of the SigV4 credential scope.
    pub access_key: String,
    /// The signing name of the service (`dynamodb`, `sqs`, `sts`, …).
    pub service: String,
    /// The operation (`X-Amz-Target`'s, or the query protocol's `Action`).
    pub operation: String,
}

impl RecordedCall {
    /// From one line of moto's recording; `None` for unsigned or unreadable requests.
    fn from_entry(entry: &serde_json::Value) -> Option<Self> {
        use base64::Engine as _;
        let headers = entry.get("headers")?.as_object()?;
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
        };
        let scope = header("Authorization")?
            .split("Credential=")
            .nth(1)?
            .split([',', ' '])
            .next()?;
        let mut parts = scope.split('/');
        let access_key = parts.next()?.to_owned();
        let service = parts.nth(2)?.to_owned();
        let path = entry
            .get("url")
            .and_then(serde_json::Value::as_str)
            .map(|u| u.split('?').next().unwrap_or(u))
            .map(|u| u.find("://").map_or(u, |i| &u[i + 3..]))
            .map(|u| u.find('/').map_or("", |i| &u[i..]))
            .unwrap_or_default();
        let operation = match (header("X-Amz-Target"), service.as_str()) {
            (Some(target), _) => target.rsplit('.').next()?.to_owned(),
            // Security Hub is a REST protocol: the operation is the path.
            (None, "securityhub") => match path {
                "/findings/import" => "BatchImportFindings",
                "/findings/batchupdate" => "BatchUpdateFindings",
                "/findings" => "GetFindings",
                other => other,
            }
            .to_owned(),
            (None, _) => {
                let body = entry.get("body")?.as_str()?;
                let body = if entry
                    .get("body_encoded")
                    .and_then(serde_json::Value::as_bool)
                    == Some(true)
                {
                    String::from_utf8(
                        base64::engine::general_purpose::STANDARD
                            .decode(body)
                            .ok()?,
                    )
                    .ok()?
                } else {
                    body.to_owned()
                };
                body.split('&')
                    .find_map(|pair| pair.strip_prefix("Action="))?
                    .to_owned()
            }
        };
        Some(Self {
            access_key,
            service,
            operation,
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.recording);
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
