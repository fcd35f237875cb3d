//! A reviewable, idempotent bash script of `aws eks` calls that creates the plan's entries.
//!
//! The script resolves path-less role ARNs through IAM at run time (in the role's own account),
//! refuses to run unless the cluster is in API_AND_CONFIG_MAP mode (it never switches modes),
//! and skips entries that already exist.

use super::common::{self, MANAGED_TAG, PrincipalRef, Rendered, Split};
use crate::access_entry::{AccessPolicy, ScopeType};
use crate::plan::Plan;

/// Functions and checks every script starts with (after the header).
const PRELUDE: &str = r#"set -euo pipefail

CLUSTER_NAME="${CLUSTER_NAME:?set CLUSTER_NAME to the name of the EKS cluster}"
region_args=()
if [[ -n "${AWS_REGION:-}" ]]; then
  region_args=(--region "$AWS_REGION")
fi

# Every AWS call goes through here (adds --region when AWS_REGION is set).
aws_() {
  aws ${region_args[@]+"${region_args[@]}"} "$@"
}

mode="$(aws_ eks describe-cluster --name "$CLUSTER_NAME" --query cluster.accessConfig.authenticationMode --output text)"
case "$mode" in
  API_AND_CONFIG_MAP) ;;
  CONFIG_MAP)
    echo "error: cluster $CLUSTER_NAME is in CONFIG_MAP mode; access entries need API_AND_CONFIG_MAP." >&2
    echo "Switching modes is irreversible and deliberately not part of this script: switch it yourself once you have reviewed the plan, wait for the update to finish, then run this script again." >&2
    exit 1
    ;;
  API)
    echo "error: cluster $CLUSTER_NAME is already in API mode: EKS ignores aws-auth, so this plan is out of date. Plan again." >&2
    exit 1
    ;;
  *)
    echo "error: cluster $CLUSTER_NAME has authentication mode '$mode'; expected API_AND_CONFIG_MAP." >&2
    exit 1
    ;;
esac

caller_account=""
resolved_arn=""

# resolve_role ACCOUNT NAME: sets resolved_arn to the role's full ARN (with its IAM path).
# IAM answers only for the caller's own account, so the role's account must be the caller's.
resolve_role() {
  local account="$1" name="$2"
  if [[ -z "$caller_account" ]]; then
    caller_account="$(aws_ sts get-caller-identity --query Account --output text)"
  fi
  if [[ "$caller_account" != "$account" ]]; then
    echo "error: role $name is in account $account, but these credentials are for account $caller_account: run with credentials for account $account to look up its full ARN (or plan with --facts)." >&2
    exit 1
  fi
  resolved_arn="$(aws_ iam get-role --role-name "$name" --query Role.Arn --output text)"
}

errfile="$(mktemp)"
trap 'rm -f "$errfile"' EXIT
ours=0

# create_entry PRINCIPAL_ARN TYPE [create-access-entry options...]: creates the access entry
# unless one exists already for the principal. Sets ours=1 when the entry is the migrator's
# (created now, or carrying its managed-by tag), so its policies may be associated; an entry
# someone else made is never changed (ours=0).
create_entry() {
  local principal="$1" type="$2" owner err
  shift 2
  if owner="$(aws_ eks describe-access-entry --cluster-name "$CLUSTER_NAME" --principal-arn "$principal" \
    --query 'accessEntry.tags."managed-by"' --output text 2>"$errfile")"; then
    if [[ "$owner" == eks-auth-migrator ]]; then
      ours=1
      echo "exists:  access entry for $principal (created by eks-auth-migrator; completing its policy associations)"
    else
      ours=0
      echo "exists:  access entry for $principal was not created by eks-auth-migrator: left alone (compare it with this plan)"
    fi
    return 0
  fi
  err="$(cat "$errfile")"
  if [[ "$err" != *ResourceNotFoundException* ]]; then
    echo "error: could not check the access entry for $principal: $err" >&2
    exit 1
  fi
  aws_ eks create-access-entry --cluster-name "$CLUSTER_NAME" --principal-arn "$principal" \
    --type "$type" "$@" >/dev/null
  ours=1
  echo "created: access entry for $principal ($type)"
}

