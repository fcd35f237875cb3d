//! A host that is not the cluster's: an HTTPS listener on 127.0.0.1 with its own CA (the kind
//! an intruder stands up and names in a request), which records the head of every request that
//! reaches it — a bearer token included — and answers 200 with an empty ConfigMap.

use base64::Engine as _;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The listener: its URL, its CA as DescribeCluster would give it, and what reached it.
pub struct Listener {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// Base64 of the CA's PEM.
    pub ca_data: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Listener {
    /// Starts listening; stops with the test's runtime.
    pub async fn start() -> Self {
        let tls = eks_sim::tls::cluster_tls("foreign").expect("certificates");
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("https://{}", socket.local_addr().expect("address"));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&heads);
        tokio::spawn(async move {
            while let Ok((stream, _)) = socket.accept().await {
                let (acceptor, recorded) = (acceptor.clone(), Arc::clone(&recorded));
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    recorded
                        .lock()
                        .expect("lock")
                        .push(String::from_utf8_lossy(&head).into_owned());
                    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"aws-auth","namespace":"kube-system","resourceVersion":"1"},"data":{}}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self {
            url,
            ca_data: base64::engine::general_purpose::STANDARD.encode(tls.ca_pem),
            heads,
        }
    }

    /// The head of every request that reached it.
    pub fn requests(&self) -> Vec<String> {
        self.heads.lock().expect("lock").clone()
    }
}
