//! A reader that hands its bytes over a few at a time, as a slow network does.

/// A reader of `.0` that gives at most `.1` bytes a read: how a parser is shown to read the
/// same across every cut of its input.
pub struct Trickle<'a>(pub &'a [u8], pub usize);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}
