//! `export` over the fixture fleet (tests/common/fleet.rs): each planned cluster's recorded
//! handoff survives the table's JSON and renders exactly as the plan's own handoff does, in its
//! owner's format; clusters without a handoff and forged names are refused with why, and no
//! file name can leave the directory.

mod common;

use eks_auth_core::export::{ExportOptions, export_cluster, format_for};
use eks_auth_core::inventory::ClusterInventory;
use eks_auth_core::render::owner_format::{EksModule, OwnerFormat};
use eks_auth_core::render::render_owner;
use eks_auth_core::report::input::ClusterView;
use std::path::{Component, Path};

fn options() -> ExportOptions {
    ExportOptions {
        default_format: OwnerFormat::Terraform,
        module: EksModule::default(),
    }
}

fn fleet() -> Vec<ClusterView> {
    common::fleet::input().clusters
}

fn view(name: &str) -> ClusterView {
    fleet()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no {name} in the fixture"))
}

#[test]
fn every_planned_cluster_exports_its_recorded_handoff_in_its_owners_format() {
    for cluster in fleet() {
        let Some(inventory) = &cluster.inventory else {
            let refused = export_cluster(&cluster, &options()).expect_err(&cluster.name);
            assert!(refused.reason.contains("never planned"), "{refused:?}");
            continue;
        };
        // What the table holds, read back: the same handoff.
        let stored: ClusterInventory =
            serde_json::from_str(&serde_json::to_string(inventory).expect("serializes"))
                .expect("reads back");
        assert_eq!(stored.handoff, inventory.handoff, "{}", cluster.name);
        let handoff = stored.handoff.as_ref().expect("recorded by from_plan");
        let exported = export_cluster(&cluster, &options()).expect(&cluster.name);
        let (format, _) = format_for(cluster.owners.as_ref(), &options());
        let rendering = render_owner(handoff, &format);
        assert_eq!(exported.files[0].text, rendering.text, "{}", cluster.name);
        for file in &exported.files {
            let components: Vec<Component<'_>> = Path::new(&file.name).components().collect();
            assert!(
                matches!(components.as_slice(), [Component::Normal(_)]),
                "{}",
                file.name
            );
            assert!(file.name.starts_with(&format!(
                "{}_{}_{}.",
                cluster.account, cluster.region, cluster.name
            )));
        }
        // Every declared entry is in the file, by principal.
        for entry in &handoff.entries {
            assert!(
                exported.files[0].text.contains(&entry.principal_arn)
                    || !handoff.principals_resolved,
                "{}: {} missing",
                cluster.name,
                entry.principal_arn
            );
        }
    }
}

#[test]
fn the_owner_chooses_the_format_and_the_rest_get_the_default() {
    let prod_us = export_cluster(&view("prod-us"), &options()).expect("exports");
    assert!(
        prod_us.format.starts_with("terraform-aws-eks"),
        "{}",
        prod_us.format
    );
    assert!(prod_us.files[0].name.ends_with(".tf"));
    let body = hcl::parse(&prod_us.files[0].text).expect("terraform-aws-eks output is HCL");
    assert!(body.blocks().any(|b| b.identifier() == "locals"));
    let payments = export_cluster(&view("payments"), &options()).expect("exports");
    assert!(payments.format.starts_with("terraform (default)"));
    hcl::parse(&payments.files[0].text).expect("terraform output is HCL");
    let eksctl = ExportOptions {
        default_format: OwnerFormat::Eksctl,
        ..options()
    };
    let shared = export_cluster(&view("shared-tools"), &eksctl).expect("exports");
    assert!(shared.files[0].name.ends_with(".yaml"));
}

#[test]
fn a_planted_item_named_to_escape_the_directory_is_refused() {
    for name in ["../../x", "..", "a/b", "x\\..\\y"] {
        let mut forged = view("payments");
        forged.name = name.to_owned();
        let refused = export_cluster(&forged, &options()).expect_err(name);
        assert!(refused.reason.contains("corrupt or forged"), "{refused:?}");
    }
}

#[test]
fn a_record_written_before_export_was_recorded_is_named_not_guessed() {
    let mut old = view("payments");
    if let Some(inventory) = old.inventory.as_mut() {
        inventory.handoff = None;
    }
    let refused = export_cluster(&old, &options()).expect_err("no handoff");
    assert!(
        refused.reason.contains("before export was recorded"),
        "{refused:?}"
    );
}
