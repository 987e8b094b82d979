//! The TLS step of the client's connector chain: rustls (ring provider) over whatever the
//! chain opened (a socket, or a proxy's CONNECT tunnel). Ours rather than ureq's so that
//! `server_name` (Prometheus' `tls_config.server_name`) sets the name sent and verified, and so
//! that certificate failures keep rustls' own error, which [`describe`] turns into a clear
//! message.
//!
//! A server certificate that is exactly one of `ca_file`'s certificates is accepted even when
//! it is a CA certificate (`CA:TRUE`), as Go and curl accept it: that is the self-signed
//! certificate Prometheus' TLS guide makes with `openssl req -x509`. Its name and validity
//! period are still checked ([`CaFileVerifier`]); the handshake's signatures always are.

mod cert_fields;

use std::fmt;
use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::Duration;

use depinfo_read::text_safety::printable_line;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// A PEM file named by `tls_config`, read once when the config file is loaded (through the
/// bounded opener). Its `Debug` shows the path only: the bytes may be a private key.
#[derive(Clone)]
pub(crate) struct PemFile {
    /// Where it was read from (for messages).
    pub(crate) path: std::path::PathBuf,
    /// Its content.
    pub(crate) bytes: Vec<u8>,
}

impl fmt::Debug for PemFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PemFile").field(&self.path).finish()
    }
}

/// What the TLS step needs, from `tls_config` of `--http.config.file`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsOptions {
    /// A PEM file of CA certificates trusted on top of the system's.
    pub(crate) ca_file: Option<PemFile>,
    /// The client certificate chain (PEM) and its key (PEM), both or neither.
    pub(crate) cert_file: Option<PemFile>,
    /// See `cert_file`.
    pub(crate) key_file: Option<PemFile>,
    /// The name sent (SNI) and verified instead of the URL's host.
    pub(crate) server_name: Option<String>,
    /// Accept any certificate (Prometheus' `insecure_skip_verify`).
    pub(crate) insecure_skip_verify: bool,
}

/// The connector: wraps the chained transport in TLS when the URL is `https://`.
pub(crate) struct TlsConnector {
    config: Arc<ClientConfig>,
    server_name: Option<ServerName<'static>>,
    client_cert: bool,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector").finish_non_exhaustive()
    }
}

/// The ring provider, whatever else the process installed.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsConnector {
    /// Builds the rustls configuration: the system's roots plus `ca_file`, the client
    /// certificate, and the verification choice. Errors name the file and fit on one line.
    pub(crate) fn new(options: &TlsOptions) -> Result<TlsConnector, TlsError> {
        Self::build(options).map_err(TlsError::Setup)
    }

    /// [`TlsConnector::new`], its error as a message.
    fn build(options: &TlsOptions) -> Result<TlsConnector, String> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?;
        let builder = if options.insecure_skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
        } else {
            let mut roots = RootCertStore::empty();
            // The system's store; unreadable entries are skipped (as curl does), and a system
            // without any still works with `ca_file`.
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            match &options.ca_file {
                Some(ca) => {
                    let certs = certificates(ca)?;
                    for cert in &certs {
                        roots.add(cert.clone()).map_err(|e| {
                            format!(
                                "ca_file {}: not a usable CA certificate: {}",
                                ca.path.display(),
                                describe(&e, false)
                            )
                        })?;
                    }
                    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                        Arc::new(roots),
                        provider(),
                    )
                    .build()
                    .map_err(|e| format!("ca_file {}: {e}", ca.path.display()))?;
                    builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(CaFileVerifier {
                            webpki,
                            ca_file: certs,
                        }))
                }
                None => builder.with_root_certificates(roots),
            }
        };
        let config = match (&options.cert_file, &options.key_file) {
            (Some(cert), Some(key)) => {
                let chain = certificates(cert)?;
                // The key's bytes are never quoted: only the file and what kind of trouble.
                let key_der = PrivateKeyDer::from_pem_slice(&key.bytes).map_err(|e| {
                    format!(
                        "key_file {}: no PEM private key: {}",
                        key.path.display(),
                        pem(&e)
                    )
                })?;
                builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                    let why = match e {
                        rustls::Error::InconsistentKeys(_) => {
                            "the key does not belong to the certificate".to_owned()
                        }
                        other => describe(&other, true),
                    };
                    format!(
                        "cert_file {} and key_file {}: {why}",
                        cert.path.display(),
                        key.path.display()
                    )
                })?
            }
            (None, None) => builder.with_no_client_auth(),
            (Some(_), None) => return Err("tls_config: cert_file needs key_file".into()),
            (None, Some(_)) => return Err("tls_config: key_file needs cert_file".into()),
        };
        let server_name = match &options.server_name {
            Some(name) => Some(ServerName::try_from(name.clone()).map_err(|_| {
                format!(
                    "tls_config: server_name {:?} is not a host name",
                    name.chars().take(80).collect::<String>()
                )
            })?),
            None => None,
        };
        Ok(TlsConnector {
            config: Arc::new(config),
            server_name,
            client_cert: options.cert_file.is_some(),
        })
    }
}

