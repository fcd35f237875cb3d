//! What a cluster's mode tag (`eks-auth-migrator/mode`) may do against the mode the organisation's
//! configuration gives the cluster.
//!
//! Anyone allowed `eks:TagResource` on a cluster can set its tags, so a tag is an input the
//! migrator did not write (design.md invariant 7): it may only *lower* the mode — towards `skip`,
//! which touches nothing — unless the configuration lets tags raise it for the cluster's account
//! or an OU above it (`tags_may_raise`, docs/configuration.md). Modes from least to most
//! permissive: `skip` < `audit` < `migrate` < `finalize`.

use crate::state::Mode;

/// How much a mode lets the migrator do: `skip` 0 (nothing), `audit` 1 (read), `migrate` 2
/// (create entries, the first switch), `finalize` 3 (prune aws-auth, the irreversible switch).
pub fn permissiveness(mode: Mode) -> u8 {
    match mode {
        Mode::Skip => 0,
        Mode::Audit => 1,
        Mode::Migrate => 2,
        Mode::Finalize => 3,
    }
}

/// What a valid tag value does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagVerdict {
    /// The tag's mode applies: it is not above the configured one, or tags may raise it here.
    Applies,
    /// The tag asks for more than the configuration allows; the configured mode stands.
    Refused {
        /// The mode the configuration gives the cluster.
        configured: Mode,
        /// The mode the tag asks for.
        asked: Mode,
    },
}

/// Whether a tag asking for `asked` applies to a cluster the configuration puts in
/// `configured`; `may_raise` is true when `tags_may_raise` names the cluster's account or an OU
/// above it.
pub fn judge(configured: Mode, asked: Mode, may_raise: bool) -> TagVerdict {
    if may_raise || permissiveness(asked) <= permissiveness(configured) {
        TagVerdict::Applies
    } else {
        TagVerdict::Refused { configured, asked }
    }
}

/// The warning recorded when a tag is refused: what was asked, what stands, what to do.
pub fn refusal(tag: &str, configured: Mode, asked: Mode) -> String {
    format!(
        "tag {tag} asks for `{asked}`, more than the configuration's `{configured}` for this \
         cluster: a tag may only lower the mode (skip, audit), so the cluster stays `{configured}`; \
         to let tags raise it, list the account or an OU above it in tags_may_raise \
         (docs/configuration.md), or set the mode in the configuration document"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_only_lowers_unless_raising_is_allowed() {
        for configured in Mode::ALL {
            for asked in Mode::ALL {
                let lower = permissiveness(asked) <= permissiveness(configured);
                let expected = if lower {
                    TagVerdict::Applies
                } else {
                    TagVerdict::Refused { configured, asked }
                };
                assert_eq!(
                    judge(configured, asked, false),
                    expected,
                    "{configured} {asked}"
                );
                assert_eq!(judge(configured, asked, true), TagVerdict::Applies);
            }
        }
        assert_eq!(
            judge(Mode::Audit, Mode::Finalize, false),
            TagVerdict::Refused {
                configured: Mode::Audit,
                asked: Mode::Finalize
            }
        );
        assert_eq!(
            judge(Mode::Finalize, Mode::Skip, false),
            TagVerdict::Applies
        );
        assert_eq!(
            judge(Mode::Skip, Mode::Audit, false),
            TagVerdict::Refused {
                configured: Mode::Skip,
                asked: Mode::Audit
            }
        );
    }

    #[test]
    fn the_refusal_says_what_stands_and_what_to_do() {
        let text = refusal("eks-auth-migrator/mode", Mode::Audit, Mode::Finalize);
        assert!(
            text.contains("`finalize`") && text.contains("stays `audit`"),
            "{text}"
        );
        assert!(text.contains("tags_may_raise"), "{text}");
    }
}
