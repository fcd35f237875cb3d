//! EKS service errors and their restJson1 wire form.

use hyper::StatusCode;

/// An EKS API error, rendered as HTTP status + `x-amzn-errortype` + `{"message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct EksError {
    /// HTTP status.
    pub status: u16,
    /// Error code (the shape name, e.g. `InvalidParameterException`).
    pub code: &'static str,
    /// Human-readable message, as the real service words it where known.
    pub message: String,
}

impl EksError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 InvalidParameterException.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameterException", message)
    }

    /// 400 InvalidRequestException.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestException", message)
    }

    /// 404 ResourceNotFoundException.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "ResourceNotFoundException", message)
    }

    /// 409 ResourceInUseException.
    pub fn in_use(message: impl Into<String>) -> Self {
        Self::new(409, "ResourceInUseException", message)
    }

    /// 400 BadRequestException (tagging operations).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequestException", message)
    }

    /// 404 NotFoundException (tagging operations).
    pub fn tag_not_found(message: impl Into<String>) -> Self {
        Self::new(404, "NotFoundException", message)
    }

    /// 429 ThrottlingException.
    pub fn throttling() -> Self {
        Self::new(429, "ThrottlingException", "Rate exceeded")
    }

    /// 5xx ServerException / ServiceUnavailableException.
    pub fn server(status: u16) -> Self {
        if status == 503 {
            Self::new(503, "ServiceUnavailableException", "Service Unavailable")
        } else {
            Self::new(status, "ServerException", "Internal Failure")
        }
    }

    /// 403 for requests signed with an unknown or missing access key.
    pub fn unrecognized_client() -> Self {
        Self::new(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    }

    /// 403 for a request whose SigV4 signature does not match (wrong secret, tampering).
    pub fn invalid_signature() -> Self {
        Self::new(
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
    }

    /// 404 for a path that matches no operation.
    pub fn unknown_operation() -> Self {
        Self::new(404, "UnknownOperationException", "Unknown operation")
    }

    /// 404 for a missing cluster, worded like EKS.
    pub fn no_cluster(name: &str) -> Self {
        Self::not_found(format!("No cluster found for name: {name}."))
    }

    /// The restJson1 validation error for a bad `maxResults`.
    pub fn max_results(value: &str) -> Self {
        Self::invalid_parameter(format!(
            "1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
        ))
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "message": self.message })
    }
}