/// A PEM error in words (never the bytes of the file, which may be a key).
fn pem(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error as E;
    match e {
        E::Io(io) => io.to_string(),
        E::MissingSectionEnd { .. } => "a PEM section has no END line".to_owned(),
        E::IllegalSectionStart { .. } => "a malformed PEM BEGIN line".to_owned(),
        E::Base64Decode(_) => "a PEM section is not valid base64".to_owned(),
        E::NoItemsFound => "no PEM section of the right kind".to_owned(),
        _ => "not readable as PEM".to_owned(),
    }
}

/// The certificates of a PEM file; an empty or malformed one is an error naming it.
fn certificates(file: &PemFile) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&file.bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: bad PEM: {}", file.path.display(), pem(&e)))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", file.path.display()));
    }
    Ok(certs)
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Err(ureq::Error::ConnectionFailed);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let name = match &self.server_name {
            Some(name) => name.clone(),
            None => {
                let host = details
                    .uri
                    .host()
                    .ok_or_else(|| ureq::Error::BadUri("no host".into()))?;
                let bare = host.trim_start_matches('[').trim_end_matches(']');
                ServerName::try_from(bare.to_owned())
                    .map_err(|_| ureq::Error::BadUri(format!("{bare:?} is not a host name")))?
            }
        };
        let mut conn = ClientConnection::new(Arc::clone(&self.config), name)
            .map_err(|e| ureq::Error::Io(std::io::Error::other(e)))?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        // rustls' own error stays inside the io::Error, for `describe`.
        if let Err(e) = conn.complete_io(&mut sock) {
            return Err(refusal(&mut conn, &mut sock, e, self.client_cert));
        }
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned { conn, sock },
            sent: false,
            received: false,
            client_cert: self.client_cert,
        })))
    }
}

/// A transport inside TLS.
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
    /// Whether anything was sent after the handshake.
    sent: bool,
    /// Whether anything was received after the handshake.
    received: bool,
    /// Whether we offered a client certificate.
    client_cert: bool,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish_non_exhaustive()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        if let Err(e) = self.stream.write_all(output) {
            if self.sent {
                return Err(e.into());
            }
            let StreamOwned { conn, sock } = &mut self.stream;
            return Err(refusal(conn, sock, e, self.client_cert));
        }
        self.sent = true;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = match self.stream.read(input) {
            Ok(n) => n,
            // Nothing came back yet: the server may have refused the handshake.
            Err(e) if !self.received => {
                let StreamOwned { conn, sock } = &mut self.stream;
                return Err(refusal(conn, sock, e, self.client_cert));
            }
            Err(e) => return Err(e.into()),
        };
        self.received |= amount > 0;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// The error of a handshake or first write that failed: a TLS 1.3 server refusing our client
/// certificate (or its absence) says why in an alert and closes, and the write fails first.
/// The alert, when it can still be read, is the better error; when the reset overtook it, say
/// what it most likely was.
fn refusal(
    conn: &mut ClientConnection,
    sock: &mut TransportAdapter,
    e: std::io::Error,
    client_cert: bool,
) -> ureq::Error {
    if e.get_ref()
        .is_some_and(<dyn std::error::Error + Send + Sync>::is::<rustls::Error>)
    {
        return e.into();
    }
    if conn.read_tls(sock).is_ok_and(|n| n > 0)
        && let Err(alert) = conn.process_new_packets()
    {
        return ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, alert));
    }
    let e = ureq::Error::from(e);
    if let ureq::Error::Io(io) = &e
        && !client_cert
        && matches!(
            io.kind(),
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
        )
    {
        return ureq::Error::Io(std::io::Error::new(io.kind(), HandshakeClosed));
    }
    e
}

