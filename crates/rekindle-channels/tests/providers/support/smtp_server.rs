//! A real SMTP server on 127.0.0.1 for the SMTP transport tests: mailin's SMTP
//! state machine (commands, replies, AUTH PLAIN and LOGIN, STARTTLS, dot
//! unstuffing) driven over tokio sockets, with rustls for TLS.
//!
//! It records every accepted message with its envelope, the credentials
//! used and whether the session was encrypted, and rejects chosen recipients
//! with a chosen reply.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use mailin::{AuthMechanism, Handler, Response, SessionBuilder, response};
use rcgen::CertifiedKey;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// Maximum length of one command or data line read from a client. RFC 5321
/// section 4.5.3.1.6 sets 1000 octets for a text line; the margin is for
/// clients that exceed it.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// Connection security of the test server.
#[derive(Clone)]
pub enum ServerTls {
    None,
    StartTls(Arc<ServerConfig>),
    Implicit(Arc<ServerConfig>),
}

/// The server's behaviour.
#[derive(Clone)]
pub struct ServerSettings {
    pub tls: ServerTls,
    /// User name and password that AUTH accepts; `None` offers no AUTH.
    pub login: Option<(String, String)>,
    /// Offer AUTH before TLS, for the plaintext loopback mode.
    pub plaintext_auth: bool,
    /// Recipients to reject at RCPT, with the reply code and text.
    pub rejections: Vec<(String, u16, String)>,
}

impl ServerSettings {
    pub fn new(tls: ServerTls) -> Self {
        Self {
            tls,
            login: None,
            plaintext_auth: false,
            rejections: Vec::new(),
        }
    }

    pub fn with_login(self, user: &str, password: &str) -> Self {
        Self {
            login: Some((user.to_owned(), password.to_owned())),
            ..self
        }
    }

    pub fn rejecting(mut self, recipient: &str, code: u16, text: &str) -> Self {
        self.rejections
            .push((recipient.to_owned(), code, text.to_owned()));
        self
    }
}

/// Mechanism and credentials a client authenticated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRecord {
    pub mechanism: &'static str,
    pub user: String,
    pub password: String,
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub data: Vec<u8>,
    pub auth: Option<AuthRecord>,
    pub encrypted: bool,
}

/// A running server. Dropping it stops accepting connections.
pub struct TestSmtpServer {
    pub address: SocketAddr,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    task: JoinHandle<()>,
}

impl TestSmtpServer {
    pub async fn start(settings: ServerSettings) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let deliveries = Arc::new(Mutex::new(Vec::new()));

        let shared = Arc::clone(&deliveries);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    return;
                };
                let settings = settings.clone();
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    // A client that hangs up mid-session is not a server
                    // failure; the test gets it as the client's error.
                    let _ = serve_connection(stream, peer.ip(), settings, shared).await;
                });
            }
        });

        Self {
            address,
            deliveries,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }
}

impl Drop for TestSmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Generates a self-signed certificate for `127.0.0.1` and `localhost` and
/// returns the server's TLS settings with the certificate's PEM, which the
/// client trusts as its extra root.
pub fn self_signed_tls() -> (Arc<ServerConfig>, Vec<u8>) {
    let CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));

    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .unwrap();
    (Arc::new(config), cert.pem().into_bytes())
}

/// State of one connection, shared by the mailin handler and the I/O loop.
#[derive(Default)]
struct ConnectionState {
    auth: Option<AuthRecord>,
    encrypted: bool,
    mail_from: String,
    recipients: Vec<String>,
    data: Vec<u8>,
}

struct RecordingHandler {
    settings: ServerSettings,
    connection: Arc<Mutex<ConnectionState>>,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
}

impl RecordingHandler {
    fn check_login(&mut self, mechanism: &'static str, user: &str, password: &str) -> Response {
        let Some((expected_user, expected_password)) = &self.settings.login else {
            return response::INVALID_CREDENTIALS;
        };
        if user != expected_user || password != expected_password {
            return response::INVALID_CREDENTIALS;
        }

        self.connection.lock().unwrap().auth = Some(AuthRecord {
            mechanism,
            user: user.to_owned(),
            password: password.to_owned(),
        });
        response::AUTH_OK
    }
}

impl Handler for RecordingHandler {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        let mut connection = self.connection.lock().unwrap();
        connection.mail_from = from.to_owned();
        connection.recipients.clear();
        connection.data.clear();
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let bare = to.trim_start_matches('<').trim_end_matches('>');
        let rejection = self
            .settings
            .rejections
            .iter()
            .find(|(recipient, _, _)| recipient == bare);
        if let Some((_, code, text)) = rejection {
            return Response::custom(*code, text.clone());
        }

