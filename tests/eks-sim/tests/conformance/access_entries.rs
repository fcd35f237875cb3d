//! Access-entry CRUD and its validation rules.

use crate::helpers::*;

#[tokio::test]
async fn entry_calls_are_refused_in_config_map_mode() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let expected = "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.";
    let (code, message) = code_and_message(
        eks.list_access_entries()
            .cluster_name("legacy")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidRequestException", expected)
    );
    let (code, message) = code_and_message(
        eks.create_access_entry()
            .cluster_name("legacy")
            .principal_arn(role("team"))
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidRequestException", expected)
    );
}

#[tokio::test]
async fn create_describe_update_delete_round_trip() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let created = eks
        .create_access_entry()
        .cluster_name("hybrid")
        .principal_arn(role("team"))
        .kubernetes_groups("team-editors")
        .username("team:{{SessionName}}")
        .send()
        .await?;
    let e = created.access_entry().expect("entry");
    assert_eq!(e.r#type(), Some("STANDARD"));
    assert_eq!(e.username(), Some("team:{{SessionName}}"));
    assert_eq!(e.kubernetes_groups(), ["team-editors"]);
    assert!(e.access_entry_arn().is_some_and(|a| {
        a.starts_with("arn:aws:eks:us-east-1:111122223333:access-entry/hybrid/role/")
    }));

    let updated = eks
        .update_access_entry()
        .cluster_name("hybrid")
        .principal_arn(role("team"))
        .kubernetes_groups("a")
        .kubernetes_groups("b")
        .send()
        .await?;
    assert_eq!(
        updated.access_entry().expect("entry").kubernetes_groups(),
        ["a", "b"]
    );

    eks.delete_access_entry()
        .cluster_name("hybrid")
        .principal_arn(role("team"))
        .send()
        .await?;
    let (code, _) = code_and_message(
        eks.describe_access_entry()
            .cluster_name("hybrid")
            .principal_arn(role("team"))
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    Ok(())
}

#[tokio::test]
async fn default_usernames_are_the_arn_or_the_assumed_role_session() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let r = eks
        .create_access_entry()
        .cluster_name("modern")
        .principal_arn(role("team"))
        .send()
        .await?;
    assert_eq!(
        r.access_entry().and_then(|e| e.username()),
        Some("arn:aws:sts::111122223333:assumed-role/team/{{SessionName}}")
    );
    let user = "arn:aws:iam::111122223333:user/u-1";
    let u = eks
        .create_access_entry()
        .cluster_name("modern")
        .principal_arn(user)
        .send()
        .await?;
    assert_eq!(u.access_entry().and_then(|e| e.username()), Some(user));
    Ok(())
}

#[tokio::test]
async fn duplicate_entry_is_409() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    create_entry(&eks, "modern", role("team")).await?;
    let result = eks
        .create_access_entry()
        .cluster_name("modern")
        .principal_arn(role("team"))
        .send()
        .await;
    let raw_status = result
        .as_ref()
        .err()
        .and_then(|e| e.raw_response())
        .map(|r| r.status().as_u16());
    assert_eq!(raw_status, Some(409));
    let (code, message) = code_and_message(result);
    assert_eq!(code, "ResourceInUseException");
    assert_eq!(
        message,
        "The specified access entry resource is already in use on this cluster."
    );
    Ok(())
}

#[tokio::test]
async fn system_groups_are_refused() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let (code, message) = code_and_message(
        eks.create_access_entry()
            .cluster_name("modern")
            .principal_arn(role("team"))
            .kubernetes_groups("system:masters")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "The kubernetes group name system:masters is invalid, it cannot start with system:"
    );
}

#[tokio::test]
async fn reserved_username_prefixes_and_templates_are_refused() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    for (username, expected) in [
        ("system:admin", "The username must not begin with system:"),
        ("eks:thing", "The username must not begin with eks:"),
        ("aws:thing", "The username must not begin with aws:"),
        ("amazon:thing", "The username must not begin with amazon:"),
        ("iam:thing", "The username must not begin with iam:"),
    ] {
        let (code, message) = code_and_message(
            eks.create_access_entry()
                .cluster_name("modern")
                .principal_arn(role("team"))
                .username(username)
                .send()
                .await,
        );
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("InvalidParameterException", expected)
        );
    }
    for username in [
        "{{SessionName}}",
        "{{SessionNameRaw}}",
        "mail-{{SessionNameRaw}}:x",
    ] {
        let (code, _) = code_and_message(
            eks.create_access_entry()
                .cluster_name("modern")
                .principal_arn(role("team"))
                .username(username)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidParameterException", "{username}");
    }
}

