//! The texts of every file read during a load, for showing source lines in diagnostics.

use std::path::{Path, PathBuf};

/// The files read while loading a Katalog, in reading order.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<(PathBuf, String)>,
}

impl SourceMap {
    /// Records a file's text (a second record of the same path replaces nothing).
    pub fn add(&mut self, path: PathBuf, text: String) {
        if self.text(&path).is_none() {
            self.files.push((path, text));
        }
    }

    /// The text of a file, if it was read.
    pub fn text(&self, path: &Path) -> Option<&str> {
        self.files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
    }

    /// One line (1-based) of a file, without its line break.
    pub fn line(&self, path: &Path, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.text(path)?.lines().nth(index)
    }

    /// Every file, in reading order.
    pub fn files(&self) -> impl Iterator<Item = (&Path, &str)> {
        self.files.iter().map(|(p, t)| (p.as_path(), t.as_str()))
    }

    /// Adds every file of another map.
    pub fn extend(&mut self, other: SourceMap) {
        for (path, text) in other.files {
            self.add(path, text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_returns_the_one_based_line() {
        let mut map = SourceMap::default();
        map.add("a.yaml".into(), "one\ntwo\n".into());
        assert_eq!(map.line(Path::new("a.yaml"), 2), Some("two"));
        assert_eq!(map.line(Path::new("a.yaml"), 0), None);
        assert_eq!(map.line(Path::new("b.yaml"), 1), None);
    }
}
