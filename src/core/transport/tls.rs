//! TLS for `wss://` (rustls with the ring provider): the trusted roots, the handshake, and the
//! connection shared by the two halves of the stream. The lock on the connection is never held
//! while blocked on the socket: the reader reads raw bytes first and locks only to decrypt;
//! the writer locks to encrypt and writes the records after unlocking. Only the writer thread
//! writes records to the socket, so they go out in the order TLS made them.

use super::socket::Socket;
use crate::core::error::{Error, ErrorKind, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// The certificates of a PEM file; an error naming the file when it has none.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let invalid =
        |why: String| Error::invalid_argument(format!("ca_file: {}: {why}", path.display()));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| invalid(e.to_string()))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("no CERTIFICATE block in it".into()));
    }
    Ok(certs)
}

/// The client configuration: the webpki (Mozilla) roots, plus the certificates of `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|e| {
                Error::invalid_argument(format!("ca_file: {}: {e}", path.display()))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Runs the TLS handshake with `host` on `socket` (whose timeouts bound it), then splits the
/// connection for the two threads.
pub fn handshake(
    socket: &Socket,
    host: &str,
    config: Arc<ClientConfig>,
    address: &str,
) -> Result<(TlsReader, TlsWriter)> {
    let fail = |why: String| {
        Error::new(ErrorKind::Transport, format!("TLS handshake with {address} failed: {why}"))
    };
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| fail(format!("\"{host}\" is not a valid server name: {e}")))?;
    let mut conn = ClientConnection::new(config, name).map_err(|e| fail(e.to_string()))?;
    let mut io = socket;
    while conn.is_handshaking() {
        conn.complete_io(&mut io).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                fail("timed out (the connect timeout passed)".into())
            }
            io::ErrorKind::UnexpectedEof => fail("the server closed the connection".into()),
            _ => fail(e.to_string()),
        })?;
    }
    let conn = Arc::new(Mutex::new(conn));
    let clone = |s: &Socket| s.try_clone().map_err(|e| fail(e.to_string()));
    let reader = TlsReader {
        socket: clone(socket)?,
        conn: conn.clone(),
        raw: vec![0; 64 * 1024],
        plain: Vec::new(),
        taken: 0,
        eof: false,
    };
    let writer = TlsWriter { socket: clone(socket)?, conn, records: Vec::new() };
    Ok((reader, writer))
}

fn lock(conn: &Mutex<ClientConnection>) -> MutexGuard<'_, ClientConnection> {
    conn.lock().unwrap_or_else(|p| p.into_inner())
}

/// The reading side: raw bytes from the socket, decrypted under the lock.
pub struct TlsReader {
    socket: Socket,
    conn: Arc<Mutex<ClientConnection>>,
    raw: Vec<u8>,
    /// Decrypted bytes not yet handed out, from `taken` on.
    plain: Vec<u8>,
    taken: usize,
    /// The peer closed (close_notify or end of stream).
    eof: bool,
}

impl TlsReader {
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// Plaintext into `buf`: 0 at the end of the stream; `WouldBlock` when `blocking` is false
    /// and nothing has arrived. Sets `*flush` when TLS has records of its own to send.
    pub fn read(&mut self, buf: &mut [u8], blocking: bool, flush: &mut bool) -> io::Result<usize> {
        loop {
            if self.taken < self.plain.len() {
                let n = buf.len().min(self.plain.len() - self.taken);
                buf[..n].copy_from_slice(&self.plain[self.taken..self.taken + n]);
                self.taken += n;
                return Ok(n);
            }
            if self.eof {
                return Ok(0);
            }
            let n = if blocking {
                self.socket.read(&mut self.raw)?
            } else {
                self.socket.read_now(&mut self.raw)?
            };
            if n == 0 {
                self.eof = true;
                continue;
            }
            self.plain.clear();
            self.taken = 0;
            let mut conn = lock(&self.conn);
            let mut input = &self.raw[..n];
            while !input.is_empty() {
                if conn.read_tls(&mut input)? == 0 {
                    break; // close_notify came: nothing more is read
                }
                conn.process_new_packets()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                // Taken at once: rustls holds only 16 KiB of plaintext.
                match conn.reader().read_to_end(&mut self.plain) {
                    Ok(_) => self.eof = true, // clean close_notify
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            *flush |= conn.wants_write();
        }
    }
}

/// The writing side: plaintext encrypted under the lock, records written after it.
pub struct TlsWriter {
    socket: Socket,
    conn: Arc<Mutex<ClientConnection>>,
    records: Vec<u8>,
}

impl TlsWriter {
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = {
            let mut conn = lock(&self.conn);
            let n = conn.writer().write(buf)?;
            take_records(&mut conn, &mut self.records)?;
            n
        };
        self.send_records()?;
        Ok(n)
    }

    /// Sends the records TLS queued of its own accord.
    pub fn flush_tls(&mut self) -> io::Result<()> {
        take_records(&mut lock(&self.conn), &mut self.records)?;
        self.send_records()
    }

    fn send_records(&mut self) -> io::Result<()> {
        let result = self.socket.write_all(&self.records);
        self.records.clear();
        result
    }
}

fn take_records(conn: &mut ClientConnection, out: &mut Vec<u8>) -> io::Result<()> {
    while conn.wants_write() {
        conn.write_tls(out)?;
    }
    Ok(())
}
