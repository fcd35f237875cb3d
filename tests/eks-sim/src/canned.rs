//! Endpoints for the failures neither the simulator nor moto produces on their own, reached
//! through the real SDK like any other endpoint: one that answers every request with the same
//! AWS JSON error (an expired session token, an access denial with the caller's ARN), and one
//! that accepts connections and never answers. Each runs on a free loopback port until dropped.

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A listener on a loopback port, stopped when dropped.
#[derive(Debug)]
pub struct Endpoint {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Endpoint {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One AWS JSON-protocol error answer (awsJson1_0/1_1 and restJson1 read the same shape).
#[derive(Debug, Clone)]
pub struct ErrorAnswer {
    /// The HTTP status (400, 403).
    pub status: u16,
    /// The error code (`ExpiredTokenException`).
    pub code: String,
    /// The message.
    pub message: String,
    /// The request id it carries.
    pub request_id: String,
}

impl ErrorAnswer {
    /// The HTTP response, head and body.
    fn http(&self) -> String {
        let body = serde_json::json!({ "__type": self.code, "message": self.message }).to_string();
        format!(
            "HTTP/1.1 {} Error\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-errortype: {}\r\nx-amzn-requestid: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.status,
            self.code,
            self.request_id,
            body.len()
        )
    }
}

/// An endpoint answering every request with `answer`.
///
/// # Panics
///
/// When no loopback port can be bound.
pub async fn answering(answer: ErrorAnswer) -> Endpoint {
    let listener = bind().await;
    let addr = listener.local_addr().expect("local address");
    let response = answer.http();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer_one(stream, response.clone()));
        }
    });
    Endpoint { addr, task }
}

/// An endpoint that accepts connections, reads what comes, and never answers.
///
/// # Panics
///
/// When no loopback port can be bound.
pub async fn silent() -> Endpoint {
    let listener = bind().await;
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(tokio::spawn(read_forever(stream)));
        }
    });
    Endpoint { addr, task }
}

/// A loopback address nothing listens on (bound, then released).
///
/// # Panics
///
/// When no loopback port can be bound.
pub async fn refusing() -> String {
    let listener = bind().await;
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}")
}

async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port")
}

/// Reads one request (head, then as much body as it announces) and writes `response`.
async fn answer_one(mut stream: TcpStream, response: String) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
        if request_complete(&seen) {
            break;
        }
    }
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Whether `seen` holds a whole request: its head and the body its content-length announces.
fn request_complete(seen: &[u8]) -> bool {
    let text = String::from_utf8_lossy(seen);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    body.len() >= length
}

/// Reads until the peer closes, answering nothing.
async fn read_forever(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_complete_once_its_body_is_in() {
        assert!(!request_complete(
            b"POST / HTTP/1.1\r\ncontent-length: 4\r\n"
        ));
        assert!(!request_complete(
            b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n{}"
        ));
        assert!(request_complete(
            b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
        ));
        assert!(request_complete(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
    }

    #[tokio::test]
    async fn every_request_gets_the_error_answer() {
        let endpoint = answering(ErrorAnswer {
            status: 400,
            code: "ExpiredTokenException".to_owned(),
            message: "The security token included in the request is expired".to_owned(),
            request_id: "req-1".to_owned(),
        })
        .await;
        let mut stream = TcpStream::connect(endpoint.addr).await.expect("connect");
        stream
            .write_all(b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}")
            .await
            .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("read");
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        assert!(answer.contains("x-amzn-errortype: ExpiredTokenException"));
        assert!(
            answer.contains(r#""__type":"ExpiredTokenException""#),
            "{answer}"
        );
        assert!(answer.contains("x-amzn-requestid: req-1"), "{answer}");
    }
}
