//! A unified line diff of two texts, `diff -u` style, coloured for a terminal when asked.

use similar::{ChangeTag, TextDiff};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// The diff from `before` to `after` under a header naming `what` (`before` empty: a new
/// object, every line added). Three lines of context around each change.
pub fn render(what: &str, before: &str, after: &str, colour: bool) -> String {
    let paint = |code: &str, line: &str| {
        if colour {
            format!("{code}{line}{RESET}\n")
        } else {
            format!("{line}\n")
        }
    };
    let (from, to) = if before.is_empty() {
        ("/dev/null".to_owned(), format!("b/{what} (new)"))
    } else {
        (format!("a/{what} (live)"), format!("b/{what} (applied)"))
    };
    let mut out = paint(BOLD, &format!("--- {from}"));
    out.push_str(&paint(BOLD, &format!("+++ {to}")));
    let diff = TextDiff::from_lines(before, after);
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        out.push_str(&paint(
            CYAN,
            &format!(
                "@@ -{},{} +{},{} @@",
                old.start + 1,
                old.len(),
                new.start + 1,
                new.len()
            ),
        ));
        for op in &group {
            for change in diff.iter_changes(op) {
                let line = change.value().trim_end_matches('\n');
                match change.tag() {
                    ChangeTag::Delete => out.push_str(&paint(RED, &format!("-{line}"))),
                    ChangeTag::Insert => out.push_str(&paint(GREEN, &format!("+{line}"))),
                    ChangeTag::Equal => out.push_str(&format!(" {line}\n")),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn a_changed_line_shows_with_context_and_a_hunk_header() {
        let before = "a: 1\nb: 2\nc: 3\n";
        let after = "a: 1\nb: 5\nc: 3\n";
        assert_eq!(
            render("ConfigMap ns/x", before, after, false),
            "--- a/ConfigMap ns/x (live)\n+++ b/ConfigMap ns/x (applied)\n@@ -1,3 +1,3 @@\n a: 1\n-b: 2\n+b: 5\n c: 3\n"
        );
    }

    #[test]
    fn a_new_object_is_all_additions_and_colour_wraps_lines() {
        let out = render("ConfigMap ns/x", "", "a: 1\n", true);
        assert!(out.contains("/dev/null"), "{out}");
        assert!(out.contains("\x1b[32m+a: 1\x1b[0m\n"), "{out}");
    }
}
