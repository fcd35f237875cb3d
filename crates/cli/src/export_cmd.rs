//! `export`: reads the state table like `report` and writes each cluster's migrated access in
//! its owner's format into a directory, one file per cluster (docs/export.md). The names come
//! from `eks_auth_core::export` (one path component each, refused when table data would make
//! them anything else); each file is written to a new temporary file in the directory and
//! renamed over its name, so an existing symbolic link of that name is replaced, never followed.

use crate::args::{ExportFlags, ExportFormat, ModuleMajor};
use crate::aws_env;
use crate::state_table::read_fleet;
use anyhow::{Context, Result, bail};
use eks_auth_core::export::{ExportFile, ExportOptions, NotExported, export_cluster};
use eks_auth_core::render::owner_format::{EksModule, ModuleAddress, ModuleVersion, OwnerFormat};
use eks_auth_core::report::Filter;
use std::io::Write;
use std::path::{Component, Path};
use std::process::ExitCode;

/// `export`.
pub fn run(flags: ExportFlags) -> Result<ExitCode> {
    let options = options_of(&flags)?;
    let filter = Filter {
        accounts: flags.account.clone(),
        regions: flags.region.clone(),
        owners: flags.owner.iter().map(|o| o.0).collect(),
        ..Filter::default()
    };
    std::fs::create_dir_all(&flags.dir).with_context(|| {
        format!(
            "cannot create the export directory {}: check the path and its permissions",
            flags.dir.display()
        )
    })?;
    aws_env::runtime()?.block_on(async {
        let read = read_fleet(&flags.table, flags.segments).await?;
        for item in &read.input.unreadable {
            eprintln!(
                "eks-auth-migrator: warning: {} could not be read ({}); it is not exported",
                item.item, item.reason
            );
        }
        let mut failed = read.input.unreadable.len();
        let mut written = 0usize;
        let mut clusters: Vec<_> = read
            .input
            .clusters
            .iter()
            .filter(|c| filter.keeps_cluster(c))
            .collect();
        clusters.sort_by(|a, b| {
            (&a.account, &a.region, &a.name).cmp(&(&b.account, &b.region, &b.name))
        });
        for view in clusters {
            match export_cluster(view, &options) {
                Ok(export) => {
                    for file in &export.files {
                        write_file(&flags.dir, file)?;
                        written += 1;
                        println!("{}: {} → {}", export.cluster, export.format, file.name);
                    }
                }
                Err(not) => {
                    failed += 1;
                    report_not_exported(&not);
                }
            }
        }
        eprintln!(
            "{written} file(s) written to {}; {failed} cluster(s) not exported",
            flags.dir.display()
        );
        Ok(if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

/// The options from the flags.
fn options_of(flags: &ExportFlags) -> Result<ExportOptions> {
    let module = EksModule {
        version: match flags.module_version {
            ModuleMajor::V20 => ModuleVersion::V20,
            ModuleMajor::V21 => ModuleVersion::V21,
        },
        address: flags
            .module_address
            .parse::<ModuleAddress>()
            .context("--module-address")?,
    };
    let default_format = match flags.default_format {
        ExportFormat::Terraform => OwnerFormat::Terraform,
        ExportFormat::Eksctl => OwnerFormat::Eksctl,
        ExportFormat::Cloudformation => OwnerFormat::Cloudformation,
        ExportFormat::TerraformAwsEks => OwnerFormat::TerraformAwsEks(module.clone()),
    };
    Ok(ExportOptions {
        default_format,
        module,
    })
}

/// One line on standard error for a cluster that was not exported (its name escaped: it is
/// table data).
fn report_not_exported(not: &NotExported) {
    eprintln!(
        "eks-auth-migrator: {} not exported: {}",
        not.cluster.escape_debug(),
        not.reason
    );
}

/// Writes `file` into `dir`: to a new temporary file there, then renamed over its name.
fn write_file(dir: &Path, file: &ExportFile) -> Result<()> {
    let single = matches!(
        Path::new(&file.name)
            .components()
            .collect::<Vec<_>>()
            .as_slice(),
        [Component::Normal(_)]
    );
    if !single {
        bail!(
            "refusing to write {:?}: not a single file name (a defect: export names are checked before)",
            file.name
        );
    }
    let target = dir.join(&file.name);
    let temporary = dir.join(format!(".{}.{}.tmp", file.name, std::process::id()));
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    out.write_all(file.text.as_bytes())
        .and_then(|()| out.sync_all())
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, &target).with_context(|| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot replace {}", target.display())
    })?;
    Ok(())
}