        self.connection
            .lock()
            .unwrap()
            .recipients
            .push(bare.to_owned());
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.connection.lock().unwrap().data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let connection = self.connection.lock().unwrap();
        let delivery = Delivery {
            mail_from: connection.mail_from.clone(),
            recipients: connection.recipients.clone(),
            data: connection.data.clone(),
            auth: connection.auth.clone(),
            encrypted: connection.encrypted,
        };
        self.deliveries.lock().unwrap().push(delivery);
        response::OK
    }

    fn auth_plain(&mut self, _authorization_id: &str, user: &str, password: &str) -> Response {
        self.check_login("PLAIN", user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        self.check_login("LOGIN", user, password)
    }
}

/// Reason the command loop stopped.
enum LoopEnd {
    Closed,
    UpgradeTls,
}

async fn serve_connection(
    stream: TcpStream,
    peer: IpAddr,
    settings: ServerSettings,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
) -> std::io::Result<()> {
    let connection = Arc::new(Mutex::new(ConnectionState::default()));
    let mut builder = SessionBuilder::new("smtp.test.localhost");
    if matches!(settings.tls, ServerTls::StartTls(_)) {
        builder.enable_start_tls();
    }
    if settings.login.is_some() {
        builder.enable_auth(AuthMechanism::Plain);
        builder.enable_auth(AuthMechanism::Login);
    }
    if settings.plaintext_auth {
        builder.insecure_enable_plaintext_auth();
    }

    let tls = settings.tls.clone();
    let handler = RecordingHandler {
        settings,
        connection: Arc::clone(&connection),
        deliveries,
    };
    let mut session = builder.build(peer, handler);

    match tls {
        ServerTls::Implicit(config) => {
            let stream = TlsAcceptor::from(config).accept(stream).await?;
            session.tls_active();
            connection.lock().unwrap().encrypted = true;
            let mut reader = BufReader::new(stream);
            write_response(&mut reader, &session.greeting()).await?;
            run_commands(&mut session, &mut reader).await?;
        }
        ServerTls::StartTls(config) => {
            let mut reader = BufReader::new(stream);
            write_response(&mut reader, &session.greeting()).await?;
            if let LoopEnd::UpgradeTls = run_commands(&mut session, &mut reader).await? {
                // The client waits for our handshake after the 220 reply, so
                // nothing it sent can be buffered here.
                let stream = TlsAcceptor::from(config)
                    .accept(reader.into_inner())
                    .await?;
                session.tls_active();
                connection.lock().unwrap().encrypted = true;
                run_commands(&mut session, &mut BufReader::new(stream)).await?;
            }
        }
        ServerTls::None => {
            let mut reader = BufReader::new(stream);
            write_response(&mut reader, &session.greeting()).await?;
            run_commands(&mut session, &mut reader).await?;
        }
    }
    Ok(())
}

/// Feeds each line to the session and writes its reply, until the session
/// closes, the client hangs up or STARTTLS was accepted.
async fn run_commands<S>(
    session: &mut mailin::Session<RecordingHandler>,
    reader: &mut BufReader<S>,
) -> std::io::Result<LoopEnd>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = read_line(reader, &mut line).await?;
        if read == 0 {
            return Ok(LoopEnd::Closed);
        }

        let reply = session.process(&line);
        match reply.action {
            mailin::Action::NoReply => {}
            mailin::Action::Reply => write_response(reader, &reply).await?,
            mailin::Action::Close => {
                write_response(reader, &reply).await?;
                return Ok(LoopEnd::Closed);
            }
            mailin::Action::UpgradeTls => {
                write_response(reader, &reply).await?;
                return Ok(LoopEnd::UpgradeTls);
            }
        }
    }
}

/// Reads one line of at most `MAX_LINE_BYTES`, including its `\n`.
async fn read_line<S: AsyncRead + Unpin>(
    reader: &mut BufReader<S>,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let read = reader.read_until(b'\n', line).await?;
    if line.len() > MAX_LINE_BYTES {
        return Err(std::io::Error::other("line too long"));
    }
    Ok(read)
}

async fn write_response<S>(stream: &mut BufReader<S>, reply: &Response) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut bytes = Vec::new();
    reply.write_to(&mut bytes)?;
    let stream = stream.get_mut();
    stream.write_all(&bytes).await?;
    stream.flush().await
}