/// The server closed the connection during the handshake, without an alert: most likely it
/// wanted a client certificate. A TLS failure (not a network one) for the messages.
#[derive(Debug)]
pub(crate) struct HandshakeClosed;

impl fmt::Display for HandshakeClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the server closed the connection during the TLS handshake (does it require a client certificate? tls_config.cert_file and key_file)")
    }
}

impl std::error::Error for HandshakeClosed {}

/// Why TLS failed, by whose side must act; each message says what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The TLS settings (`tls_config`: CA, client certificate and key, server name) cannot be
    /// used; the message names the setting or file.
    #[error("{0}")]
    Setup(String),
    /// The server's certificate is not accepted: untrusted, wrong name, expired, absent.
    #[error("{0}")]
    Certificate(String),
    /// The server wants a client certificate, or refused ours.
    #[error("{0}")]
    ClientCertificate(String),
    /// Any other handshake failure: not TLS, nothing in common, a broken protocol, an alert.
    #[error("{0}")]
    Handshake(String),
}

impl TlsError {
    /// The failure of a handshake that rustls reported. `client_cert`: whether we offered a
    /// client certificate.
    pub(crate) fn of(error: &rustls::Error, client_cert: bool) -> TlsError {
        use rustls::AlertDescription as A;
        use rustls::Error as E;
        let message = describe(error, client_cert);
        match error {
            E::InvalidCertificate(_) | E::NoCertificatesPresented => TlsError::Certificate(message),
            E::AlertReceived(A::CertificateRequired | A::BadCertificate)
            | E::InconsistentKeys(_) => TlsError::ClientCertificate(message),
            _ => TlsError::Handshake(message),
        }
    }
}

impl From<&HandshakeClosed> for TlsError {
    fn from(closed: &HandshakeClosed) -> TlsError {
        TlsError::ClientCertificate(closed.to_string())
    }
}

/// A clear message for a TLS failure, saying what is wrong and what to do; never a Rust
/// Debug form. `client_cert`: whether we offered a client certificate.
pub(crate) fn describe(error: &rustls::Error, client_cert: bool) -> String {
    use rustls::Error as E;
    match error {
        E::InvalidCertificate(cert) => certificate_problem(cert),
        E::AlertReceived(
            rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::BadCertificate,
        ) if !client_cert => {
            "TLS handshake refused by the server: it requires a client certificate (tls_config.cert_file and key_file)".to_owned()
        }
        E::AlertReceived(alert) => alert_problem(*alert),
        E::NoCertificatesPresented => {
            "the server sent no certificate (it cannot be verified; is it really a TLS server?)".to_owned()
        }
        E::InvalidMessage(_) | E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            "the server's answer is not the TLS handshake expected (is it an http:// server? then use http:// in the URL)".to_owned()
        }
        E::PeerIncompatible(_) => {
            "the server and this client share no TLS version or algorithm (TLS 1.2 or 1.3 with current ciphers is needed)".to_owned()
        }
        E::PeerMisbehaved(_) => {
            "the server broke the TLS protocol during the handshake (check its TLS setup)".to_owned()
        }
        E::UnsupportedNameType => {
            "the host name cannot be used for TLS (set tls_config.server_name to a DNS name or IP address)".to_owned()
        }
        E::DecryptError => "TLS decryption failed (the connection was tampered with, or the server's TLS is broken)".to_owned(),
        E::FailedToGetCurrentTime => "this machine's clock cannot be read (needed to check certificates)".to_owned(),
        E::InconsistentKeys(_) => {
            "the client key does not belong to the client certificate (tls_config.cert_file and key_file)".to_owned()
        }
        E::General(text) => format!(
            "TLS error: {} (check the server's TLS setup)",
            printable_line(text)
        ),
        _ => "TLS handshake failed (check the server's TLS setup, for example with openssl s_client)".to_owned(),
    }
}

