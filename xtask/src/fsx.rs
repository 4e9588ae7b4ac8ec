//! Atomic file writes: a file is either its old content or its new one, never half-written.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes every `(path, content)` pair: all contents go to temporary files beside their
/// targets first, then each is renamed over its target in order. If any temporary write fails,
/// the temporary files are removed and no target changes.
pub fn write_all_atomically<C: AsRef<[u8]>>(files: &[(PathBuf, C)]) -> Result<()> {
    let mut staged: Vec<(PathBuf, &Path)> = Vec::new();
    let result = (|| -> Result<()> {
        for (path, content) in files {
            let dir = path.parent().context("a target file has a parent folder")?;
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let name = path
                .file_name()
                .context("a target file has a name")?
                .to_string_lossy();
            let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
            std::fs::write(&tmp, content.as_ref())
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            staged.push((tmp, path));
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    for (tmp, path) in &staged {
        std::fs::rename(tmp, path)
            .with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_batch_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.json");
        std::fs::write(&good, "old").unwrap();
        // A target whose parent is a file cannot be staged.
        let blocker = dir.path().join("blocker");
        std::fs::write(&blocker, "").unwrap();
        let bad = blocker.join("b.json");
        let err = write_all_atomically(&[(good.clone(), "new"), (bad, "x")]);
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(&good).unwrap(), "old");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }

    #[test]
    fn a_good_batch_replaces_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("x/a.json");
        write_all_atomically(&[(a.clone(), "1")]).unwrap();
        write_all_atomically(&[(a.clone(), "2")]).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "2");
    }
}