# associate_policy PRINCIPAL_ARN POLICY_ARN SCOPE: associates an access policy, retrying while
# a just-created entry is not yet visible (eventual consistency).
associate_policy() {
  local principal="$1" policy="$2" scope="$3" err attempt
  for attempt in 1 2 3 4 5; do
    if err="$(aws_ eks associate-access-policy --cluster-name "$CLUSTER_NAME" --principal-arn "$principal" \
      --policy-arn "$policy" --access-scope "$scope" 2>&1 >/dev/null)"; then
      echo "associated: $policy ($scope) with $principal"
      return 0
    fi
    if [[ "$err" != *ResourceNotFoundException* ]]; then
      break
    fi
    sleep "$((attempt * 2))"
  done
  echo "error: could not associate $policy with $principal: $err" >&2
  exit 1
}
"#;

pub(super) fn render(plan: &Plan) -> String {
    let split = common::split(plan);
    let mut out = String::from("#!/usr/bin/env bash\n");
    let mut header = common::header_lines(plan, "aws-cli script", &split);
    header.push(String::new());
    header.push(
        "Usage: CLUSTER_NAME=my-cluster [AWS_REGION=eu-west-1] bash THIS_SCRIPT (cluster in API_AND_CONFIG_MAP mode)."
            .to_owned(),
    );
    header.push("Safe to re-run: existing entries are never re-created; policies are associated only with entries eks-auth-migrator created (managed-by tag).".to_owned());
    out.push_str(&common::hash_comments(&header));
    out.push('\n');
    out.push_str(PRELUDE);
    out.push_str(&principals_section(&split));
    for (n, rendered) in split.rendered.iter().enumerate() {
        out.push_str(&entry_section(n, rendered));
    }
    out.push_str("\necho \"done: verify the entries before switching the cluster to API mode.\"\n");
    out
}

/// The shell variable holding the principal ARN of the `n`th rendered entry.
fn principal_var(n: usize) -> String {
    format!("principal_{}", n + 1)
}

/// Resolves every principal before anything is created, so a wrong account stops the script
/// before it changes the cluster.
fn principals_section(split: &Split<'_>) -> String {
    if split.rendered.is_empty() {
        return "\n# Nothing to create.\n".to_owned();
    }
    let mut out = String::from("\n# Principals (path-less role ARNs are looked up in IAM).\n");
    for (n, rendered) in split.rendered.iter().enumerate() {
        let var = principal_var(n);
        match &rendered.principal {
            PrincipalRef::Literal(arn) => {
                out.push_str(&format!("{var}={}\n", quote(arn)));
            }
            PrincipalRef::PathlessRole { name, account, .. } => {
                out.push_str(&format!(
                    "resolve_role {} {}\n{var}=\"$resolved_arn\"\n",
                    quote(account),
                    quote(name)
                ));
            }
        }
    }
    out
}

/// The calls for one entry: a comment, create_entry, then one associate_policy per policy.
fn entry_section(n: usize, rendered: &Rendered<'_>) -> String {
    let entry = rendered.entry;
    let var = format!("\"${}\"", principal_var(n));
    let mut out = format!(
        "\n# {}\n# findings: {}\n",
        common::source_text(&entry.source),
        common::finding_codes(entry)
    );
    let mut call = format!("create_entry {var} {}", quote(rendered.entry_type.as_str()));
    if let Some(username) = &entry.username {
        call.push_str(&format!(" --username {}", quote(username)));
    }
    if !entry.kubernetes_groups.is_empty() {
        call.push_str(" --kubernetes-groups");
        for group in &entry.kubernetes_groups {
            call.push(' ');
            call.push_str(&quote(group));
        }
    }
    let (key, value) = MANAGED_TAG;
    call.push_str(&format!(" --tags {}", quote(&format!("{key}={value}"))));
    out.push_str(&call);
    out.push('\n');
    if !entry.access_policies.is_empty() {
        out.push_str("if [[ \"$ours\" == 1 ]]; then\n");
        for policy in &entry.access_policies {
            out.push_str(&format!(
                "  associate_policy {var} {} {}\n",
                quote(&policy.policy_arn),
                quote(&scope_shorthand(policy))
            ));
        }
        out.push_str("fi\n");
    }
    out
}