/// What is wrong with the server's certificate, and what to do.
fn certificate_problem(cert: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match cert {
        C::UnknownIssuer => {
            "certificate not trusted (unknown issuer: give its CA with tls_config.ca_file)".to_owned()
        }
        C::BadSignature => {
            "certificate not trusted: its signature does not verify with the CA of the same name (is tls_config.ca_file the CA that signed it?)".to_owned()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "wrong host name: the certificate is not valid for this host (see tls_config.server_name)"
                .to_owned()
        }
        C::ExpiredContext { time, not_after } => format!(
            "certificate expired on {} (now {}): the server needs a renewed certificate",
            shown_time(*not_after),
            shown_time(*time)
        ),
        C::Expired => "certificate expired: the server needs a renewed certificate".to_owned(),
        C::NotValidYetContext { time, not_before } => format!(
            "certificate not valid before {} (now {}): check this machine's clock, or the certificate's start date",
            shown_time(*not_before),
            shown_time(*time)
        ),
        C::NotValidYet => {
            "certificate not valid yet: check this machine's clock, or the certificate's start date".to_owned()
        }
        C::Revoked => "certificate revoked: the server needs a new certificate".to_owned(),
        C::UnknownRevocationStatus | C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
            "the certificate's revocation status is unknown: the server needs a certificate its CA vouches for".to_owned()
        }
        C::BadEncoding => "the server's certificate is malformed (not valid DER): the server needs a proper certificate".to_owned(),
        C::UnhandledCriticalExtension => {
            "the server's certificate has a critical extension this client does not know: the server needs a certificate without it".to_owned()
        }
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "the server's certificate is not for TLS servers (its extended key usage lacks serverAuth): the server needs a certificate made for serving".to_owned()
        }
        C::InvalidOcspResponse => "the server's OCSP response is invalid".to_owned(),
        C::ApplicationVerificationFailure => "the server's certificate was refused".to_owned(),
        C::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(e) => webpki_problem(e),
            None => "the server's certificate was refused (check it with openssl s_client -showcerts)".to_owned(),
        },
        #[allow(deprecated, reason = "rustls may still return the variant without context")]
        C::UnsupportedSignatureAlgorithm
        | C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => unsupported_signature(),
        _ => "the server's certificate was refused (check it with openssl s_client -showcerts)".to_owned(),
    }
}

fn unsupported_signature() -> String {
    "the server's certificate is signed with an algorithm this client does not accept (RSA with SHA-256 or better, ECDSA P-256 or P-384, or Ed25519 are)".to_owned()
}

/// The checker's own errors that rustls passes on unnamed.
fn webpki_problem(e: &webpki::Error) -> String {
    use webpki::Error as W;
    match e {
        W::CaUsedAsEndEntity => {
            "the server's certificate is a CA certificate (CA:TRUE, like the self-signed one of Prometheus' TLS guide) that is not in tls_config.ca_file: give that certificate itself as tls_config.ca_file".to_owned()
        }
        W::EndEntityUsedAsCa => {
            "a certificate of the server's chain signs another but is not a CA (CA:FALSE): the server's chain is wrong".to_owned()
        }
        W::PathLenConstraintViolated | W::NameConstraintViolation => {
            "the server's certificate chain breaks its CA's constraints: the server needs a certificate its CA may issue".to_owned()
        }
        W::MaximumSignatureChecksExceeded
        | W::MaximumPathBuildCallsExceeded
        | W::MaximumNameConstraintComparisonsExceeded
        | W::MaximumPathDepthExceeded => {
            "the server's certificate chain is too long or complex to check: the server should send a shorter chain".to_owned()
        }
        W::CertDistrusted => "the server's certificate or its CA is distrusted".to_owned(),
        W::UnsupportedCertVersion => {
            "the certificate is not X.509 version 3: make it again with a current openssl".to_owned()
        }
        W::EmptyEkuExtension | W::RequiredEkuNotFoundContext(_) => {
            "the server's certificate is not for TLS servers (its extended key usage lacks serverAuth): the server needs a certificate made for serving".to_owned()
        }
        _ => "the server's certificate was refused (check it with openssl s_client -showcerts)".to_owned(),
    }
}

