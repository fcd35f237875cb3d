//! The fleet report over the fixture fleet: the fixture is what its generator makes, the JSON
//! validates against docs/report.schema.json (whole and filtered), every human renderer's full
//! output for the fixture (snapshots under tests/snapshots/), and hostile customer values escaped
//! in every format.

mod common;

use common::fleet::NOW_MS;
use eks_auth_core::finding::FindingCode;
use eks_auth_core::owner::kind::{AwsAuthOwnerKind, ClusterOwnerKind};
use eks_auth_core::report::owner_model::OwnerStatus;
use eks_auth_core::report::owner_selector::OwnerSelector;
use eks_auth_core::report::{self, Filter, FleetReport, Format, RenderOptions};
use eks_auth_core::state::Phase;

const SCHEMA: &str = include_str!("../../../docs/report.schema.json");

fn fixture_report(filter: &Filter) -> FleetReport {
    report::build(&common::fixture(), filter, NOW_MS)
}

fn render(report: &FleetReport, format: Format, width: Option<u16>) -> String {
    report::render(
        report,
        format,
        RenderOptions {
            color: false,
            width,
        },
    )
    .expect("renders")
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn violations(json: &serde_json::Value) -> Vec<String> {
    validator()
        .iter_errors(json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn the_fixture_is_what_its_generator_makes() {
    let made = serde_json::to_string_pretty(&common::fleet::input()).expect("serializes") + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fleet.json");
    if std::env::var("EAM_UPDATE_FIXTURES").as_deref() == Ok("1") {
        std::fs::write(path, &made).expect("write the fixture");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == made,
        "tests/fixtures/fleet.json is stale: EAM_UPDATE_FIXTURES=1 cargo test -p eks-auth-core --test report, then review the diff"
    );
}

#[test]
fn json_reports_conform_to_the_schema() {
    let filters = [
        Filter::default(),
        Filter {
            accounts: vec![common::fleet::SHARED.to_owned()],
            ..Filter::default()
        },
        Filter {
            phases: vec![Phase::Blocked, Phase::Failed { retryable: false }],
            codes: vec![FindingCode::MapAccounts],
            ..Filter::default()
        },
        Filter {
            principal: Some("platform-admin".to_owned()),
            ..Filter::default()
        },
        Filter {
            regions: vec!["nowhere-1".to_owned()],
            ..Filter::default()
        },
        Filter {
            owners: vec![
                OwnerSelector::AwsAuth(AwsAuthOwnerKind::ArgoCd),
                OwnerSelector::None,
            ],
            ..Filter::default()
        },
    ];
    for filter in filters {
        let json = render(&fixture_report(&filter), Format::Json, None);
        let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let errors = violations(&value);
        assert!(errors.is_empty(), "{filter:?}: {errors:#?}");
        let back: FleetReport = serde_json::from_value(value).expect("reads back");
        assert_eq!(back, fixture_report(&filter));
    }
}

#[test]
fn the_schema_rejects_what_the_contract_forbids() {
    let good = serde_json::to_value(fixture_report(&Filter::default())).expect("json");
    assert!(violations(&good).is_empty());
    type Mutation = fn(&mut serde_json::Value);
    let mutations: [(&str, Mutation); 5] = [
        ("another version", |v| v["format_version"] = 2.into()),
        ("an unknown phase", |v| {
            v["clusters"][0]["phase"] = "MIGRATING".into()
        }),
        ("an unknown via", |v| {
            v["access"]["principals"][0]["clusters"][0]["via"] = "sso".into()
        }),
        ("an empty blocker group", |v| {
            v["blockers"][0]["affected"] = serde_json::json!([])
        }),
        ("a local time", |v| {
            v["generated_at"] = "2026-12-01 00:00".into()
        }),
    ];
    for (what, mutate) in mutations {
        let mut bad = good.clone();
        mutate(&mut bad);
        assert!(!violations(&bad).is_empty(), "the schema accepts {what}");
    }
}

#[test]
fn the_schema_lists_exactly_the_finding_codes_and_phases() {
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    let list = |name: &str| -> Vec<String> {
        schema["$defs"][name]["enum"]
            .as_array()
            .expect("enum")
            .iter()
            .map(|v| v.as_str().expect("string").to_owned())
            .collect()
    };
    let codes: Vec<String> = FindingCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(list("code"), codes);
    let phases: Vec<String> = Phase::ALL.iter().map(|p| p.as_str().to_owned()).collect();
    assert_eq!(list("phase"), phases);
    let owners: Vec<String> = OwnerSelector::all()
        .iter()
        .map(|o| o.name().to_owned())
        .collect();
    assert_eq!(list("owner_selector"), owners);
}

/// The fixture's owners (tests/common/fleet.rs `owners_of`): payments' aws-auth is Argo CD's and
/// blocks, prod-us's terraform-aws-eks module is accepted, shared-tools has no owner, every
/// other cluster's owner is unknown (files without managedFields, or never planned).
#[test]
fn the_report_groups_clusters_by_owner_and_filters_by_owner() {
    let whole = fixture_report(&Filter::default());
    let group = |owner: &str| -> Vec<(String, OwnerStatus)> {
        whole
            .owners
            .iter()
            .find(|g| g.owner == owner)
            .unwrap_or_else(|| panic!("no {owner} group in {:#?}", whole.owners))
            .clusters
            .iter()
            .map(|c| (c.name.clone(), c.status))
            .collect()
    };
    assert_eq!(
        group("argo_cd"),
        [("payments".to_owned(), OwnerStatus::Blocked)]
    );
    assert_eq!(
        group("terraform_aws_eks"),
        [("prod-us".to_owned(), OwnerStatus::Accepted)]
    );
    assert_eq!(
        group("none"),
        [("shared-tools".to_owned(), OwnerStatus::NotBlocking)]
    );
    let unknown = group("unknown");
    assert_eq!(unknown.len(), whole.clusters.len() - 3, "{unknown:?}");
    assert_eq!(
        whole.owners[0].owner, "argo_cd",
        "the blocking owner comes first"
    );
    assert_eq!(whole.owners[0].blocked, 1);
    assert!(
        whole.owners[0]
            .what_to_change
            .contains("Argo CD Application")
    );
    assert!(
        whole.owners[0].clusters[0]
            .owner
            .as_deref()
            .is_some_and(|o| o.contains("platform-aws-auth"))
    );

    let argo = fixture_report(&Filter {
        owners: vec![OwnerSelector::AwsAuth(AwsAuthOwnerKind::ArgoCd)],
        ..Filter::default()
    });
    let names: Vec<&str> = argo.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["payments"]);
    let owned = fixture_report(&Filter {
        owners: vec![
            OwnerSelector::Cluster(ClusterOwnerKind::TerraformAwsEks),
            OwnerSelector::None,
        ],
        ..Filter::default()
    });
    let mut names: Vec<&str> = owned.clusters.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["prod-us", "shared-tools"]);
    insta::assert_snapshot!("markdown_owned", render(&owned, Format::Markdown, None));
}

#[test]
fn snapshots_of_every_format_for_the_fixture() {
    let whole = fixture_report(&Filter::default());
    insta::assert_snapshot!("table_100", render(&whole, Format::Table, Some(100)));
    insta::assert_snapshot!("markdown", render(&whole, Format::Markdown, None));
    insta::assert_snapshot!("csv_clusters", render(&whole, Format::Csv, None));
    insta::assert_snapshot!("csv_inventory", render(&whole, Format::CsvInventory, None));
    let alice = fixture_report(&Filter {
        principal: Some("arn:aws:iam::111122223333:user/alice".to_owned()),
        ..Filter::default()
    });
    insta::assert_snapshot!(
        "table_80_principal",
        render(&alice, Format::Table, Some(80))
    );
}

#[test]
fn the_report_table_fits_80_100_and_120_columns_without_slicing_a_value() {
    let whole = fixture_report(&Filter::default());
    for width in [80u16, 100, 120] {
        let out = render(&whole, Format::Table, Some(width));
        for line in out.lines() {
            assert!(
                line.chars().count() <= usize::from(width),
                "wider than {width}: {line}"
            );
        }
        for c in &whole.clusters {
            for value in [&c.account, &c.region, &c.name] {
                assert!(
                    out.lines().any(|l| l.contains(value.as_str())),
                    "{value} sliced at {width}"
                );
            }
        }
        for p in &whole.access.principals {
            let name = p.principal_arn.rsplit('/').next().expect("a name");
            assert!(
                out.lines().any(|l| l.contains(name)),
                "{name} sliced at {width}"
            );
        }
    }
}

#[test]
fn hostile_values_are_text_in_every_format() {
    use common::hostile::{CLUSTER, ERROR, PRINCIPAL};
    let report = report::build(&common::hostile::input(), &Filter::default(), NOW_MS);

    // JSON: the values round-trip exactly.
    let json = render(&report, Format::Json, None);
    let back: FleetReport = serde_json::from_str(&json).expect("JSON");
    assert_eq!(back, report);
    assert!(back.clusters.iter().any(|c| c.name == CLUSTER));

    // CSV: a reader gets every value back, formulas neutralised with a leading quote.
    let csv_text = render(&report, Format::Csv, None);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    assert_eq!(rows.len(), report.clusters.len());
    let evil = rows
        .iter()
        .find(|r| &r[2] == CLUSTER)
        .expect("the hostile cluster's row");
    assert_eq!(
        &evil[27],
        format!("'{ERROR}"),
        "the formula is neutralised, the rest kept"
    );
    let inventory = render(&report, Format::CsvInventory, None);
    let mut reader = csv::Reader::from_reader(inventory.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    let evil = rows
        .iter()
        .find(|r| &r[0] == PRINCIPAL)
        .expect("the hostile principal's row");
    assert_eq!(&evil[7], "'@SUM(1+1)");
    assert_eq!(
        rows.len(),
        report.headline.principals.grants
            + report
                .access
                .named_without_access
                .iter()
                .map(|p| p.cluster_count)
                .sum::<usize>()
    );

    // Markdown: every table row has exactly its columns' unescaped pipes; no raw markup.
    let md = render(&report, Format::Markdown, None);
    for line in md.lines() {
        let prose = outside_code_spans(line).replace("<br>", "");
        let raw = prose
            .match_indices('<')
            .any(|(i, _)| !prose[..i].ends_with('\\'));
        assert!(!raw, "markup outside a code span: {line}");
    }
    let mut header_pipes = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let pipes = unescaped_pipes(line);
            if line.starts_with("|---") || header_pipes.is_none() {
                header_pipes = Some(pipes);
            }
            assert_eq!(
                Some(pipes),
                header_pipes,
                "a cell broke out of its table: {line}"
            );
        } else {
            header_pipes = None;
        }
    }
    assert!(
        md.contains("evil\\<script\\>alert(1)\\</script\\>")
            || md.contains("`` evil<script>alert(1)</script>\\|`x` ``"),
        "{md}"
    );

    // HTML: no element from the values (the browser test loads it too).
    let html = render(&report, Format::Html, None);
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(
        !html.contains("<img") && !html.contains("<svg onload") && !html.contains("<b onmouseover")
    );
    assert!(html.contains("evil&lt;script&gt;alert(1)&lt;/script&gt;|`x`"));

    // Terminal: control characters from the values do not reach the terminal.
    let table = render(&report, Format::Table, Some(100));
    assert!(!table.contains('\u{1b}'));
}

/// A Markdown line without its code spans (a run of backticks up to the same run).
fn outside_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let run = rest[start..].chars().take_while(|c| *c == '`').count();
        let fence = "`".repeat(run);
        let after = &rest[start + run..];
        match after.find(fence.as_str()) {
            Some(end) => rest = &after[end + run..],
            None => {
                out.push_str(&rest[start..]);
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Pipes in a Markdown table line that are not escaped with a backslash.
fn unescaped_pipes(line: &str) -> usize {
    let mut count = 0;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => count += 1,
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    count
}
