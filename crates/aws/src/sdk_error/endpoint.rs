//! Where a service's endpoint comes from when it is not AWS's own: the `AWS_ENDPOINT_URL_<SERVICE>`
//! and `AWS_ENDPOINT_URL` variables, or (when the shared configuration is at hand) the AWS
//! profile's `endpoint_url`, as aws-config resolves them.

use aws_types::service_config::ServiceConfigKey;
use eks_auth_core::call_failure::{Endpoint, Service};

/// The override the environment sets for `service` (`AWS_ENDPOINT_URL_<SERVICE>`, then
/// `AWS_ENDPOINT_URL`), unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` turns overrides off.
pub(crate) fn from_env(service: Service) -> Endpoint {
    from_vars(service, |name| std::env::var(name).ok())
}

/// [`from_env`] over any variable source.
fn from_vars(service: Service, var: impl Fn(&str) -> Option<String>) -> Endpoint {
    if var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Endpoint::default();
    }
    for name in [service.endpoint_variable(), "AWS_ENDPOINT_URL"] {
        if let Some(url) = var(name).filter(|u| !u.is_empty()) {
            return Endpoint {
                url: Some(url),
                set_by: Some(name.to_owned()),
            };
        }
    }
    Endpoint::default()
}

/// The endpoint override `config` holds for `service` (as every client built from it uses),
/// named by what sets it: a variable of the environment, or the AWS profile.
pub fn configured(config: &aws_config::SdkConfig, service: Service) -> Endpoint {
    let key = ServiceConfigKey::builder()
        .service_id(service_id(service))
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build();
    let url = match key {
        Ok(key) => config
            .service_config()
            .and_then(|c| c.load_config(key))
            .or_else(|| config.endpoint_url().map(str::to_owned)),
        Err(_) => config.endpoint_url().map(str::to_owned),
    };
    let Some(url) = url else {
        return Endpoint::default();
    };
    let env = from_env(service);
    let set_by = match env.url {
        Some(from_env) if from_env == url => env.set_by,
        _ => Some("the AWS profile's endpoint_url".to_owned()),
    };
    Endpoint {
        url: Some(url),
        set_by,
    }
}

/// The service id aws-config keys service-specific settings by: the name people know it by,
/// without spaces (`SecurityHub`).
fn service_id(service: Service) -> &'static str {
    match service {
        Service::SecurityHub => "SecurityHub",
        other => other.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        let pairs = pairs.to_vec();
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_service_variable_wins_over_the_general_one() {
        let both = vars(&[
            ("AWS_ENDPOINT_URL", "http://moto"),
            ("AWS_ENDPOINT_URL_EKS", "http://sim"),
        ]);
        let eks = from_vars(Service::Eks, &both);
        assert_eq!(eks.url.as_deref(), Some("http://sim"));
        assert_eq!(eks.set_by.as_deref(), Some("AWS_ENDPOINT_URL_EKS"));
        let dynamodb = from_vars(Service::DynamoDb, &both);
        assert_eq!(dynamodb.set_by.as_deref(), Some("AWS_ENDPOINT_URL"));
        assert_eq!(from_vars(Service::Eks, vars(&[])), Endpoint::default());
        let ignored = vars(&[
            ("AWS_ENDPOINT_URL", "http://moto"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        assert_eq!(from_vars(Service::Sts, ignored), Endpoint::default());
    }
}
