//! The TLS step of the client's connector chain: rustls (ring provider) over whatever the
//! chain opened (a socket, or a proxy's CONNECT tunnel). Ours rather than ureq's so that
//! `server_name` (Prometheus' `tls_config.server_name`) sets the name sent and verified, and so
//! that certificate failures keep rustls' own error, which [`describe`] turns into a clear
//! message.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// What the TLS step needs, from `tls_config` of `--http.config.file`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsOptions {
    /// A PEM file of CA certificates trusted on top of the system's.
    pub(crate) ca_file: Option<std::path::PathBuf>,
    /// The client certificate chain (PEM) and its key (PEM), both or neither.
    pub(crate) cert_file: Option<std::path::PathBuf>,
    /// See `cert_file`.
    pub(crate) key_file: Option<std::path::PathBuf>,
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
    pub(crate) fn new(options: &TlsOptions) -> Result<TlsConnector, String> {
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
            if let Some(ca) = &options.ca_file {
                let certs = read_certs(ca)?;
                for cert in certs {
                    roots.add(cert).map_err(|e| {
                        format!("ca_file {}: not a usable CA certificate: {e}", ca.display())
                    })?;
                }
            }
            builder.with_root_certificates(roots)
        };
        let config = match (&options.cert_file, &options.key_file) {
            (Some(cert), Some(key)) => {
                let chain = read_certs(cert)?;
                let key_pem =
                    crate::untrusted_file::read_small(key).map_err(|e| format!("key_file {e}"))?;
                // The key's bytes are never quoted: only the file and what kind of trouble.
                let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
                    format!(
                        "key_file {}: no PEM private key: {}",
                        key.display(),
                        pem(&e)
                    )
                })?;
                builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                    format!(
                        "cert_file {} and key_file {}: {e}",
                        cert.display(),
                        key.display()
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

/// A PEM error without its (possibly long) inner detail repeated.
fn pem(e: &rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        other => format!("{other:?}"),
    }
}

/// The certificates of a PEM file; an empty or unreadable file is an error naming it.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = crate::untrusted_file::read_small(path).map_err(|e| e.to_string())?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: bad PEM: {}", path.display(), pem(&e)))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
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
        return ureq::Error::Io(std::io::Error::new(
            io.kind(),
            "the server closed the connection during the TLS handshake (does it require a client certificate? tls_config.cert_file and key_file)",
        ));
    }
    e
}

/// A clear message for a TLS failure; `client_cert`: whether we offered a client certificate.
pub(crate) fn describe(error: &rustls::Error, client_cert: bool) -> String {
    use rustls::CertificateError as C;
    match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer | C::BadSignature => {
                "certificate not trusted (unknown issuer: give its CA with tls_config.ca_file)"
                    .to_owned()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "wrong host name: the certificate is not valid for this host (see tls_config.server_name)"
                    .to_owned()
            }
            C::Expired | C::ExpiredContext { .. } => "certificate expired".to_owned(),
            C::NotValidYet | C::NotValidYetContext { .. } => "certificate not valid yet".to_owned(),
            C::Revoked => "certificate revoked".to_owned(),
            other => format!("certificate refused: {other:?}"),
        },
        rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::BadCertificate,
        ) if !client_cert => {
            "TLS handshake refused by the server: it requires a client certificate (tls_config.cert_file and key_file)".to_owned()
        }
        rustls::Error::AlertReceived(
            alert @ (rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::UnknownCA
            | rustls::AlertDescription::CertificateUnknown
            | rustls::AlertDescription::CertificateExpired
            | rustls::AlertDescription::CertificateRevoked
            | rustls::AlertDescription::UnsupportedCertificate),
        ) => format!("TLS handshake refused by the server: it does not accept our client certificate ({alert:?})"),
        rustls::Error::AlertReceived(alert) => {
            format!("TLS handshake refused by the server ({alert:?})")
        }
        other => format!("TLS error: {other}"),
    }
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