#[tokio::test]
async fn session_name_raw_after_a_colon_is_accepted_and_kept() -> TestResult {
    // EKS user guide, set-custom-username: {{SessionNameRaw}} (keeps `@`) like {{SessionName}},
    // with a colon before it.
    let sim = sim().await;
    let eks = eks(&sim).await;
    eks.create_access_entry()
        .cluster_name("modern")
        .principal_arn(role("team"))
        .username("team:{{SessionNameRaw}}")
        .send()
        .await?;
    let described = eks
        .describe_access_entry()
        .cluster_name("modern")
        .principal_arn(role("team"))
        .send()
        .await?;
    assert_eq!(
        described.access_entry().and_then(|e| e.username()),
        Some("team:{{SessionNameRaw}}")
    );
    Ok(())
}

#[tokio::test]
async fn path_stripped_missing_and_sts_principals_are_invalid() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let stripped = "arn:aws:iam::111122223333:role/AWSReservedSSO_Admin_0123456789abcdef";
    for arn in [
        stripped,
        "arn:aws:iam::111122223333:role/does-not-exist",
        "arn:aws:sts::111122223333:assumed-role/team/session",
    ] {
        let (code, message) = code_and_message(
            eks.create_access_entry()
                .cluster_name("modern")
                .principal_arn(arn)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidParameterException", "{arn}");
        assert_eq!(
            message, "The specified principalArn is invalid: invalid principal.",
            "{arn}"
        );
    }
}

#[tokio::test]
async fn full_sso_role_arn_with_path_is_accepted() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    create_entry(&eks, "modern", SSO_ROLE).await?;
    Ok(())
}

#[tokio::test]
async fn service_linked_roles_are_refused() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let (code, message) = code_and_message(
        eks.create_access_entry()
            .cluster_name("modern")
            .principal_arn("arn:aws:iam::111122223333:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role"
    );
}

#[tokio::test]
async fn cross_account_principals_only_for_standard_entries() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let partner = format!("arn:aws:iam::{PARTNER}:role/partner");
    let (code, _) = code_and_message(
        eks.create_access_entry()
            .cluster_name("modern")
            .principal_arn(&partner)
            .r#type("EC2_LINUX")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    create_entry(&eks, "modern", &partner).await?;
    Ok(())
}

#[tokio::test]
async fn non_standard_entries_take_no_groups_or_username() {
    let sim = sim().await;
    let eks = eks(&sim).await;
    let (code, _) = code_and_message(
        eks.create_access_entry()
            .cluster_name("modern")
            .principal_arn(role("team"))
            .r#type("EC2_LINUX")
            .kubernetes_groups("nodes")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let (code, _) = code_and_message(
        eks.create_access_entry()
            .cluster_name("modern")
            .principal_arn(role("team"))
            .r#type("NOT_A_TYPE")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
}

#[tokio::test]
async fn list_access_entries_paginates_at_most_100() -> TestResult {
    let sim = sim().await;
    let eks = eks(&sim).await;
    for u in 0..150 {
        create_entry(
            &eks,
            "modern",
            format!("arn:aws:iam::111122223333:user/u-{u}"),
        )
        .await?;
    }
    let first = eks
        .list_access_entries()
        .cluster_name("modern")
        .send()
        .await?;
    assert_eq!(first.access_entries().len(), 100);
    let token = first.next_token().expect("second page");
    let second = eks
        .list_access_entries()
        .cluster_name("modern")
        .next_token(token)
        .send()
        .await?;
    // 150 users + the node-group and Fargate entries EKS made for this API-mode cluster.
    assert_eq!(second.access_entries().len(), 52);
    assert_eq!(second.next_token(), None);
    let (code, _) = code_and_message(
        eks.list_access_entries()
            .cluster_name("modern")
            .max_results(101)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    Ok(())
}
