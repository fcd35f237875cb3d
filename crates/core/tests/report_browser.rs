//! The fleet report's HTML page in a real browser: Debian's chromium, headless, driven by
//! playwright-core (tests/browser; `npm ci` there). tests/browser/check-report.mjs fails on any
//! console error, page error, dialog or request other than the page itself, checks the numbers in
//! the DOM against the JSON report of the same input, sorts and filters the tables, prints the
//! page to PDF and checks a full-page screenshot is not blank. The fixture fleet and the fixture
//! with hostile values are both checked. The pages, screenshots and PDF are kept in
//! target/tmp/report-browser/ for a person to look at.
//!
//! scripts/test installs chromium (apt-get) and playwright-core (npm ci) when missing and sets
//! EAM_REQUIRE_TOOLS=1, under which a missing tool fails this test instead of skipping it.

mod common;

use eks_auth_core::report::input::FleetInput;
use eks_auth_core::report::{self, Filter, Format, RenderOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The browser and the driver, or why they are missing.
fn tools() -> Result<(PathBuf, PathBuf), String> {
    let chromium = std::env::var_os("EAM_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.exists() {
        return Err(format!(
            "{} is missing (apt-get install chromium)",
            chromium.display()
        ));
    }
    let driver = workspace().join("tests/browser/node_modules/playwright-core/package.json");
    if !driver.exists() {
        return Err("playwright-core is missing (npm ci --prefix tests/browser)".to_owned());
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("node is missing".to_owned());
    }
    Ok((chromium, workspace().join("tests/browser/check-report.mjs")))
}

/// Writes `input`'s HTML and JSON reports to `dir` and runs the browser check on them.
fn check_in_browser(input: &FleetInput, dir: &Path, name: &str, extra: &[&str]) {
    let Ok((chromium, script)) = tools().map_err(|missing| {
        assert!(
            std::env::var("EAM_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{missing}, and EAM_REQUIRE_TOOLS=1 (scripts/test installs it)"
        );
        eprintln!(
            "note: {missing}; browser test not run (set EAM_REQUIRE_TOOLS=1 to make this fail)"
        );
    }) else {
        return;
    };
    let report = report::build(input, &Filter::default(), common::fleet::NOW_MS);
    let options = RenderOptions::default();
    let html = dir.join(format!("{name}.html"));
    let json = dir.join(format!("{name}.json"));
    std::fs::write(
        &html,
        report::render(&report, Format::Html, options).expect("html"),
    )
    .expect("write html");
    std::fs::write(
        &json,
        report::render(&report, Format::Json, options).expect("json"),
    )
    .expect("write json");
    let out = Command::new("node")
        .arg(&script)
        .args([&html, &json, &dir.to_path_buf()])
        .args(extra)
        .env("EAM_CHROMIUM", chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        out.status.success(),
        "the browser check failed:\n{stdout}{stderr}"
    );
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    std::fs::create_dir_all(&dir).expect("target/tmp/report-browser");
    dir
}

#[test]
fn the_fixture_fleets_page_works_in_chromium() {
    check_in_browser(&common::fixture(), &out_dir(), "report", &[]);
}

#[test]
fn hostile_values_stay_inert_text_in_chromium() {
    check_in_browser(
        &common::hostile::input(),
        &out_dir(),
        "hostile",
        &["--hostile"],
    );
}
