//! The fixture fleet with customer values an attacker could write: markup, script, quotes,
//! Markdown and CSV syntax, spreadsheet formulas and line breaks in cluster names, ARNs, tags,
//! messages and unreadable items. Every format must show them as text.

use super::fleet;
use eks_auth_core::report::input::{FleetInput, Unreadable};

/// A cluster name with markup.
pub const CLUSTER: &str = "evil<script>alert(1)</script>|`x`";
/// A principal ARN with an attribute break-out.
pub const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/x\"><img src=x onerror=alert(2)>";
/// An error with a table break-out, Markdown and a formula.
pub const ERROR: &str = "=HYPERLINK(\"http://e.invalid\")</td></tr></table><script>alert(3)</script> | **bold** [link](http://e.invalid)\nsecond line\u{1b}[2J\u{7}";

/// The fixture with hostile values in place of some of its own.
pub fn input() -> FleetInput {
    let mut input = fleet::input();
    let cluster = &mut input.clusters[0];
    cluster.name = CLUSTER.to_owned();
    cluster.last_error = Some(ERROR.to_owned());
    cluster
        .tags
        .insert("owner".to_owned(), "'; DROP TABLE clusters; --".to_owned());
    let inventory = cluster
        .inventory
        .as_mut()
        .expect("the first fixture cluster is planned");
    inventory.principals[0].principal_arn = PRINCIPAL.to_owned();
    inventory.principals[0].username = Some("@SUM(1+1)".to_owned());
    if let Some(finding) = inventory
        .findings
        .iter_mut()
        .find(|f| f.severity == eks_auth_core::finding::Severity::Blocker)
    {
        finding.message = format!("{ERROR} <b onmouseover=alert(4)>row</b>");
    }
    input.unreadable.push(Unreadable {
        item: "CLUSTER#<svg onload=alert(5)>#x / META".to_owned(),
        reason: "-1+1 `code` & <i>".to_owned(),
    });
    input
}
