//! What tests expect of an error a person reads (the CLI's standard error, a function's
//! answer): one line, under 300 characters, naming what to do, and none of the internals only a
//! `Debug` rendering of an SDK error produces.

/// Strings only a `Debug` rendering of an SDK error produces.
pub const DEBUG_MARKERS: [&str; 5] = [
    "{ source:",
    "DispatchFailure(",
    "SdkBody",
    "Response {",
    "ConnectorError",
];

/// Whether `text` holds one of [`DEBUG_MARKERS`]: the first one found.
pub fn debug_marker(text: &str) -> Option<&'static str> {
    DEBUG_MARKERS.into_iter().find(|m| text.contains(m))
}

/// Panics (naming `what` and the text) unless `line` is one line under 300 characters with
/// every one of `words` and no Debug marker.
pub fn assert_one_line(what: &str, line: &str, words: &[&str]) {
    assert_eq!(line.lines().count(), 1, "{what}: not one line:\n{line}");
    let chars = line.chars().count();
    assert!(chars < 300, "{what}: {chars} characters: {line}");
    if let Some(marker) = debug_marker(line) {
        panic!("{what}: `{marker}` in {line}");
    }
    for word in words {
        assert!(line.contains(word), "{what}: `{word}` not in {line}");
    }
}
