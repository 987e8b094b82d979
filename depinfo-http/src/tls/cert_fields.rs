//! The few fields of an X.509 certificate (RFC 5280) that the check of a CA certificate served
//! as the server's own needs, read from its DER: the validity period and whether an extended
//! key usage allows TLS servers. A bounded walker: every length is checked against what is
//! left, nothing is copied, and no input makes it panic or loop.

/// What [`read`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CertFields {
    /// `notBefore`, in seconds since 1970-01-01T00:00:00Z (negative before).
    pub(crate) not_before: i64,
    /// `notAfter`, likewise.
    pub(crate) not_after: i64,
    /// `None` without an extended key usage extension (any use); else whether it lists
    /// `serverAuth` or `anyExtendedKeyUsage`.
    pub(crate) server_auth: Option<bool>,
}

/// Why a certificate's DER was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DerError {
    /// The data ends inside an element.
    Truncated,
    /// An element of another type than the structure needs here.
    Unexpected(&'static str),
    /// A length that DER does not allow (indefinite, or more than four bytes of it).
    BadLength,
    /// A time that is not `YYMMDDHHMMSSZ` or `YYYYMMDDHHMMSSZ` with valid fields.
    BadTime,
    /// Bytes after the certificate.
    TrailingData,
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BOOLEAN: u8 = 0x01;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT` version.
const VERSION: u8 = 0xa0;
/// `[1] IMPLICIT` issuerUniqueID, `[2]` subjectUniqueID (primitive or constructed).
const UNIQUE_IDS: [u8; 4] = [0x81, 0x82, 0xa1, 0xa2];
/// `[3] EXPLICIT` extensions.
const EXTENSIONS: u8 = 0xa3;
/// 2.5.29.37, extKeyUsage.
const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
/// 1.3.6.1.5.5.7.3.1, id-kp-serverAuth.
const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
/// 2.5.29.37.0, anyExtendedKeyUsage.
const ANY_EKU: &[u8] = &[0x55, 0x1d, 0x25, 0x00];

/// A reader over DER elements.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(data: &'a [u8]) -> Der<'a> {
        Der { rest: data }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element's tag, without reading it.
    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element: its tag and content. The tag is its first byte: every tag read
    /// here is one byte long, so a multi-byte tag (low five bits all set) never matches one.
    fn next(&mut self) -> Result<(u8, &'a [u8]), DerError> {
        let [tag, first, rest @ ..] = self.rest else {
            return Err(DerError::Truncated);
        };
        let (len, rest) = match *first {
            n if n < 0x80 => (usize::from(n), rest),
            0x80 => return Err(DerError::BadLength),
            n => {
                let count = usize::from(n & 0x7f);
                if count > 4 {
                    return Err(DerError::BadLength);
                }
                let (bytes, rest) = rest.split_at_checked(count).ok_or(DerError::Truncated)?;
                let len = bytes
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                (len, rest)
            }
        };
        let (content, rest) = rest.split_at_checked(len).ok_or(DerError::Truncated)?;
        self.rest = rest;
        Ok((*tag, content))
    }

    /// The next element, which must have tag `tag`.
    fn expect(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], DerError> {
        match self.next()? {
            (t, content) if t == tag => Ok(content),
            _ => Err(DerError::Unexpected(what)),
        }
    }
}

/// Reads the validity and the extended key usage of a DER certificate.
pub(crate) fn read(der: &[u8]) -> Result<CertFields, DerError> {
    let mut outer = Der::new(der);
    let certificate = outer.expect(SEQUENCE, "certificate SEQUENCE")?;
    if !outer.is_empty() {
        return Err(DerError::TrailingData);
    }
    let mut cert = Der::new(certificate);
    let mut tbs = Der::new(cert.expect(SEQUENCE, "tbsCertificate SEQUENCE")?);
    if tbs.peek() == Some(VERSION) {
        tbs.next()?;
    }
    tbs.expect(INTEGER, "serial number")?;
    tbs.expect(SEQUENCE, "signature algorithm")?;
    tbs.expect(SEQUENCE, "issuer")?;
    let mut validity = Der::new(tbs.expect(SEQUENCE, "validity")?);
    let not_before = time(&mut validity)?;
    let not_after = time(&mut validity)?;
    if !validity.is_empty() {
        return Err(DerError::Unexpected("end of the validity"));
    }
    tbs.expect(SEQUENCE, "subject")?;
    tbs.expect(SEQUENCE, "subject public key")?;
    while tbs.peek().is_some_and(|t| UNIQUE_IDS.contains(&t)) {
        tbs.next()?;
    }
    let mut server_auth = None;
    if tbs.peek() == Some(EXTENSIONS) {
        let explicit = tbs.next()?.1;
        let mut wrapper = Der::new(explicit);
        let mut extensions = Der::new(wrapper.expect(SEQUENCE, "extensions SEQUENCE")?);
        if !wrapper.is_empty() {
            return Err(DerError::Unexpected("end of the extensions"));
        }
        while !extensions.is_empty() {
            let mut extension = Der::new(extensions.expect(SEQUENCE, "extension")?);
            let id = extension.expect(OID, "extension id")?;
            if extension.peek() == Some(BOOLEAN) {
                extension.next()?;
            }
            let value = extension.expect(OCTET_STRING, "extension value")?;
            if id == EXT_KEY_USAGE {
                let mut outer = Der::new(value);
                let mut purposes = Der::new(outer.expect(SEQUENCE, "key purposes")?);
                let mut allowed = false;
                while !purposes.is_empty() {
                    let purpose = purposes.expect(OID, "key purpose")?;
                    allowed |= purpose == SERVER_AUTH || purpose == ANY_EKU;
                }
                server_auth = Some(allowed);
            }
        }
    }
    // The rest (signature algorithm, signature) is not needed here.
    Ok(CertFields {
        not_before,
        not_after,
        server_auth,
    })
}

/// A `Time` (UTCTime or GeneralizedTime, `Z` only, seconds present), in Unix seconds.
fn time(der: &mut Der<'_>) -> Result<i64, DerError> {
    let (tag, text) = der.next()?;
    let (year, rest) = match (tag, text.len()) {
        (UTC_TIME, 13) => {
            let yy = digits(&text[..2])?;
            // RFC 5280 4.1.2.5.1: 50-99 are 1950-1999, 00-49 are 2000-2049.
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (GENERALIZED_TIME, 15) => (digits(&text[..4])?, &text[4..]),
        (UTC_TIME | GENERALIZED_TIME, _) => return Err(DerError::BadTime),
        _ => return Err(DerError::Unexpected("time")),
    };
    if rest[10] != b'Z' {
        return Err(DerError::BadTime);
    }
    let month = digits(&rest[0..2])?;
    let day = digits(&rest[2..4])?;
    let hour = digits(&rest[4..6])?;
    let minute = digits(&rest[6..8])?;
    let second = digits(&rest[8..10])?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(DerError::BadTime);
    }
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// ASCII digits as a number.
fn digits(text: &[u8]) -> Result<i64, DerError> {
    text.iter().try_fold(0i64, |acc, b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + i64::from(b - b'0'))
        } else {
            Err(DerError::BadTime)
        }
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM:SS UTC` of Unix seconds (for messages).
pub(crate) fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400);
    let (year, month, day) = buildinfo::model::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// DER of `tag` with `content`, the length in the short form or in `long` bytes.
    fn tlv(tag: u8, content: &[u8], long: Option<u8>) -> Vec<u8> {
        let mut out = vec![tag];
        match long {
            None if content.len() < 0x80 => out.push(u8::try_from(content.len()).unwrap()),
            other => {
                // At least as many length bytes as the length needs.
                let needed = u8::try_from(content.len().max(1).ilog2() / 8 + 1).unwrap();
                let n = other.unwrap_or(4).max(needed);
                out.push(0x80 | n);
                let len = u32::try_from(content.len()).unwrap().to_be_bytes();
                out.extend_from_slice(&len[4 - usize::from(n)..]);
            }
        }
        out.extend_from_slice(content);
        out
    }

    /// A time as DER: UTCTime for 1950-2049 unless `generalized`.
    fn der_time(
        (year, month, day, hour, minute, second): (i64, i64, i64, i64, i64, i64),
        generalized: bool,
    ) -> Vec<u8> {
        if generalized || !(1950..2050).contains(&year) {
            let text = format!("{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}Z");
            tlv(GENERALIZED_TIME, text.as_bytes(), None)
        } else {
            let text = format!(
                "{:02}{month:02}{day:02}{hour:02}{minute:02}{second:02}Z",
                year % 100
            );
            tlv(UTC_TIME, text.as_bytes(), None)
        }
    }

    /// The reference: Unix seconds by counting days year by year and month by month.
    fn counted(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> i64 {
        let mut days = 0i64;
        if year >= 1970 {
            for y in 1970..year {
                days += (1..=12).map(|m| days_in_month(y, m)).sum::<i64>();
            }
        } else {
            for y in year..1970 {
                days -= (1..=12).map(|m| days_in_month(y, m)).sum::<i64>();
            }
        }
        days += (1..month).map(|m| days_in_month(year, m)).sum::<i64>() + day - 1;
        days * 86_400 + hour * 3600 + minute * 60 + second
    }

    type DateTime = (i64, i64, i64, i64, i64, i64);

    /// DER pieces a mutation may insert: headers with long lengths, times, `Z`.
    const TOKENS: &[&[u8]] = &[
        &[0x30, 0x82, 0xff, 0xff],
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        &[0x30, 0x80],
        &[0x17, 0x0d],
        &[0x18, 0x0f],
        b"Z",
        &[0xa3, 0x03, 0x30, 0x01],
        &[0x1f, 0x81],
    ];

    fn datetime() -> impl Strategy<Value = DateTime> {
        (
            1i64..=9999,
            1i64..=12,
            1i64..=31,
            0i64..24,
            0i64..60,
            0i64..60,
        )
            .prop_map(|(y, mo, d, h, mi, s)| (y, mo, d.min(days_in_month(y, mo)), h, mi, s))
    }

    /// A synthetic certificate around the given validity and key purposes (`None`: no
    /// extended key usage extension), with blobs of the given sizes in the fields skipped.
    fn certificate(
        times: (Vec<u8>, Vec<u8>),
        purposes: Option<&[&[u8]]>,
        version: bool,
        blob: usize,
        long: Option<u8>,
    ) -> Vec<u8> {
        let filler = tlv(SEQUENCE, &vec![0x05; blob], long);
        let mut tbs = Vec::new();
        if version {
            tbs.extend(tlv(VERSION, &tlv(INTEGER, &[2], None), None));
        }
        tbs.extend(tlv(INTEGER, &[1, 2, 3], long));
        tbs.extend(&filler);
        tbs.extend(&filler);
        tbs.extend(tlv(SEQUENCE, &[times.0, times.1].concat(), long));
        tbs.extend(&filler);
        tbs.extend(&filler);
        let mut extensions = Vec::new();
        // A key usage extension (critical) before the one that matters.
        extensions.extend(tlv(
            SEQUENCE,
            &[
                tlv(OID, &[0x55, 0x1d, 0x0f], None),
                tlv(BOOLEAN, &[0xff], None),
                tlv(OCTET_STRING, &tlv(0x03, &[0x05, 0xa0], None), None),
            ]
            .concat(),
            long,
        ));
        if let Some(purposes) = purposes {
            let list: Vec<u8> = purposes.iter().flat_map(|p| tlv(OID, p, None)).collect();
            extensions.extend(tlv(
                SEQUENCE,
                &[
                    tlv(OID, EXT_KEY_USAGE, None),
                    tlv(OCTET_STRING, &tlv(SEQUENCE, &list, None), None),
                ]
                .concat(),
                long,
            ));
        }
        tbs.extend(tlv(EXTENSIONS, &tlv(SEQUENCE, &extensions, long), None));
        let body = [
            tlv(SEQUENCE, &tbs, long),
            filler.clone(),
            tlv(0x03, &[0, 1, 2], None),
        ]
        .concat();
        tlv(SEQUENCE, &body, long)
    }

    #[test]
    fn reads_a_real_openssl_certificate() {
        let scratch = testkit::Scratch::new("cert-fields");
        let dir = scratch.path();
        // The certificate of Prometheus' TLS guide (with the subjectAltName), and one with
        // dates in the past, made by `openssl ca`.
        let run = |args: &[&str]| testkit::openssl(dir, args);
        testkit::guide_certificate(dir, 365);
        let dates = run(&[
            "x509",
            "-in",
            "guide.pem",
            "-noout",
            "-startdate",
            "-enddate",
            "-dateopt",
            "iso_8601",
        ]);
        let der = pem_der(&std::fs::read_to_string(dir.join("guide.pem")).unwrap());
        let fields = read(&der).unwrap();
        assert_eq!(
            dates,
            format!(
                "notBefore={}\nnotAfter={}\n",
                iso(fields.not_before),
                iso(fields.not_after)
            )
        );
        assert_eq!(fields.not_after - fields.not_before, 365 * 86_400);
        assert_eq!(fields.server_auth, None);
        // Truncated anywhere: an error, never a panic.
        for len in 0..der.len() {
            assert!(read(&der[..len]).is_err(), "{len}");
        }
        let mut longer = der.clone();
        longer.push(0);
        assert_eq!(read(&longer), Err(DerError::TrailingData));
    }

    /// `2026-12-06 20:50:23Z`, as `openssl x509 -dateopt iso_8601` prints it.
    fn iso(secs: i64) -> String {
        utc(secs).replace(" UTC", "Z")
    }

    /// The DER of the first PEM certificate.
    fn pem_der(pem: &str) -> Vec<u8> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        CertificateDer::from_pem_slice(pem.as_bytes())
            .unwrap()
            .to_vec()
    }

    #[test]
    fn times_and_purposes_are_read_exactly() {
        let t = |text: &str, tag| read_time(&tlv(tag, text.as_bytes(), None));
        assert_eq!(t("700101000000Z", UTC_TIME), Ok(0));
        assert_eq!(t("491231235959Z", UTC_TIME), Ok(2_524_607_999));
        assert_eq!(t("500101000000Z", UTC_TIME), Ok(-631_152_000));
        assert_eq!(t("99991231235959Z", GENERALIZED_TIME), Ok(253_402_300_799));
        for bad in [
            "700101000000",
            "700230000000Z",
            "701301000000Z",
            "700101240000Z",
            "7001010000+0Z",
            "700101000060Z",
        ] {
            assert_eq!(t(bad, UTC_TIME), Err(DerError::BadTime), "{bad}");
        }
        assert_eq!(t("20000229000000Z", GENERALIZED_TIME), Ok(951_782_400));
        assert_eq!(
            t("21000229000000Z", GENERALIZED_TIME),
            Err(DerError::BadTime)
        );
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
        let times = || {
            (
                der_time((2020, 1, 1, 0, 0, 0), false),
                der_time((2030, 1, 1, 0, 0, 0), false),
            )
        };
        for (purposes, want) in [
            (None, None),
            (Some(&[SERVER_AUTH][..]), Some(true)),
            (Some(&[&[0x2b, 6, 1, 5, 5, 7, 3, 2][..]][..]), Some(false)),
            (
                Some(&[&[0x2b, 6, 1, 5, 5, 7, 3, 2][..], ANY_EKU][..]),
                Some(true),
            ),
            (Some(&[][..]), Some(false)),
        ] {
            let der = certificate(times(), purposes, true, 3, None);
            assert_eq!(read(&der).unwrap().server_auth, want, "{purposes:?}");
        }
    }

    /// An indefinite length (`0x80`, BER only) is refused, never read as 128, and a length
    /// of more than four bytes is refused: a certificate whose body is exactly 128 bytes
    /// reads with a proper length and not with these.
    #[test]
    fn indefinite_and_overlong_lengths_are_refused() {
        let times = (
            der_time((2020, 1, 1, 0, 0, 0), false),
            der_time((2030, 1, 1, 0, 0, 0), false),
        );
        // A body of exactly 128 bytes: the certificate's, padded at its end (after the
        // signature, where the walk does not look).
        let der = certificate(times, None, false, 0, None);
        assert!(der[1] < 0x80);
        let pad = 128 - 2 - (der.len() - 2);
        let body = &[&der[2..], &tlv(OCTET_STRING, &vec![0; pad], None)].concat();
        assert_eq!(body.len(), 128);
        let want = read(&der).unwrap();
        for length in [&[0x81, 0x80][..], &[0x82, 0, 0x80], &[0x84, 0, 0, 0, 0x80]] {
            let der = [&[SEQUENCE][..], length, body].concat();
            assert_eq!(read(&der), Ok(want), "{length:02x?}");
        }
        let indefinite = [&[SEQUENCE, 0x80][..], body].concat();
        assert_eq!(read(&indefinite), Err(DerError::BadLength));
        let five = [&[SEQUENCE, 0x85, 0, 0, 0, 0, 0x80][..], body].concat();
        assert_eq!(read(&five), Err(DerError::BadLength));
    }

    /// Each element the walk reads must have its type: the same certificate with the tag of
    /// its serial number, its validity or a key purpose changed (to a SET, an OCTET STRING,
    /// a NULL) is refused.
    #[test]
    fn an_element_of_another_type_is_refused() {
        let (b, a) = (
            der_time((2020, 1, 1, 0, 0, 0), false),
            der_time((2030, 1, 1, 0, 0, 0), false),
        );
        let der = certificate((b.clone(), a), Some(&[SERVER_AUTH]), false, 3, None);
        assert_eq!(read(&der).unwrap().server_auth, Some(true));
        let find = |needle: &[u8]| der.windows(needle.len()).position(|w| w == needle).unwrap();
        let serial = find(&[INTEGER, 3, 1, 2, 3]);
        let validity = find(&b) - 2;
        assert_eq!(der[validity], SEQUENCE);
        let purpose = find(SERVER_AUTH) - 2;
        assert_eq!(der[purpose], OID);
        for (at, tag) in [
            (serial, OCTET_STRING),
            (validity, 0x31),
            (purpose, OCTET_STRING),
            (purpose, 0x05),
        ] {
            let mut changed = der.clone();
            changed[at] = tag;
            assert!(
                matches!(read(&changed), Err(DerError::Unexpected(_))),
                "{at} {tag:#x}: {:?}",
                read(&changed)
            );
        }
    }

    fn read_time(der: &[u8]) -> Result<i64, DerError> {
        time(&mut Der::new(der))
    }

    proptest! {
        #![proptest_config(testkit::proptest_cases(1000))]

        /// Generated certificates (any dates in 0001-9999, both time types, short and long
        /// lengths, with or without a version and key purposes): read back exactly, dates
        /// equal to the day-counting reference.
        #[test]
        fn generated_certificates_read_back(
            before in datetime(),
            after in datetime(),
            generalized in any::<bool>(),
            server_auth in proptest::option::of(any::<bool>()),
            version in any::<bool>(),
            blob in 0usize..300,
            long in proptest::option::of(1u8..=4),
        ) {
            let other: &[u8] = &[0x2b, 6, 1, 5, 5, 7, 3, 2];
            let purposes: Option<Vec<&[u8]>> = server_auth.map(|s| if s { vec![other, SERVER_AUTH] } else { vec![other] });
            let der = certificate(
                (der_time(before, generalized), der_time(after, generalized)),
                purposes.as_deref(),
                version,
                blob,
                long,
            );
            let fields = read(&der).unwrap();
            let (y, mo, d, h, mi, s) = before;
            prop_assert_eq!(fields.not_before, counted(y, mo, d, h, mi, s));
            let (y, mo, d, h, mi, s) = after;
            prop_assert_eq!(fields.not_after, counted(y, mo, d, h, mi, s));
            prop_assert_eq!(fields.server_auth, server_auth);
            prop_assert_eq!(iso(fields.not_before), format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z", before.0, before.1, before.2, before.3, before.4, before.5));
        }

        /// Mutated certificates (bytes flipped, cut, inserted, repeated, DER tokens such as
        /// long lengths inserted): no panic, and anything read has dates that print back as
        /// valid times.
        #[test]
        fn mutated_certificates_never_panic(
            before in datetime(),
            after in datetime(),
            mutations in proptest::collection::vec(testkit::mutation::mutation(TOKENS.len()), 1..4),
        ) {
            let der = certificate(
                (der_time(before, false), der_time(after, false)),
                Some(&[SERVER_AUTH]),
                true,
                40,
                None,
            );
            let mutated = testkit::mutation::mutate(&der, &mutations, TOKENS);
            if let Ok(fields) = read(&mutated) {
                for secs in [fields.not_before, fields.not_after] {
                    let shown = utc(secs);
                    prop_assert_eq!(shown.len(), "0000-00-00 00:00:00 UTC".len(), "{}", shown);
                }
            }
        }

        /// The right classification: a byte changed inside the fields skipped (issuer,
        /// subject, key: the runs of filler) reads the same; one changed inside a date's
        /// digits is a malformed time or another date, never the same one and never a panic.
        #[test]
        fn changes_are_classified(
            before in datetime(),
            after in datetime(),
            at in any::<usize>(),
            xor in 1u8..,
        ) {
            let (b, a) = (der_time(before, false), der_time(after, false));
            let der = certificate((b.clone(), a.clone()), None, true, 40, None);
            let want = read(&der).unwrap();
            let filler: Vec<usize> = (1..der.len() - 1)
                .filter(|&i| der[i - 1..=i + 1] == [5, 5, 5])
                .collect();
            let mut changed = der.clone();
            changed[filler[at % filler.len()]] ^= xor;
            prop_assert_eq!(read(&changed), Ok(want));
            let start = der.windows(b.len()).position(|w| w == b).unwrap();
            let digit = start + 2 + at % (b.len() - 3);
            let mut changed = der.clone();
            changed[digit] ^= xor;
            match read(&changed) {
                Err(e) => prop_assert_eq!(e, DerError::BadTime),
                Ok(fields) => prop_assert_ne!(fields.not_before, want.not_before),
            }
        }

        /// Any bytes at all: no panic, and what is read is bounded by the input.
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = read(&bytes);
        }
    }
}
