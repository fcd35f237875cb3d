//! Interned strings: words (verbs, API groups, resources) and object names, as small ids.

use std::collections::HashMap;

/// The wildcard id (`*` for verbs, groups and resources; every name for object names).
pub(crate) const ANY: u32 = 0;
/// "No such word" (a resource without a subresource has no `*/sub` form).
pub(crate) const NONE: u32 = u32::MAX;

/// The symbol table of one analysis.
#[derive(Debug, Clone)]
pub(crate) struct Symbols {
    words: HashMap<String, u32>,
    word_text: Vec<String>,
    /// For `res/sub` words: the id of `*/sub`; [`NONE`] otherwise.
    star_sub: Vec<u32>,
    names: HashMap<String, u32>,
    name_text: Vec<String>,
}

impl Default for Symbols {
    fn default() -> Self {
        Symbols {
            words: HashMap::from([("*".to_owned(), ANY)]),
            word_text: vec!["*".to_owned()],
            star_sub: vec![NONE],
            names: HashMap::new(),
            name_text: vec![String::new()],
        }
    }
}

impl Symbols {
    /// The id of a verb, group or resource (`*` is [`ANY`]).
    pub(crate) fn word(&mut self, s: &str) -> u32 {
        if let Some(id) = self.words.get(s) {
            return *id;
        }
        let id = u32::try_from(self.word_text.len()).unwrap_or(NONE - 1);
        self.words.insert(s.to_owned(), id);
        self.word_text.push(s.to_owned());
        self.star_sub.push(NONE);
        if let Some((res, sub)) = s.split_once('/')
            && res != "*"
        {
            let star = self.word(&format!("*/{sub}"));
            self.star_sub[id as usize] = star;
        }
        id
    }

    /// The id of an object name (never [`ANY`]: a resourceName `*` is a literal name).
    pub(crate) fn name(&mut self, s: &str) -> u32 {
        if let Some(id) = self.names.get(s) {
            return *id;
        }
        let id = u32::try_from(self.name_text.len()).unwrap_or(NONE - 1);
        self.names.insert(s.to_owned(), id);
        self.name_text.push(s.to_owned());
        id
    }

    /// The text of a word id.
    pub(crate) fn text(&self, id: u32) -> &str {
        &self.word_text[id as usize]
    }

    /// The text of a name id.
    pub(crate) fn name_text(&self, id: u32) -> &str {
        &self.name_text[id as usize]
    }

    /// The `*/sub` id of a `res/sub` word, or [`NONE`].
    pub(crate) fn star_sub(&self, id: u32) -> u32 {
        self.star_sub[id as usize]
    }
}
