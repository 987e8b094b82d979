//! Byte-level mutations of a valid input, for property tests of parsers: flip, delete, insert,
//! duplicate a run, or insert one of the format's own tokens (a quote, a brace, `# EOF`), which
//! reaches the parser's interesting branches far more often than random bytes do.

use proptest::prelude::*;

/// One change to an input. Positions are taken modulo the input's length when applied, so any
/// generated value applies to any input.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// XOR the byte at a position with a non-zero value.
    Flip(usize, u8),
    /// Delete up to this many bytes from a position.
    Delete(usize, usize),
    /// Insert these bytes at a position.
    Insert(usize, Vec<u8>),
    /// Repeat up to this many bytes from a position right after themselves.
    Duplicate(usize, usize),
    /// Insert the token of this index (in the table given to [`mutate`]) at a position.
    Token(usize, usize),
}

/// Any mutation; `tokens` is the size of the token table given to [`mutate`] (0: none).
pub fn mutation(tokens: usize) -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, b)| Mutation::Insert(at, b)),
        (any::<usize>(), 1usize..256).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        (any::<usize>(), 0..tokens.max(1)).prop_map(|(at, t)| Mutation::Token(at, t)),
    ]
}

/// `seed` with `mutations` applied in order; a token index past `tokens` inserts nothing.
pub fn mutate<T: AsRef<[u8]>>(seed: &[u8], mutations: &[Mutation], tokens: &[T]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in mutations {
        let len = b.len().max(1);
        match m {
            Mutation::Flip(at, x) => {
                if !b.is_empty() {
                    let i = at % b.len();
                    b[i] ^= x | 1;
                }
            }
            Mutation::Delete(at, n) => {
                let i = at % len;
                let end = (i + n).min(b.len());
                if i < end {
                    b.drain(i..end);
                }
            }
            Mutation::Insert(at, bytes) => {
                let i = at % (b.len() + 1);
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Duplicate(at, n) => {
                let i = at % len;
                let end = (i + n).min(b.len());
                if i < end {
                    let copy = b[i..end].to_vec();
                    b.splice(end..end, copy);
                }
            }
            Mutation::Token(at, t) => {
                if let Some(token) = tokens.get(*t) {
                    let i = at % (b.len() + 1);
                    b.splice(i..i, token.as_ref().iter().copied());
                }
            }
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mutation_does_what_it_says() {
        let tokens = ["<T>"];
        let m = |m: Mutation| String::from_utf8(mutate(b"abcdef", &[m], &tokens)).unwrap();
        assert_eq!(m(Mutation::Flip(7, 2)), "aacdef");
        assert_eq!(m(Mutation::Delete(2, 2)), "abef");
        assert_eq!(m(Mutation::Insert(6, b"xy".to_vec())), "abcdefxy");
        assert_eq!(m(Mutation::Duplicate(4, 9)), "abcdefef");
        assert_eq!(m(Mutation::Token(13, 0)), "abcdef<T>");
        assert_eq!(m(Mutation::Token(0, 1)), "abcdef");
        assert!(
            mutate(
                b"",
                &[Mutation::Flip(0, 1), Mutation::Delete(0, 3)],
                &tokens
            )
            .is_empty()
        );
    }
}
