//! A small, real HTTP/1.1 receiver on 127.0.0.1 for the delivery tests, written on std's
//! `TcpListener`, with the failure modes the library must survive.
//!
//! - It records every request it reads (method, path, headers, body, connection) and
//!   what it answered. A request counts as *accepted* only when a 2xx was written to a
//!   client that was still connected: the receiver commits a batch when it answers it,
//!   so a batch whose sender gave up first (a slow answer after the sender's exit) is
//!   not delivered, and the sender is right to send it again.
//! - Its mode can be switched at any time; [`Mode::Refused`] closes the listening socket
//!   (connections are refused by the kernel) and leaving it binds the same port again.
//! - Everything is bounded: at most [`MAX_CONNECTIONS`] connections at once, requests
//!   and waits of limited size and length, and [`Drop`] stops every thread.

use std::collections::HashMap;
use std::io::{self, Read as _, Write as _};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Connections served at once; more are closed at once.
pub const MAX_CONNECTIONS: usize = 64;
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How often blocked threads look at the stop flag.
const TICK: Duration = Duration::from_millis(20);
/// A request that has not arrived whole after this long is abandoned.
const REQUEST_LIMIT: Duration = Duration::from_secs(10);

/// How the receiver behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `200 {"success":true}`, keep-alive.
    Healthy,
    /// Nothing listens: connections are refused.
    Refused,
    /// Connections are accepted and requests read, but never answered.
    Blackhole,
    /// `200`, after this delay.
    Slow(Duration),
    /// This status with a small JSON body (500, 400, ...).
    Status(u16),
    /// `429 Too Many Requests` with `Retry-After: <seconds>`.
    TooManyRequests {
        /// The `Retry-After` value in seconds.
        retry_after: u64,
    },
    /// `410 Gone`.
    Gone,
    /// Bytes that are not HTTP, then the connection is closed.
    Garbage,
    /// This status with one extra header line (`Retry-After: ...`).
    WithHeader {
        /// The status answered.
        status: u16,
        /// The header line, without its line end.
        header: &'static str,
    },
    /// `200`, or `413 Payload Too Large` for a body over this many bytes (Segment's
    /// limit is 500 KB).
    BodyLimit(usize),
}

/// One request the receiver read.
#[derive(Clone, Debug)]
pub struct Request {
    /// Which connection it came on (numbered from 1 in accept order).
    pub connection: u64,
    /// `POST`, ...
    pub method: String,
    /// The request target, such as `/v1/batch`.
    pub path: String,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// The status answered, if an HTTP answer was written.
    pub status: Option<u16>,
    /// A 2xx was written while the client was still connected.
    pub accepted: bool,
}

impl Request {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The events of the body's `batch`.
    pub fn events(&self) -> Vec<Value> {
        self.json()
            .and_then(|body| body.get("batch").and_then(Value::as_array).cloned())
            .unwrap_or_default()
    }
}

