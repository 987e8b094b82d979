//! zlib streams (RFC 1950), as the `.dep-v0` and `.bldinfo` sections hold them.

/// `data` compressed into one zlib stream.
pub fn zlib(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// The bytes of one zlib stream; panics if `data` is not one.
pub fn inflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::inflate::decompress_to_vec_zlib(data).expect("not one zlib stream")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stream_round_trips_and_starts_like_zlib() {
        let packed = super::zlib(b"{\"format\":1}");
        assert_eq!(packed[0], 0x78);
        assert_eq!(super::inflate(&packed), b"{\"format\":1}");
    }
}