/// Why the server's alert refused the handshake, in words.
fn alert_problem(alert: rustls::AlertDescription) -> String {
    use rustls::AlertDescription as A;
    let why = match alert {
        A::BadCertificate
        | A::UnknownCA
        | A::CertificateUnknown
        | A::CertificateExpired
        | A::CertificateRevoked
        | A::UnsupportedCertificate => {
            "it does not accept our client certificate (tls_config.cert_file and key_file; is it signed by the CA the server trusts, and valid?)"
        }
        A::CertificateRequired => {
            "it requires a client certificate (tls_config.cert_file and key_file)"
        }
        A::HandshakeFailure | A::InsufficientSecurity => {
            "no TLS version or cipher in common (this client speaks TLS 1.2 and 1.3)"
        }
        A::ProtocolVersion => "no TLS version in common (this client speaks TLS 1.2 and 1.3)",
        A::UnrecognisedName => {
            "it does not know the host name we asked for (check the URL's host or tls_config.server_name)"
        }
        A::AccessDenied => "access denied",
        A::InternalError => "an internal error on the server",
        _ => "the server's TLS setup and ours disagree (check it with openssl s_client)",
    };
    format!("TLS handshake refused by the server: {why}")
}

/// A certificate time in messages.
fn shown_time(t: UnixTime) -> String {
    cert_fields::utc(i64::try_from(t.as_secs()).unwrap_or(i64::MAX / 2))
}

