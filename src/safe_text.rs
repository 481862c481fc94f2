//! Text from input files (a CSV field, a file name) shown on a terminal: control characters are escaped so
//! that an ESC in a field cannot move the cursor, retitle the window or hide the rest of a message.

use std::borrow::Cow;

/// `text` with every control character written as an escape (`\u{1b}`); line breaks too unless
/// `keep_line_breaks`, for messages whose own lines are meant.
pub fn escape_controls(text: &str, keep_line_breaks: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !(keep_line_breaks && c == '\n');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars().map(|c| if unsafe_char(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_controls("plain Zoë", false), "plain Zoë");
        assert_eq!(escape_controls("a\x1b[2Jb\x07", false), "a\\u{1b}[2Jb\\u{7}");
        assert_eq!(escape_controls("one\ntwo\r", true), "one\ntwo\\u{d}");
        assert_eq!(escape_controls("one\ntwo", false), "one\\u{a}two");
        assert_eq!(escape_controls("\u{9b}31m", false), "\\u{9b}31m", "the one-byte CSI of C1");
    }
}
