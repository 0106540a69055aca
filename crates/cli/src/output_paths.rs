//! Refusing output paths that are the input or each other, before anything is opened for
//! writing: a report written over its own input truncates it mid-read, and a report written
//! over the journal destroys it.
//!
//! Files are compared, not spellings: an existing file by device and inode (so symlinks, hard
//! links and `./x` spellings are seen through), a file still to be created by its canonical
//! path (its directory's canonical path and its name, after following symlinks).

use crate::options::Source;
use same_file::Handle;
use std::io;
use std::path::{Path, PathBuf};

/// What a path names, for comparison.
enum Identity {
    /// An existing regular file.
    Existing(Handle),
    /// A file that does not exist yet, by canonical path.
    Planned(PathBuf),
    /// A device, a pipe or a terminal: writing to it never truncates anything.
    Special,
}

impl Identity {
    fn is(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Existing(a), Self::Existing(b)) => a == b,
            (Self::Planned(a), Self::Planned(b)) => a == b,
            _ => false,
        }
    }
}

fn identify(path: &Path) -> io::Result<Identity> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(Identity::Existing(Handle::from_path(path)?)),
        Ok(_) => Ok(Identity::Special),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Identity::Planned(planned(path)?)),
        Err(e) => Err(e),
    }
}

/// The canonical path of a file that does not exist yet: its symlinks followed (a dangling
/// one names where the file will be created), then its directory made canonical.
fn planned(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&path) {
            Ok(target) => {
                path = match path.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                }
            }
            Err(_) => break,
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_os_string())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // A directory that does not exist fails later, when the file is created, with its own
    // message; compare it as written, made absolute.
    let parent = std::fs::canonicalize(&parent).or_else(|_| std::path::absolute(&parent))?;
    Ok(parent.join(name))
}

fn input_identity(source: &Source) -> Option<Identity> {
    match source {
        Source::File(path) => identify(path).ok(),
        Source::Stdin => {
            let handle = Handle::stdin().ok()?;
            let regular = handle.as_file().metadata().is_ok_and(|m| m.is_file());
            Some(if regular {
                Identity::Existing(handle)
            } else {
                Identity::Special
            })
        }
    }
}

/// Refuses an output that is the input or the other output, with a message that names both.
pub fn check(source: &Source, report: Option<&Path>, journal: Option<&Path>) -> Result<(), String> {
    let cannot = |path: &Path, e: io::Error| format!("cannot use {}: {e}", path.display());
    let input = input_identity(source);
    let input_name = match source {
        Source::File(path) => path.display().to_string(),
        Source::Stdin => "standard input".to_string(),
    };
    let mut outputs = Vec::new();
    for (flag, path) in [("--report", report), ("--journal", journal)] {
        if let Some(path) = path {
            outputs.push((flag, path, identify(path).map_err(|e| cannot(path, e))?));
        }
    }
    for (flag, path, identity) in &outputs {
        if input.as_ref().is_some_and(|input| input.is(identity)) {
            return Err(format!(
                "{flag} {} is the input file ({input_name}): writing it would destroy the input \
                 while it is read; give {flag} another path",
                path.display()
            ));
        }
    }
    if let [(_, report, a), (_, journal, b)] = outputs.as_slice()
        && a.is(b)
    {
        return Err(format!(
            "--report {} and --journal {} are the same file: the report would overwrite the \
             journal; give them different paths",
            report.display(),
            journal.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_file_under_other_spellings_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "project_code\nP-1\n").unwrap();
        let source = Source::File(input.clone());
        let dotted = dir.path().join(".").join("in.csv");
        let err = check(&source, Some(&dotted), None).unwrap_err();
        assert!(err.contains("--report") && err.contains("input"), "{err}");
        #[cfg(unix)]
        {
            let link = dir.path().join("link.csv");
            std::os::unix::fs::symlink(&input, &link).unwrap();
            assert!(check(&source, None, Some(&link)).is_err());
            let hard = dir.path().join("hard.csv");
            std::fs::hard_link(&input, &hard).unwrap();
            assert!(check(&source, Some(&hard), None).is_err());
        }
        let out = dir.path().join("out.ndjson");
        assert!(check(&source, Some(&out), Some(&dir.path().join("journal"))).is_ok());
    }

    #[test]
    fn two_outputs_that_are_one_file_are_refused_even_before_they_exist() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "project_code\nP-1\n").unwrap();
        let source = Source::File(input);
        let planned = dir.path().join("x");
        let spelled = dir.path().join("sub").join("..").join("x");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let err = check(&source, Some(&planned), Some(&spelled)).unwrap_err();
        assert!(err.contains("same file"), "{err}");
        std::fs::write(&planned, "{}\n").unwrap();
        assert!(check(&source, Some(&planned), Some(&spelled)).is_err());
        #[cfg(unix)]
        {
            let dangling = dir.path().join("dangling");
            std::os::unix::fs::symlink(dir.path().join("later"), &dangling).unwrap();
            assert!(check(&source, Some(&dangling), Some(&dir.path().join("later"))).is_err());
        }
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_never_aliases() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "project_code\nP-1\n").unwrap();
        let null = Path::new("/dev/null");
        assert!(check(&Source::File(input), Some(null), Some(null)).is_ok());
    }
}
