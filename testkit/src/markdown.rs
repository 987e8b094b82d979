//! The code blocks of a section of the workspace's Markdown documents, for tests that run
//! what the README shows.

use std::path::Path;

/// The lines of the fenced code blocks (```` ``` ````) in the section of `file` under the
/// heading line `heading` (`## Fleet questions`), up to the next heading of its level or a
/// higher one: each line as written, with its block's info string (`sh`, `promql`,
/// `promql catalog`; empty for a block without one). Panics naming the file when it cannot be
/// read or has no such heading.
pub fn fenced_lines(file: &Path, heading: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let level = heading.bytes().take_while(|&b| b == b'#').count();
    assert!(level > 0, "{heading:?} is not a Markdown heading");
    let mut lines = text.lines();
    assert!(
        lines.any(|l| l.trim_end() == heading),
        "{} has no {heading:?} section",
        file.display()
    );
    let mut out = Vec::new();
    let mut block: Option<&str> = None;
    for line in lines {
        if let Some(lang) = line.strip_prefix("```") {
            block = if block.is_some() { None } else { Some(lang) };
            continue;
        }
        match block {
            Some(lang) => out.push((lang.to_owned(), line.to_owned())),
            None => {
                let hashes = line.bytes().take_while(|&b| b == b'#').count();
                if (1..=level).contains(&hashes) && line[hashes..].starts_with(' ') {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;

    #[test]
    fn only_the_blocks_of_the_section_are_read() {
        let dir = Scratch::new("markdown");
        let file = dir.join("README.md");
        std::fs::write(
            &file,
            "# T\n```sh\nbefore\n```\n## Questions\ntext\n```promql catalog\na\n\n# not a heading\n```\n### Sub\n```\nb\n```\n## Next\n```sh\nafter\n```\n",
        )
        .unwrap();
        assert_eq!(
            fenced_lines(&file, "## Questions"),
            [
                ("promql catalog".to_owned(), "a".to_owned()),
                ("promql catalog".to_owned(), String::new()),
                ("promql catalog".to_owned(), "# not a heading".to_owned()),
                (String::new(), "b".to_owned()),
            ]
        );
        assert_eq!(fenced_lines(&file, "## Next").len(), 1);
        let missing = std::panic::catch_unwind(|| fenced_lines(&file, "## Absent"));
        assert!(missing.is_err());
    }
}
