//! The authenticator's templates in usernames and groups: `{{AccountID}}`, `{{SessionName}}`
//! (`@` → `-`), `{{SessionNameRaw}}`, `{{AccessKeyID}}` and `{{EC2PrivateDNSName}}` (which
//! needs the session name to be an EC2 instance ID and an EC2 lookup: here the caller supplies
//! the name, or the placeholder stays).

/// What templates are filled from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The caller's account ID.
    pub account: String,
    /// The session name (empty for users).
    pub session_name: String,
    /// The access key ID the request was signed with.
    pub access_key_id: Option<String>,
    /// The private DNS name of the instance the session names, when known.
    pub private_dns_name: Option<String>,
}

/// Why a template cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError(pub &'static str);

/// Renders `template` for `ctx`, in the authenticator's order (EC2 name first, then account,
/// session name, raw session name, access key).
///
/// # Errors
///
/// [`RenderError`] when the template names `{{EC2PrivateDNSName}}` and the session name is not
/// an instance ID (the authenticator then refuses the caller).
pub fn render(template: &str, ctx: &Context) -> Result<String, RenderError> {
    let mut out = template.to_owned();
    if out.contains("{{EC2PrivateDNSName}}") {
        if !instance_id(&ctx.session_name) {
            return Err(RenderError("SessionName did not contain an instance id"));
        }
        if let Some(dns) = &ctx.private_dns_name {
            out = out.replace("{{EC2PrivateDNSName}}", dns);
        }
    }
    out = out
        .replace("{{AccountID}}", &ctx.account)
        .replace("{{SessionName}}", &ctx.session_name.replace('@', "-"))
        .replace("{{SessionNameRaw}}", &ctx.session_name);
    if let Some(key) = &ctx.access_key_id {
        out = out.replace("{{AccessKeyID}}", key);
    }
    Ok(out)
}

/// `^i-(\w{8}|\w{17})$`.
fn instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|id| {
        (id.len() == 8 || id.len() == 17)
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_template() {
        let ctx = Context {
            account: "111122223333".to_owned(),
            session_name: "alice@example.com".to_owned(),
            access_key_id: Some("AKIAEXAMPLE".to_owned()),
            private_dns_name: None,
        };
        assert_eq!(
            render(
                "a:{{AccountID}}:{{SessionName}}:{{SessionNameRaw}}:{{AccessKeyID}}",
                &ctx
            ),
            Ok("a:111122223333:alice-example.com:alice@example.com:AKIAEXAMPLE".to_owned())
        );
    }

    #[test]
    fn the_ec2_name_needs_an_instance_session() {
        let mut ctx = Context {
            session_name: "i-0123456789abcdef0".to_owned(),
            private_dns_name: Some("ip-10-0-0-1.ec2.internal".to_owned()),
            ..Context::default()
        };
        assert_eq!(
            render("system:node:{{EC2PrivateDNSName}}", &ctx),
            Ok("system:node:ip-10-0-0-1.ec2.internal".to_owned())
        );
        ctx.session_name = "alice".to_owned();
        assert!(render("system:node:{{EC2PrivateDNSName}}", &ctx).is_err());
    }
}