/// With `ca_file`: rustls' own verification first; when (and only when) it refuses the
/// server's certificate as a CA certificate used as the server's own, the certificate is
/// accepted if it is byte for byte one of `ca_file`'s, valid for the name, within its
/// validity period, and (if it says) meant for TLS servers.
#[derive(Debug)]
struct CaFileVerifier {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    /// The certificates of `ca_file` (not the system's).
    ca_file: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for CaFileVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refused = match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(e) => e,
        };
        let ca_as_server = matches!(
            &refused,
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))
                if matches!(other.0.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity))
        );
        if !ca_as_server
            || !self
                .ca_file
                .iter()
                .any(|c| c.as_ref() == end_entity.as_ref())
        {
            return Err(refused);
        }
        accept_configured_ca(end_entity, server_name, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The checks of a `ca_file` certificate served as the server's own: name, validity period,
/// purpose.
fn accept_configured_ca(
    cert: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<ServerCertVerified, rustls::Error> {
    use rustls::CertificateError as C;
    let bad = |e: C| rustls::Error::InvalidCertificate(e);
    let parsed = webpki::EndEntityCert::try_from(cert).map_err(|_| bad(C::BadEncoding))?;
    parsed
        .verify_is_valid_for_subject_name(server_name)
        .map_err(|_| bad(C::NotValidForName))?;
    let fields = cert_fields::read(cert.as_ref()).map_err(|_| bad(C::BadEncoding))?;
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let at = |s: i64| UnixTime::since_unix_epoch(Duration::from_secs(s.max(0).unsigned_abs()));
    if secs < fields.not_before {
        return Err(bad(C::NotValidYetContext {
            time: now,
            not_before: at(fields.not_before),
        }));
    }
    if secs > fields.not_after {
        return Err(bad(C::ExpiredContext {
            time: now,
            not_after: at(fields.not_after),
        }));
    }
    if fields.server_auth == Some(false) {
        return Err(bad(C::InvalidPurpose));
    }
    Ok(ServerCertVerified::assertion())
}

/// `insecure_skip_verify`: any certificate is accepted, signatures are still checked (the
/// handshake needs them).
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError as C;
    use rustls::OtherError;
    use std::path::Path;

    /// A message that reads like Rust's Debug output: `Name(`, `Name {`, `::`.
    fn debug_like(message: &str) -> bool {
        message.contains("::")
            || message.contains('{')
            || message
                .as_bytes()
                .windows(2)
                .any(|w| w[0].is_ascii_alphanumeric() && w[1] == b'(')
    }

    /// Callers can tell whose side must act: the server's certificate, a client certificate,
    /// or the handshake; the message is `describe`'s.
    #[test]
    fn tls_failures_are_classified_with_their_message() {
        use rustls::AlertDescription as A;
        let cases = [
            (
                rustls::Error::InvalidCertificate(C::UnknownIssuer),
                "certificate",
            ),
            (rustls::Error::NoCertificatesPresented, "certificate"),
            (
                rustls::Error::AlertReceived(A::CertificateRequired),
                "client",
            ),
            (rustls::Error::AlertReceived(A::BadCertificate), "client"),
            (rustls::Error::DecryptError, "handshake"),
            (
                rustls::Error::AlertReceived(A::HandshakeFailure),
                "handshake",
            ),
        ];
        for (error, want) in cases {
            let typed = TlsError::of(&error, false);
            let kind = match &typed {
                TlsError::Certificate(_) => "certificate",
                TlsError::ClientCertificate(_) => "client",
                TlsError::Handshake(_) => "handshake",
                other => panic!("{other:?}"),
            };
            assert_eq!(kind, want, "{error:?}");
            assert_eq!(typed.to_string(), describe(&error, false));
        }
        let closed = TlsError::from(&HandshakeClosed);
        assert!(
            matches!(&closed, TlsError::ClientCertificate(m) if *m == HandshakeClosed.to_string())
        );
        let setup = TlsConnector::new(&TlsOptions {
            ca_file: Some(PemFile {
                path: "ca.pem".into(),
                bytes: b"not PEM".to_vec(),
            }),
            ..TlsOptions::default()
        })
        .err()
        .unwrap();
        assert_eq!(
            setup,
            TlsError::Setup("ca.pem: no PEM certificate in it".into())
        );
    }

    /// Regression (issue 18, item 14 and defect 13): `certificate refused:
    /// Other(OtherError(CaUsedAsEndEntity))`. Every certificate error, alert and TLS error is
    /// words, on one line, never a Debug form.
    #[test]
    fn every_tls_error_is_described_in_words() {
        let t = |s| UnixTime::since_unix_epoch(Duration::from_secs(s));
        let other = |e: webpki::Error| C::Other(OtherError(Arc::new(e)));
        #[allow(deprecated, reason = "every variant rustls may return")]
        let certificate_errors = vec![
            C::BadEncoding,
            C::Expired,
            C::ExpiredContext {
                time: t(1_700_000_000),
                not_after: t(1_600_000_000),
            },
            C::NotValidYet,
            C::NotValidYetContext {
                time: t(1_600_000_000),
                not_before: t(1_700_000_000),
            },
            C::Revoked,
            C::UnhandledCriticalExtension,
            C::UnknownIssuer,
            C::UnknownRevocationStatus,
            C::ExpiredRevocationList,
            C::BadSignature,
            C::UnsupportedSignatureAlgorithm,
            C::NotValidForName,
            C::InvalidPurpose,
            C::InvalidOcspResponse,
            C::ApplicationVerificationFailure,
            other(webpki::Error::CaUsedAsEndEntity),
            other(webpki::Error::EndEntityUsedAsCa),
            other(webpki::Error::UnsupportedCertVersion),
            other(webpki::Error::MaximumPathDepthExceeded),
            other(webpki::Error::UnsupportedCriticalExtension),
            C::Other(OtherError(Arc::new(std::io::Error::other("Inner(Debug)")))),
        ];
        let mut errors: Vec<rustls::Error> = certificate_errors
            .into_iter()
            .map(rustls::Error::InvalidCertificate)
            .collect();
        for alert in 0..=255u8 {
            errors.push(rustls::Error::AlertReceived(
                rustls::AlertDescription::from(alert),
            ));
        }
        errors.extend([
            rustls::Error::NoCertificatesPresented,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls12NotOffered),
            rustls::Error::PeerMisbehaved(
                rustls::PeerMisbehaved::IllegalHelloRetryRequestWithEmptyCookie,
            ),
            rustls::Error::DecryptError,
            rustls::Error::General("a\nb".into()),
            rustls::Error::HandshakeNotComplete,
            rustls::Error::Other(OtherError(Arc::new(std::io::Error::other("X(y)")))),
        ]);
        for e in &errors {
            for client_cert in [false, true] {
                let m = describe(e, client_cert);
                assert!(!debug_like(&m), "{e:?}: {m}");
                assert!(!m.chars().any(char::is_control), "{e:?}: {m}");
                assert!(m.len() > 20, "{e:?}: {m}");
            }
        }
        assert_eq!(
            describe(&errors[2], false),
            "certificate expired on 2020-09-13 12:26:40 UTC (now 2023-11-14 22:13:20 UTC): the server needs a renewed certificate"
        );
        assert_eq!(
            describe(&errors[16], false),
            "the server's certificate is a CA certificate (CA:TRUE, like the self-signed one of Prometheus' TLS guide) that is not in tls_config.ca_file: give that certificate itself as tls_config.ca_file"
        );
    }

    /// The certificate of Prometheus' TLS guide (with its subjectAltName), in DER.
    fn guide_certificate(dir: &Path, name: &str) -> CertificateDer<'static> {
        certificate_with(dir, name, &[])
    }

    /// The guide's certificate with more `-addext` extensions.
    fn certificate_with(dir: &Path, name: &str, extensions: &[&str]) -> CertificateDer<'static> {
        let mut all = vec!["subjectAltName=DNS:localhost"];
        all.extend(extensions);
        testkit::self_signed_p256(dir, name, 30, "/CN=localhost", &all);
        let path = dir.join(format!("{name}.pem"));
        let bytes = std::fs::read(&path).unwrap();
        certificates(&PemFile { path, bytes }).unwrap().remove(0)
    }

    fn verifier(ca_file: Vec<CertificateDer<'static>>) -> CaFileVerifier {
        let mut roots = RootCertStore::empty();
        for c in &ca_file {
            roots.add(c.clone()).unwrap();
        }
        CaFileVerifier {
            webpki: rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider(),
            )
            .build()
            .unwrap(),
            ca_file,
        }
    }

    /// The fallback accepts exactly a `ca_file` certificate, for its name, within its
    /// validity period; anything else keeps rustls' refusal.
    #[test]
    fn a_ca_file_certificate_served_as_the_servers_own_is_checked_for_name_and_dates() {
        let scratch = testkit::Scratch::new("ca-file-verifier");
        let guide = guide_certificate(scratch.path(), "guide");
        let other = guide_certificate(scratch.path(), "other");
        let fields = cert_fields::read(guide.as_ref()).unwrap();
        let at = |s: i64| UnixTime::since_unix_epoch(Duration::from_secs(s.unsigned_abs()));
        let now = at(fields.not_before + 60);
        let localhost = ServerName::try_from("localhost").unwrap();
        let elsewhere = ServerName::try_from("elsewhere.example").unwrap();
        let check = |v: &CaFileVerifier, name: &ServerName<'_>, now| {
            v.verify_server_cert(&guide, &[], name, &[], now)
        };
        let trusting = verifier(vec![other.clone(), guide.clone()]);
        assert!(check(&trusting, &localhost, now).is_ok());
        let refused =
            |r: Result<ServerCertVerified, rustls::Error>| describe(&r.unwrap_err(), false);
        assert_eq!(
            refused(check(&trusting, &elsewhere, now)),
            "wrong host name: the certificate is not valid for this host (see tls_config.server_name)"
        );
        // Not in ca_file (another certificate is): rustls' refusal, in words.
        assert!(
            refused(check(&verifier(vec![other]), &localhost, now))
                .starts_with("the server's certificate is a CA certificate")
        );
        // Our own date checks (rustls checks dates first, so only a direct call reaches them).
        for (when, want) in [
            (fields.not_before - 1, "certificate not valid before "),
            (fields.not_after + 1, "certificate expired on "),
        ] {
            let e = accept_configured_ca(&guide, &localhost, at(when)).unwrap_err();
            assert!(
                describe(&e, false).starts_with(want),
                "{}",
                describe(&e, false)
            );
        }
        // Both ends of the validity period are inside it (RFC 5280 4.1.2.5).
        assert!(accept_configured_ca(&guide, &localhost, at(fields.not_before)).is_ok());
        assert!(accept_configured_ca(&guide, &localhost, at(fields.not_after)).is_ok());
        assert!(accept_configured_ca(&guide, &elsewhere, now).is_err());
        let truncated = CertificateDer::from(guide.as_ref()[..100].to_vec());
        assert!(accept_configured_ca(&truncated, &localhost, now).is_err());
    }

    /// A `ca_file` certificate served as the server's own is accepted for TLS servers only:
    /// with an extended key usage, it must list `serverAuth` (or any purpose); without one,
    /// any use is allowed.
    #[test]
    fn a_ca_file_certificate_served_as_the_servers_own_must_be_meant_for_servers() {
        let scratch = testkit::Scratch::new("ca-file-purpose");
        let localhost = ServerName::try_from("localhost").unwrap();
        for (name, extensions, accepted) in [
            ("client", &["extendedKeyUsage=clientAuth"][..], false),
            (
                "email",
                &["extendedKeyUsage=emailProtection,clientAuth"][..],
                false,
            ),
            (
                "server",
                &["extendedKeyUsage=clientAuth,serverAuth"][..],
                true,
            ),
            ("any", &["extendedKeyUsage=anyExtendedKeyUsage"][..], true),
            ("none", &[][..], true),
        ] {
            let cert = certificate_with(scratch.path(), name, extensions);
            let fields = cert_fields::read(cert.as_ref()).unwrap();
            let now = UnixTime::since_unix_epoch(Duration::from_secs(
                (fields.not_before + 60).unsigned_abs(),
            ));
            let direct = accept_configured_ca(&cert, &localhost, now);
            let through =
                verifier(vec![cert.clone()]).verify_server_cert(&cert, &[], &localhost, &[], now);
            if accepted {
                assert!(
                    direct.is_ok(),
                    "{name}: {}",
                    describe(&direct.unwrap_err(), false)
                );
                assert!(
                    through.is_ok(),
                    "{name}: {}",
                    describe(&through.unwrap_err(), false)
                );
            } else {
                assert_eq!(
                    direct.unwrap_err(),
                    rustls::Error::InvalidCertificate(C::InvalidPurpose),
                    "{name}"
                );
                let refused = describe(&through.unwrap_err(), false);
                assert!(
                    refused.starts_with("the server's certificate is not for TLS servers"),
                    "{name}: {refused}"
                );
            }
        }
    }

    /// A full handshake, in memory: the client's verdict (or the server's, if it fails first).
    fn handshake(
        client: &mut rustls::ClientConnection,
        server: &mut rustls::ServerConnection,
    ) -> Result<(), rustls::Error> {
        for _ in 0..20 {
            let mut to_server = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut to_server).unwrap();
            }
            let mut rd = &to_server[..];
            while !rd.is_empty() {
                server.read_tls(&mut rd).unwrap();
                server.process_new_packets()?;
            }
            let mut to_client = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut to_client).unwrap();
            }
            let mut rd = &to_client[..];
            while !rd.is_empty() {
                client.read_tls(&mut rd).unwrap();
                client.process_new_packets()?;
            }
            if !client.is_handshaking() && !server.is_handshaking() {
                return Ok(());
            }
        }
        panic!("the handshake did not end");
    }

    /// The handshake's signatures are checked with the `ca_file` certificate's key: a server
    /// that shows that certificate but signs with another key (it does not hold the
    /// certificate's) is refused, in TLS 1.3 and 1.2; with the certificate's own key the same
    /// handshake succeeds.
    #[test]
    fn a_server_showing_a_ca_file_certificate_without_its_key_is_refused() {
        use rustls::pki_types::PrivateKeyDer;
        use rustls::pki_types::pem::PemObject as _;
        let scratch = testkit::Scratch::new("ca-file-signature");
        let guide = guide_certificate(scratch.path(), "guide");
        guide_certificate(scratch.path(), "other");
        let key = |name: &str| {
            let der =
                PrivateKeyDer::from_pem_file(scratch.path().join(format!("{name}.key"))).unwrap();
            provider().key_provider.load_private_key(der).unwrap()
        };
        for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
            for (signer, accepted) in [("guide", true), ("other", false)] {
                let certified = rustls::sign::CertifiedKey::new(vec![guide.clone()], key(signer));
                let server_config = rustls::ServerConfig::builder_with_provider(provider())
                    .with_protocol_versions(&[version])
                    .unwrap()
                    .with_no_client_auth()
                    .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
                let client_config = rustls::ClientConfig::builder_with_provider(provider())
                    .with_protocol_versions(&[version])
                    .unwrap()
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier(vec![guide.clone()])))
                    .with_no_client_auth();
                let mut client = rustls::ClientConnection::new(
                    Arc::new(client_config),
                    ServerName::try_from("localhost").unwrap(),
                )
                .unwrap();
                let mut server = rustls::ServerConnection::new(Arc::new(server_config)).unwrap();
                let result = handshake(&mut client, &mut server);
                let seen = format!("{version:?} signed by {signer}: {result:?}");
                if accepted {
                    assert!(result.is_ok(), "{seen}");
                } else {
                    let e = result.unwrap_err();
                    assert!(
                        matches!(
                            e,
                            rustls::Error::InvalidCertificate(C::BadSignature)
                                | rustls::Error::PeerMisbehaved(_)
                        ),
                        "{seen}"
                    );
                    assert!(describe(&e, false).len() > 20, "{seen}");
                }
            }
        }
    }
}