/// The `--access-scope` shorthand of a policy association.
fn scope_shorthand(policy: &AccessPolicy) -> String {
    match policy.access_scope.scope_type {
        ScopeType::Cluster => "type=cluster".to_owned(),
        ScopeType::Namespace => format!(
            "type=namespace,namespaces={}",
            policy.access_scope.namespaces.join(",")
        ),
    }
}

/// Single-quotes a value for bash (`'` becomes `'\''`).
fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::super::common::fixtures::{cross_account_plan, sample_plan};
    use super::render;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    const ACCOUNT: &str = "111122223333";

    /// A stand-in for the AWS CLI: logs each call's arguments (tab-separated, one line per
    /// call) and answers the calls the script makes.
    const FAKE_AWS: &str = r#"#!/usr/bin/env bash
(IFS=$'\t'; printf '%s\n' "$*") >> "$FAKE_AWS_LOG"
if [[ "$1" == --region ]]; then shift 2; fi
value_of() {
  local want="$1"; shift
  while [[ $# -gt 0 ]]; do
    if [[ "$1" == "$want" ]]; then echo "$2"; return; fi
    shift
  done
}
case "$1 $2" in
  "eks describe-cluster") echo "$FAKE_MODE" ;;
  "sts get-caller-identity") echo "$FAKE_ACCOUNT" ;;
  "iam get-role")
    name="$(value_of --role-name "$@")"
    if [[ "$name" == AWSReservedSSO_* ]]; then path=aws-reserved/sso.amazonaws.com/eu-west-1/; else path=team/; fi
    echo "arn:aws:iam::$FAKE_ACCOUNT:role/$path$name" ;;
  "eks describe-access-entry")
    principal="$(value_of --principal-arn "$@")"
    if [[ " ${FAKE_EXISTING:-} " == *" $principal "* ]]; then
      if [[ " ${FAKE_OURS:-} " == *" $principal "* ]]; then echo eks-auth-migrator; else echo None; fi
    else
      echo "An error occurred (ResourceNotFoundException) when calling the DescribeAccessEntry operation: The specified access entry resource is not found." >&2
      exit 254
    fi ;;
  *) echo '{}' ;;