/// The receiver. Dropping it stops it.
pub struct Server {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    mode: Mutex<Mode>,
    mode_changed: Condvar,
    stop: AtomicBool,
    requests: Mutex<Vec<Request>>,
    connections: AtomicU64,
    open_connections: AtomicUsize,
    handlers: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Server {
    /// Starts a receiver on a free port of 127.0.0.1 in `mode`.
    pub fn start(mode: Mode) -> Server {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new(Shared {
            mode: Mutex::new(mode),
            mode_changed: Condvar::new(),
            stop: AtomicBool::new(false),
            requests: Mutex::new(Vec::new()),
            connections: AtomicU64::new(0),
            open_connections: AtomicUsize::new(0),
            handlers: Mutex::new(Vec::new()),
        });
        let listener = if mode == Mode::Refused {
            drop(listener);
            None
        } else {
            Some(listener)
        };
        let acceptor_shared = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name("test-server".into())
            .spawn(move || accept_loop(listener, port, &acceptor_shared))
            .expect("spawn the server thread");
        Server {
            port,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The batch endpoint: `http://127.0.0.1:<port>/v1/batch`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/batch", self.port)
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        *lock(&self.shared.mode)
    }

    /// Switches the mode. Switching to [`Mode::Refused`] returns once the listening
    /// socket is closed; switching away from it once the port listens again.
    pub fn set_mode(&self, mode: Mode) {
        let before = {
            let mut current = lock(&self.shared.mode);
            std::mem::replace(&mut *current, mode)
        };
        self.shared.mode_changed.notify_all();
        if mode == Mode::Refused && before != Mode::Refused {
            // Wake the blocking accept so it drops the listener.
            let _ = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(1));
            self.wait_for(|| TcpStream::connect_timeout(&self.addr(), TICK).is_err());
        } else if mode != Mode::Refused && before == Mode::Refused {
            self.wait_for(|| TcpStream::connect_timeout(&self.addr(), TICK).is_ok());
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    fn wait_for(&self, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !ready() {
            assert!(
                Instant::now() < deadline,
                "the test server did not switch modes"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Every request read so far.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    /// How many requests were read so far.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// Every event in accepted requests, in arrival order (duplicates included).
    pub fn accepted_events(&self) -> Vec<Value> {
        lock(&self.shared.requests)
            .iter()
            .filter(|request| request.accepted)
            .flat_map(Request::events)
            .collect()
    }

    /// How many times each `messageId` was accepted.
    pub fn accepted_message_ids(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for event in self.accepted_events() {
            if let Some(id) = event["messageId"].as_str() {
                *counts.entry(id.to_owned()).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Waits (at most `limit`) until `done` holds for the requests read so far.
    pub fn wait_until(&self, limit: Duration, mut done: impl FnMut(&[Request]) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if done(&lock(&self.shared.requests)) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.mode_changed.notify_all();
        let _ = TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let handlers = std::mem::take(&mut *lock(&self.shared.handlers));
        for handler in handlers {
            let _ = handler.join();
        }
    }
}

fn accept_loop(mut listener: Option<TcpListener>, port: u16, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        let refused = *lock(&shared.mode) == Mode::Refused;
        if refused {
            if listener.take().is_none() {
                let mode = lock(&shared.mode);
                let _ = shared.mode_changed.wait_timeout(mode, TICK);
            }
            continue;
        }
        let Some(bound) = &listener else {
            match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
                Ok(bound) => listener = Some(bound),
                Err(_) => std::thread::sleep(TICK),
            }
            continue;
        };
        let Ok((stream, _)) = bound.accept() else {
            continue;
        };
        if shared.stop.load(Ordering::SeqCst)
            || *lock(&shared.mode) == Mode::Refused
            || shared.open_connections.load(Ordering::SeqCst) >= MAX_CONNECTIONS
        {
            continue;
        }
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        shared.open_connections.fetch_add(1, Ordering::SeqCst);
        let handler_shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name(format!("test-server-{id}"))
            .spawn(move || {
                let _ = serve(stream, id, &handler_shared);
                handler_shared
                    .open_connections
                    .fetch_sub(1, Ordering::SeqCst);
            });
        match spawned {
            Ok(handle) => {
                let mut handlers = lock(&shared.handlers);
                handlers.retain(|handle| !handle.is_finished());
                handlers.push(handle);
            }
            Err(_) => {
                shared.open_connections.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

/// Serves one connection until the client closes it, the mode says to close, or the
/// server stops.
fn serve(mut stream: TcpStream, connection: u64, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(TICK))?;
    stream.set_nodelay(true)?;
    let mut buffer = Vec::new();
    loop {
        let Some(mut request) = read_request(&mut stream, &mut buffer, shared)? else {
            return Ok(());
        };
        request.connection = connection;
        let body_len = request.body.len();
        let mode = *lock(&shared.mode);
        let index = {
            let mut requests = lock(&shared.requests);
            requests.push(request);
            requests.len() - 1
        };
        let answer = |status: u16, extra: &str, body: &str| {
            format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}\r\n{body}",
                reason(status),
                body.len()
            )
        };
        let (response, keep_open) = match mode {
            Mode::Refused => return Ok(()),
            Mode::Blackhole => {
                hold(&mut stream, shared);
                return Ok(());
            }
            Mode::Garbage => {
                let _ = stream.write_all(b"\x16\x03\x01 this is not HTTP \xff\xfe\r\n\r\n\x00");
                let _ = stream.shutdown(Shutdown::Both);
                return Ok(());
            }
            Mode::Healthy => (answer(200, "", r#"{"success":true}"#), true),
            Mode::Slow(delay) => {
                let until = Instant::now() + delay;
                while Instant::now() < until {
                    if shared.stop.load(Ordering::SeqCst) {
                        return Ok(());
                    }
                    std::thread::sleep(TICK.min(until.saturating_duration_since(Instant::now())));
                }
                if !client_connected(&stream) {
                    return Ok(());
                }
                (answer(200, "", r#"{"success":true}"#), true)
            }
            Mode::Status(status) => (answer(status, "", r#"{"success":false}"#), true),
            Mode::TooManyRequests { retry_after } => (
                answer(
                    429,
                    &format!("Retry-After: {retry_after}\r\n"),
                    r#"{"success":false}"#,
                ),
                true,
            ),
            Mode::Gone => (answer(410, "", r#"{"success":false}"#), true),
            Mode::WithHeader { status, header } => (
                answer(status, &format!("{header}\r\n"), r#"{"success":false}"#),
                true,
            ),
            Mode::BodyLimit(limit) if body_len > limit => {
                (answer(413, "", r#"{"success":false}"#), true)
            }
            Mode::BodyLimit(_) => (answer(200, "", r#"{"success":true}"#), true),
        };
        let status: u16 = response[9..12].parse().unwrap_or(0);
        let written = stream
            .write_all(response.as_bytes())
            .and_then(|()| stream.flush());
        {
            let mut requests = lock(&shared.requests);
            requests[index].status = Some(status);
            requests[index].accepted = written.is_ok() && (200..300).contains(&status);
        }
        if written.is_err() || !keep_open {
            return Ok(());
        }
    }
}

/// Whether the client still holds its end of the connection.
fn client_connected(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut probe = [0u8; 1];
    let connected = match stream.peek(&mut probe) {
        Ok(0) => false,
        Ok(_) => true,
        Err(error) => error.kind() == io::ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    connected
}

/// Keeps a blackholed connection open, reading and discarding, until the client closes
/// it or the server stops.
fn hold(stream: &mut TcpStream, shared: &Shared) {
    let mut sink = [0u8; 4096];
    while !shared.stop.load(Ordering::SeqCst) {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) if is_timeout(&error) => {}
            Err(_) => return,
        }
    }
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads one request; `None` when the connection ended first (or the server stops).
fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    shared: &Shared,
) -> io::Result<Option<Request>> {
    let started = Instant::now();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(position) = find(buffer, b"\r\n\r\n") {
            break position;
        }
        if buffer.len() > MAX_HEAD {
            return Ok(None);
        }
        if !fill(stream, buffer, &mut chunk, shared, started)? {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    buffer.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let chunked = header("transfer-encoding").is_some_and(|value| value.contains("chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(position) = find(buffer, b"\r\n") {
                    break position;
                }
                if !fill(stream, buffer, &mut chunk, shared, started)? {
                    return Ok(None);
                }
            };
            let size_text = String::from_utf8_lossy(&buffer[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .unwrap_or(0);
            buffer.drain(..line_end + 2);
            if size == 0 {
                // Trailers end with an empty line.
                while find(buffer, b"\r\n").is_none() {
                    if !fill(stream, buffer, &mut chunk, shared, started)? {
                        return Ok(None);
                    }
                }
                let end = find(buffer, b"\r\n").unwrap_or(0);
                buffer.drain(..end + 2);
                break body;
            }
            if body.len() + size > MAX_BODY {
                return Ok(None);
            }
            while buffer.len() < size + 2 {
                if !fill(stream, buffer, &mut chunk, shared, started)? {
                    return Ok(None);
                }
            }
            body.extend_from_slice(&buffer[..size]);
            buffer.drain(..size + 2);
        }
    } else {
        let length: usize = header("content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        if length > MAX_BODY {
            return Ok(None);
        }
        while buffer.len() < length {
            if !fill(stream, buffer, &mut chunk, shared, started)? {
                return Ok(None);
            }
        }
        buffer.drain(..length).collect()
    };
    Ok(Some(Request {
        connection: 0,
        method,
        path,
        headers,
        body,
        status: None,
        accepted: false,
    }))
}

/// Reads more bytes into `buffer`; `false` at the end of the connection, when the
/// server stops, or when the request takes too long.
fn fill(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    chunk: &mut [u8],
    shared: &Shared,
    started: Instant,
) -> io::Result<bool> {
    loop {
        if shared.stop.load(Ordering::SeqCst)
            || started.elapsed() > REQUEST_LIMIT && !buffer.is_empty()
        {
            return Ok(false);
        }
        match stream.read(chunk) {
            Ok(0) => return Ok(false),
            Ok(read) => {
                buffer.extend_from_slice(&chunk[..read]);
                return Ok(true);
            }
            Err(error) if is_timeout(&error) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Ok(false),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        410 => "Gone",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A DNS server that reads queries and never answers: a UDP socket on port 53 of a
/// loopback address of its own. Dropping it stops it.
pub struct SilentDns {
    address: Ipv4Addr,
    queries: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentDns {
    /// Binds `127.53.<a>.<b>:53` (port 53 needs root or `CAP_NET_BIND_SERVICE`).
    pub fn start() -> io::Result<SilentDns> {
        let mut last_error = io::Error::other("no address tried");
        for attempt in 0..16u16 {
            let seed = (std::process::id() as u16).wrapping_add(attempt.wrapping_mul(7919));
            let address = Ipv4Addr::new(127, 53, (seed >> 8) as u8, (seed as u8).max(1));
            match UdpSocket::bind((address, 53)) {
                Ok(socket) => {
                    socket.set_read_timeout(Some(TICK))?;
                    let queries = Arc::new(AtomicU64::new(0));
                    let stop = Arc::new(AtomicBool::new(false));
                    let (thread_queries, thread_stop) = (Arc::clone(&queries), Arc::clone(&stop));
                    let thread = std::thread::spawn(move || {
                        let mut packet = [0u8; 1500];
                        while !thread_stop.load(Ordering::SeqCst) {
                            if socket.recv_from(&mut packet).is_ok() {
                                thread_queries.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    });
                    return Ok(SilentDns {
                        address,
                        queries,
                        stop,
                        thread: Some(thread),
                    });
                }
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }

    /// The address to put in `resolv.conf`.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// Queries received (and left unanswered) so far.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::SeqCst)
    }

    /// A `resolv.conf` that sends every lookup here, and waits long for each.
    pub fn resolv_conf(&self) -> String {
        format!(
            "nameserver {}\noptions timeout:30 attempts:1\n",
            self.address
        )
    }
}

impl Drop for SilentDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The `minietl` example built with the `tls` feature, for scenarios that need an
/// `https://` endpoint (a name to resolve). Built once per test process into its own
/// target directory below the running one.
pub fn minietl_with_tls() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("current_exe");
            // current_exe = <target>/<profile>/deps/<test>-<hash>
            let target = exe
                .ancestors()
                .nth(3)
                .expect("target dir")
                .join("example-bins-tls");
            let cargo = option_env!("CARGO").unwrap_or("cargo");
            let status = std::process::Command::new(cargo)
                .current_dir(crate::workspace_root())
                .args(["build", "--quiet", "-p", "minietl", "--bin", "minietl"])
                .args(["--features", "telemetry/tls", "--target-dir"])
                .arg(&target)
                .status()
                .expect("run cargo build");
            assert!(status.success(), "building minietl with tls failed");
            let path = target
                .join("debug")
                .join(format!("minietl{}", std::env::consts::EXE_SUFFIX));
            assert!(path.exists(), "{} was not built", path.display());
            path
        })
        .clone()
}
