//! Golden files: output compared with a file checked into the repository.

use std::path::Path;

/// Asserts that `actual` equals the file at `path`.
///
/// With `UPDATE_GOLDEN` set, a file that differs (or is missing) is rewritten with `actual`
/// first, and the test still fails, naming the file: an update run never passes while the
/// output changes, so the new file is reviewed (and the run repeated) before it counts.
pub fn check_golden(path: &Path, actual: &str) {
    compare(path, actual, std::env::var_os("UPDATE_GOLDEN").is_some());
}

fn compare(path: &Path, actual: &str, update: bool) {
    let expected = std::fs::read_to_string(path);
    if expected.as_deref().ok() == Some(actual) {
        return;
    }
    if update {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, actual).unwrap();
        panic!(
            "golden file {} differed and was rewritten (UPDATE_GOLDEN): review it and run again",
            path.display()
        );
    }
    match expected {
        Ok(expected) => assert_eq!(
            actual,
            expected,
            "output differs from golden file {} (UPDATE_GOLDEN=1 rewrites it)",
            path.display()
        ),
        Err(e) => panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::{check_golden, compare};
    use crate::scratch::Scratch;

    #[test]
    fn equal_passes_and_different_fails() {
        let dir = Scratch::new("golden");
        let file = dir.join("out.txt");
        std::fs::write(&file, "a\n").unwrap();
        check_golden(&file, "a\n");
        assert!(std::panic::catch_unwind(|| check_golden(&file, "b\n")).is_err());
        let missing = dir.join("missing.txt");
        assert!(std::panic::catch_unwind(|| check_golden(&missing, "a\n")).is_err());
    }

    #[test]
    fn an_update_rewrites_and_still_fails_until_the_output_is_stable() {
        let dir = Scratch::new("golden-update");
        let file = dir.join("nested/out.txt");
        assert!(std::panic::catch_unwind(|| compare(&file, "new\n", true)).is_err());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new\n");
        compare(&file, "new\n", true);
        compare(&file, "new\n", false);
    }
}