esac
"#;

    struct Run {
        output: Output,
        calls: Vec<Vec<String>>,
    }

    struct Sandbox {
        dir: tempfile::TempDir,
    }

    impl Sandbox {
        fn new() -> Self {
            let dir = tempfile::tempdir().expect("tempdir");
            let bin = dir.path().join("bin");
            std::fs::create_dir(&bin).expect("bin dir");
            let aws = bin.join("aws");
            std::fs::write(&aws, FAKE_AWS).expect("fake aws");
            make_executable(&aws);
            Sandbox { dir }
        }

        fn script(&self, text: &str) -> PathBuf {
            let path = self.dir.path().join("migrate.sh");
            std::fs::write(&path, text).expect("script");
            path
        }

        /// Runs a script with the fake `aws` first on PATH.
        fn run(&self, script: &str, env: &[(&str, &str)]) -> Run {
            let log = self.dir.path().join("calls.log");
            let _ = std::fs::remove_file(&log);
            let path = format!(
                "{}:{}",
                self.dir.path().join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            );
            let mut command = Command::new("bash");
            command
                .arg(self.script(script))
                .current_dir(self.dir.path())
                .env("PATH", path)
                .env("FAKE_AWS_LOG", &log)
                .env("FAKE_MODE", "API_AND_CONFIG_MAP")
                .env("FAKE_ACCOUNT", ACCOUNT)
                .env("CLUSTER_NAME", "prod")
                .env_remove("AWS_REGION")
                .env_remove("FAKE_EXISTING");
            for (key, value) in env {
                command.env(key, value);
            }
            let output = command.output().expect("run bash");
            let calls = std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .map(|line| line.split('\t').map(str::to_owned).collect())
                .collect();
            Run { output, calls }
        }
    }

    #[cfg(unix)]
    fn make_executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    #[cfg(not(unix))]
    fn make_executable(_path: &Path) {}

    fn call(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| (*a).to_owned()).collect()
    }

    fn role(path_and_name: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:role/{path_and_name}")
    }

    fn get_role(name: &str) -> Vec<String> {
        call(&[
            "iam",
            "get-role",
            "--role-name",
            name,
            "--query",
            "Role.Arn",
            "--output",
            "text",
        ])
    }

    fn describe_entry(principal: &str) -> Vec<String> {
        call(&[
            "eks",
            "describe-access-entry",
            "--cluster-name",
            "prod",
            "--principal-arn",
            principal,
            "--query",
            "accessEntry.tags.\"managed-by\"",
            "--output",
            "text",
        ])
    }

    fn create_entry(principal: &str, rest: &[&str]) -> Vec<String> {
        let mut args = call(&[
            "eks",
            "create-access-entry",
            "--cluster-name",
            "prod",
            "--principal-arn",
            principal,
            "--type",
        ]);
        args.extend(call(rest));
        args.extend(call(&["--tags", "managed-by=eks-auth-migrator"]));
        args
    }

    fn associate(principal: &str, policy: &str, scope: &str) -> Vec<String> {
        call(&[
            "eks",
            "associate-access-policy",
            "--cluster-name",
            "prod",
            "--principal-arn",
            principal,
            "--policy-arn",
            &format!("arn:aws:eks::aws:cluster-access-policy/{policy}"),
            "--access-scope",
            scope,
        ])
    }

    fn describe_cluster() -> Vec<String> {
        call(&[
            "eks",
            "describe-cluster",
            "--name",
            "prod",
            "--query",
            "cluster.accessConfig.authenticationMode",
            "--output",
            "text",
        ])
    }

    fn stderr(run: &Run) -> String {
        String::from_utf8_lossy(&run.output.stderr).into_owned()
    }

    fn stdout(run: &Run) -> String {
        String::from_utf8_lossy(&run.output.stdout).into_owned()
    }

    fn assert_success(run: &Run) {
        assert!(
            run.output.status.success(),
            "script failed: {:?}\nstdout:\n{}\nstderr:\n{}",
            run.output.status,
            stdout(run),
            stderr(run)
        );
    }

    #[test]
    fn script_is_valid_bash() {
        for plan in [sample_plan(), cross_account_plan()] {
            let sandbox = Sandbox::new();
            let script = sandbox.script(&render(&plan));
            let output = Command::new("bash")
                .arg("-n")
                .arg(&script)
                .output()
                .expect("bash -n");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    #[test]
    fn header_lists_verdict_summary_and_rows_not_created() {
        let script = render(&sample_plan());
        assert!(script.starts_with("#!/usr/bin/env bash\n"));
        assert!(script.contains("\nset -euo pipefail\n"));
        assert!(script.contains("# REVIEW BEFORE APPLYING"));
        assert!(script.contains("# blocks_api_mode: true"));
        assert!(script.contains("# summary: 4 create, 1 skip, 1 blocked;"));
        assert!(script.contains(
            "#   mapRoles[3] line 10 (arn:aws:iam::111122223333:role/team/pathed): skip [DEAD_ROLE_PATH]"
        ));
        assert!(script.contains(
            "#   mapRoles[4] line 13 (arn:aws:iam::111122223333:role/weird): blocked [SYSTEM_GROUP]"
        ));
        assert!(script.contains("# mapRoles[1] line 4 (arn:aws:iam::111122223333:role/admin)\n# findings: MASTERS_TO_CLUSTER_ADMIN\n"));
        assert!(!script.contains("'weird'"), "blocked rows are not rendered");
        assert!(
            !script.contains("role/team/pathed'"),
            "skipped rows are not rendered"
        );
    }

    #[test]
    fn creates_entries_with_resolved_arns_in_order() {
        let sandbox = Sandbox::new();
        let run = sandbox.run(&render(&sample_plan()), &[]);
        assert_success(&run);
        let sso = role("aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123abcd");
        let bob = "arn:aws:iam::111122223333:user/dev/bob";
        let expected = vec![
            describe_cluster(),
            call(&[
                "sts",
                "get-caller-identity",
                "--query",
                "Account",
                "--output",
                "text",
            ]),
            get_role("nodes"),
            get_role("admin"),
            get_role("AWSReservedSSO_Dev_0123abcd"),
            describe_entry(&role("team/nodes")),
            create_entry(&role("team/nodes"), &["EC2_LINUX"]),
            describe_entry(&role("team/admin")),
            create_entry(
                &role("team/admin"),
                &[
                    "STANDARD",
                    "--username",
                    "admin:{{SessionName}}",
                    "--kubernetes-groups",
                    "platform",
                ],
            ),
            associate(
                &role("team/admin"),
                "AmazonEKSClusterAdminPolicy",
                "type=cluster",
            ),
            describe_entry(&sso),
            create_entry(
                &sso,
                &[
                    "STANDARD",
                    "--username",
                    "dev:{{SessionName}}",
                    "--kubernetes-groups",
                    "developers",
                ],
            ),
            describe_entry(bob),
            create_entry(
                bob,
                &[
                    "STANDARD",
                    "--username",
                    "bob",
                    "--kubernetes-groups",
                    "viewers",
                ],
            ),
            associate(
                bob,
                "AmazonEKSViewPolicy",
                "type=namespace,namespaces=team-a,team-b-*",
            ),
        ];
        assert_eq!(run.calls, expected);
        assert!(stdout(&run).contains(&format!("created: access entry for {bob} (STANDARD)")));
    }

    #[test]
    fn never_changes_existing_entries_it_did_not_create() {
        let sandbox = Sandbox::new();
        let bob = "arn:aws:iam::111122223333:user/dev/bob";
        let run = sandbox.run(&render(&sample_plan()), &[("FAKE_EXISTING", bob)]);
        assert_success(&run);
        let touching_bob: Vec<&Vec<String>> = run
            .calls
            .iter()
            .filter(|c| c[1] != "describe-access-entry" && c.iter().any(|a| a == bob))
            .collect();
        assert!(
            touching_bob.is_empty(),
            "foreign entry changed: {touching_bob:?}"
        );
        let creates = run
            .calls
            .iter()
            .filter(|c| c[1] == "create-access-entry")
            .count();
        assert_eq!(creates, 3);
        assert!(stdout(&run).contains(&format!(
            "exists:  access entry for {bob} was not created by eks-auth-migrator: left alone"
        )));
    }

    #[test]
    fn completes_its_own_existing_entries() {
        let sandbox = Sandbox::new();
        let bob = "arn:aws:iam::111122223333:user/dev/bob";
        let run = sandbox.run(
            &render(&sample_plan()),
            &[("FAKE_EXISTING", bob), ("FAKE_OURS", bob)],
        );
        assert_success(&run);
        assert!(
            run.calls
                .iter()
                .all(|c| !(c[1] == "create-access-entry" && c.iter().any(|a| a == bob)))
        );
        assert_eq!(
            run.calls.last(),
            Some(&associate(
                bob,
                "AmazonEKSViewPolicy",
                "type=namespace,namespaces=team-a,team-b-*"
            ))
        );
        assert!(
            stdout(&run)
                .contains("created by eks-auth-migrator; completing its policy associations")
        );
    }

    #[test]
    fn refuses_unless_api_and_config_map() {
        for (mode, says) in [
            ("CONFIG_MAP", "is in CONFIG_MAP mode"),
            ("API", "is already in API mode"),
            ("None", "has authentication mode 'None'"),
        ] {
            let sandbox = Sandbox::new();
            let run = sandbox.run(&render(&sample_plan()), &[("FAKE_MODE", mode)]);
            assert_eq!(run.output.status.code(), Some(1), "{mode}");
            assert!(stderr(&run).contains(says), "{mode}: {}", stderr(&run));
            assert_eq!(run.calls, vec![describe_cluster()], "{mode}");
        }
    }

    #[test]
    fn requires_cluster_name() {
        let sandbox = Sandbox::new();
        let run = sandbox.run(&render(&sample_plan()), &[("CLUSTER_NAME", "")]);
        assert!(!run.output.status.success());
        assert!(
            stderr(&run).contains("set CLUSTER_NAME"),
            "{}",
            stderr(&run)
        );
        assert!(run.calls.is_empty());
    }

    #[test]
    fn passes_the_region_when_set() {
        let sandbox = Sandbox::new();
        let run = sandbox.run(&render(&sample_plan()), &[("AWS_REGION", "eu-west-1")]);
        assert_success(&run);
        assert!(!run.calls.is_empty());
        assert!(
            run.calls
                .iter()
                .all(|c| c[0] == "--region" && c[1] == "eu-west-1")
        );
    }

    #[test]
    fn refuses_roles_of_another_account_before_creating_anything() {
        let sandbox = Sandbox::new();
        let run = sandbox.run(&render(&cross_account_plan()), &[]);
        assert_eq!(run.output.status.code(), Some(1));
        assert!(
            stderr(&run).contains("run with credentials for account 444455556666"),
            "{}",
            stderr(&run)
        );
        assert!(
            !run.calls
                .iter()
                .any(|c| c[1] == "create-access-entry" || c[1] == "get-role" && c[3] == "ci")
        );
        let identity_calls = run
            .calls
            .iter()
            .filter(|c| c[1] == "get-caller-identity")
            .count();
        assert_eq!(identity_calls, 1, "the caller's account is looked up once");
    }

    #[test]
    fn values_are_quoted_safely() {
        let mut plan = sample_plan();
        let nasty = "o'brien:{{SessionName}} $(touch pwned) `touch pwned2` \"x\" ${HOME}";
        let admin = plan
            .entries
            .iter_mut()
            .find(|e| e.username.as_deref() == Some("admin:{{SessionName}}"))
            .expect("admin");
        admin.username = Some(nasty.to_owned());
        admin.kubernetes_groups = vec!["it's".to_owned(), "a b".to_owned()];
        let sandbox = Sandbox::new();
        let run = sandbox.run(&render(&plan), &[]);
        assert_success(&run);
        let create = run
            .calls
            .iter()
            .find(|c| c[1] == "create-access-entry" && c[5] == role("team/admin"))
            .expect("admin created");
        assert_eq!(
            &create[8..13],
            &call(&["--username", nasty, "--kubernetes-groups", "it's", "a b"])[..]
        );
        assert!(!sandbox.dir.path().join("pwned").exists());
        assert!(!sandbox.dir.path().join("pwned2").exists());
    }

    #[test]
    fn an_empty_plan_only_checks_the_cluster() {
        let plan = super::super::common::fixtures::plan_of(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapAccounts: |\n    - \"444455556666\"\n",
        );
        let sandbox = Sandbox::new();
        let script = render(&plan);
        assert!(script.contains("# Nothing to create."));
        let run = sandbox.run(&script, &[]);
        assert_success(&run);
        assert_eq!(run.calls, vec![describe_cluster()]);
    }

    /// Runs shellcheck when it is installed (`apt-get install -y shellcheck`); skipped otherwise,
    /// except under `EAM_REQUIRE_TOOLS=1` (scripts/test installs it), where its absence fails.
    #[test]
    fn shellcheck_is_clean_when_available() {
        let Ok(version) = Command::new("shellcheck").arg("--version").output() else {
            assert!(
                std::env::var("EAM_REQUIRE_TOOLS").as_deref() != Ok("1"),
                "shellcheck is missing and EAM_REQUIRE_TOOLS=1 (scripts/test installs it)"
            );
            eprintln!("note: shellcheck is not on PATH; skipping (apt-get install -y shellcheck)");
            return;
        };
        assert!(version.status.success());
        for plan in [sample_plan(), cross_account_plan()] {
            let sandbox = Sandbox::new();
            let script = sandbox.script(&render(&plan));
            let output = Command::new("shellcheck")
                .args(["--shell=bash", "--severity=style"])
                .arg(&script)
                .output()
                .expect("shellcheck");
            assert!(
                output.status.success(),
                "shellcheck:\n{}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
    }
}
