//! Which [`Service`] each SDK client calls, and the region it was built for: what a
//! [`super::failure`] names besides the operation.

use eks_auth_core::call_failure::Service;

/// An SDK client of one AWS service.
pub trait ServiceClient {
    /// The service it calls.
    const SERVICE: Service;

    /// The region it was built for.
    fn region(&self) -> Option<String>;
}

/// Implements [`ServiceClient`] for an SDK client type.
macro_rules! service_client {
    ($client:ty, $service:expr) => {
        impl ServiceClient for $client {
            const SERVICE: Service = $service;

            fn region(&self) -> Option<String> {
                self.config().region().map(|r| r.as_ref().to_owned())
            }
        }
    };
}

service_client!(aws_sdk_eks::Client, Service::Eks);
service_client!(aws_sdk_iam::Client, Service::Iam);
service_client!(aws_sdk_sts::Client, Service::Sts);
service_client!(aws_sdk_dynamodb::Client, Service::DynamoDb);
service_client!(aws_sdk_sqs::Client, Service::Sqs);
service_client!(aws_sdk_organizations::Client, Service::Organizations);
service_client!(aws_sdk_ssm::Client, Service::Ssm);
service_client!(aws_sdk_lambda::Client, Service::Lambda);
service_client!(aws_sdk_eventbridge::Client, Service::EventBridge);
service_client!(aws_sdk_securityhub::Client, Service::SecurityHub);
service_client!(aws_sdk_kms::Client, Service::Kms);
