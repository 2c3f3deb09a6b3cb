//! The texts of every file read during a load, for showing source lines in diagnostics.

use std::path::{Path, PathBuf};

/// The files read while loading a Katalog, in reading order.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<(PathBuf, String)>,
}

impl SourceMap {
    /// Records a file's text and returns its index (a second record of the same path keeps
    /// the first text and returns its index).
    pub fn add(&mut self, path: PathBuf, text: String) -> u32 {
        if let Some(i) = self.files.iter().position(|(p, _)| *p == path) {
            return u32::try_from(i).unwrap_or(u32::MAX);
        }
        self.files.push((path, text));
        u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
    }

    /// The path of the file with this index (empty when unknown).
    pub fn path(&self, id: u32) -> &Path {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.files.get(i))
            .map_or(Path::new(""), |(p, _)| p.as_path())
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
            let _ = self.add(path, text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_returns_the_one_based_line() {
        let mut map = SourceMap::default();
        let id = map.add("a.yaml".into(), "one\ntwo\n".into());
        assert_eq!(map.path(id), Path::new("a.yaml"));
        assert_eq!(map.line(Path::new("a.yaml"), 2), Some("two"));
        assert_eq!(map.line(Path::new("a.yaml"), 0), None);
        assert_eq!(map.line(Path::new("b.yaml"), 1), None);
    }
}
