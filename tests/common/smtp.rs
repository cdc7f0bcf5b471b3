//! A real SMTP server for tests that check the mail the service sends: aiosmtpd, run by
//! `tests/mail/smtp_sink.py` in a Python 3.11 venv at `target/mail-venv` (pinned by
//! `tests/mail/requirements.txt`, created here on first use), on a free loopback port.
//!
//! The service talks SMTP to [`SmtpSink::url`]; the test reads what was accepted with
//! [`SmtpSink::messages`] or [`SmtpSink::wait_for`], each message parsed into a [`Mail`]
//! (bodies decoded, so a test can search the text for a link). [`SinkOptions`] makes the
//! server fail the first transactions transiently (451 at the end of DATA) or refuse chosen
//! recipients for good (550 at RCPT TO).
//!
//! Outside CI a missing Python 3.11 (or package index) skips: [`SmtpSink::start`] prints
//! `SKIPPED: …` and returns `None`. Under `CI=true` it fails the test loudly.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use mailparse::{DispositionType, MailAddr, MailHeaderMap as _};

use super::in_ci;

/// How long the sink may take to print `LISTENING` (a busy machine starting Python).
const STARTUP: Duration = Duration::from_secs(30);

/// How [`SmtpSink::wait_for`] polls the mail directory.
const POLL: Duration = Duration::from_millis(50);

/// What the sink should do besides accepting mail.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// The first this many transactions are answered `451 4.3.0 try again later` at the
    /// end of DATA (the whole message was sent) and not stored; later ones are accepted.
    pub tempfail_first: u32,
    /// `RCPT TO` of each of these addresses (compared case-insensitively) is always
    /// answered `550 5.1.1 mailbox unavailable`.
    pub reject: Vec<String>,
}

/// A running SMTP server on `127.0.0.1`, killed when dropped. The mail it accepted stays
/// readable (after [`SmtpSink::kill`] too) until the sink is dropped.
pub struct SmtpSink {
    child: Child,
    /// The sink stops when this pipe closes (so it does not outlive a test process that
    /// dies without dropping it).
    stdin: Option<ChildStdin>,
    /// Kept open so nothing the sink prints after `LISTENING` meets a closed pipe.
    _stdout: BufReader<ChildStdout>,
    port: u16,
    dir: tempfile::TempDir,
}

/// One accepted message, parsed.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The `Message-ID` header without its angle brackets ("" when there is none).
    pub message_id: String,
    /// The bare addresses of the `To` header(s), in order (display names dropped, groups
    /// flattened). The SMTP envelope's recipients are [`Mail::envelope_to`].
    pub to: Vec<String>,
    /// The bare address of the first `From` mailbox ("" when there is none).
    pub from: String,
    /// The `Subject` header, RFC 2047 encoded words decoded ("" when there is none).
    pub subject: String,
    /// The first `text/plain` part that is not an attachment, transfer encoding and
    /// charset decoded.
    pub text: Option<String>,
    /// The first `text/html` part that is not an attachment, decoded likewise.
    pub html: Option<String>,
    /// The top-level MIME type, lower case, e.g. `multipart/alternative` (`text/plain`
    /// when the message has no `Content-Type`).
    pub content_type: String,
    /// The message bytes exactly as the server received them.
    pub raw: Vec<u8>,
    /// The envelope sender (`MAIL FROM`), "" for the null sender.
    pub envelope_from: String,
    /// The envelope recipients the server accepted (`RCPT TO`), in order.
    pub envelope_to: Vec<String>,
}

impl Mail {
    /// The first value of any header (decoded), e.g. `Auto-Submitted`.
    pub fn header(&self, name: &str) -> Option<String> {
        mailparse::parse_mail(&self.raw)
            .ok()?
            .headers
            .get_first_value(name)
    }

    /// Parses a stored message and its envelope sidecar.
    fn parse(raw: Vec<u8>, envelope: &serde_json::Value) -> Result<Mail, String> {
        let parsed = mailparse::parse_mail(&raw).map_err(|e| e.to_string())?;
        let headers = &parsed.headers;
        let addresses = |name: &str| -> Vec<String> {
            headers
                .get_all_headers(name)
                .into_iter()
                .filter_map(|h| mailparse::addrparse_header(h).ok())
                .flat_map(|list| list.into_inner())
                .flat_map(|addr| match addr {
                    MailAddr::Single(one) => vec![one.addr],
                    MailAddr::Group(group) => group.addrs.into_iter().map(|a| a.addr).collect(),
                })
                .collect()
        };
        let message_id = headers
            .get_first_value("Message-ID")
            .map(|v| match mailparse::msgidparse(&v) {
                Ok(ids) if !ids.is_empty() => ids[0].clone(),
                _ => v.trim().to_owned(),
            })
            .unwrap_or_default();
        let body = |mime: &str| -> Result<Option<String>, String> {
            parsed
                .parts()
                .find(|p| {
                    p.ctype.mimetype == mime
                        && p.get_content_disposition().disposition != DispositionType::Attachment
                })
                .map(|p| p.get_body().map_err(|e| format!("{mime} part: {e}")))
                .transpose()
        };
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        };
        Ok(Mail {
            message_id,
            to: addresses("To"),
            from: addresses("From").into_iter().next().unwrap_or_default(),
            subject: headers.get_first_value("Subject").unwrap_or_default(),
            text: body("text/plain")?,
            html: body("text/html")?,
            content_type: parsed.ctype.mimetype.clone(),
            envelope_from: envelope["mail_from"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            envelope_to: strings(&envelope["rcpt_to"]),
            raw,
        })
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv() -> PathBuf {
    root().join("target/mail-venv")
}

fn script() -> PathBuf {
    root().join("tests/mail/smtp_sink.py")
}

/// The venv's aiosmtpd imports at the pinned versions (`smtp_sink.py --check`).
fn venv_works() -> bool {
    Command::new(venv().join("bin/python"))
        .arg(script())
        .arg("--check")
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Makes sure the venv exists with the pinned packages, creating (or refreshing) it when
/// `--check` fails; `false` (printed) when Python 3.11 or the package index is missing
/// outside CI. Checked once per test process.
fn venv_ready() -> bool {
    // Tests of one binary run in parallel; one of them makes the venv, the others wait
    // and reuse its answer.
    static READY: Mutex<Option<bool>> = Mutex::new(None);
    let mut ready = READY.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(ok) = *ready {
        if !ok {
            eprintln!("SKIPPED: no SMTP sink (its venv could not be had; reason printed once)");
        }
        return ok;
    }
    let ok = make_venv();
    *ready = Some(ok);
    ok
}

fn make_venv() -> bool {
    if venv_works() {
        return true;
    }
    let python = std::env::var("MAIL_PYTHON").unwrap_or_else(|_| "python3.11".into());
    if Command::new(&python).arg("--version").output().is_err() {
        assert!(!in_ci(), "CI: {python} is not installed");
        eprintln!("SKIPPED: {python} is not installed; the SMTP sink needs Python 3.11");
        return false;
    }
    let ok = Command::new(&python)
        .args(["-m", "venv"])
        .arg(venv())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "creating the venv at {} failed", venv().display());
    let ok = Command::new(venv().join("bin/pip"))
        .args(["install", "-q", "-r"])
        .arg(root().join("tests/mail/requirements.txt"))
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        // Locally this is most often a machine without the package index at hand.
        assert!(
            !in_ci(),
            "CI: installing tests/mail/requirements.txt failed"
        );
        eprintln!("SKIPPED: installing tests/mail/requirements.txt failed");
        return false;
    }
    assert!(
        venv_works(),
        "{} does not pass `smtp_sink.py --check` after installing",
        venv().display()
    );
    true
}

impl SmtpSink {
    /// Starts a sink on a free port with a fresh mail directory; `None` (printed) when the
    /// venv cannot be had outside CI. Panics when the server does not come up.
    pub fn start(opts: SinkOptions) -> Option<SmtpSink> {
        if !venv_ready() {
            return None;
        }
        let dir = tempfile::tempdir().expect("a temp dir for the SMTP sink");
        let mut cmd = Command::new(venv().join("bin/python"));
        cmd.arg(script())
            .arg("--dir")
            .arg(dir.path())
            .args(["--port", "0"])
            .arg(format!("--tempfail-first={}", opts.tempfail_first));
        for address in &opts.reject {
            // `--reject=ADDR`: an address is never taken for an option.
            cmd.arg(format!("--reject={address}"));
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tests/mail/smtp_sink.py");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("the sink's stdout is piped");

        // A thread reads the first line, so a sink that hangs cannot hang the test.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line);
            let _ = tx.send(read.map(|_| (line, reader)));
        });
        let (line, stdout) = match rx.recv_timeout(STARTUP) {
            Ok(Ok(got)) => got,
            Ok(Err(e)) => {
                let _ = child.kill();
                panic!("reading the SMTP sink's stdout failed: {e}");
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the SMTP sink printed no LISTENING line within {STARTUP:?}");
            }
        };
        let port = line
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "the SMTP sink did not start: it printed {line:?} (exit: {status:?}; its \
                 stderr is above)"
            );
        };
        Some(SmtpSink {
            child,
            stdin,
            _stdout: stdout,
            port,
            dir,
        })
    }

    /// The port it listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP, for lettre's `AsyncSmtpTransport::from_url`
    /// (the `smtp` scheme without a `tls` query parameter means no TLS at all).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The directory the accepted messages are written to (`NNNNNN.eml`, with the
    /// envelope in `NNNNNN.json`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Every message accepted so far, in the order the server accepted them.
    pub fn messages(&self) -> Vec<Mail> {
        let entries = std::fs::read_dir(self.dir()).expect("read the SMTP sink's directory");
        let mut files: Vec<(u64, PathBuf)> = entries
            .map(|e| e.expect("a directory entry").path())
            .filter_map(|path| {
                // Temporary files start with a dot and end in `.tmp`: not parsed.
                let seq = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".eml")?
                    .parse()
                    .ok()?;
                Some((seq, path))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, eml)| {
                let raw = std::fs::read(&eml)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", eml.display()));
                // The sink writes the sidecar before the message, so it is there.
                let sidecar = eml.with_extension("json");
                let envelope: serde_json::Value = std::fs::read(&sidecar)
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
                    .unwrap_or_else(|e| panic!("reading {}: {e}", sidecar.display()));
                Mail::parse(raw, &envelope)
                    .unwrap_or_else(|e| panic!("parsing {}: {e}", eml.display()))
            })
            .collect()
    }

    /// Waits until at least `n` messages were accepted and returns them all; panics on
    /// timeout, listing what did arrive.
    ///
    /// This blocks the thread: in a `#[tokio::test]` (a single-threaded runtime) where the
    /// service sends from a task of that same runtime, use [`SmtpSink::wait_for_async`].
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        loop {
            let mail = self.messages();
            if mail.len() >= n {
                return mail;
            }
            if Instant::now() >= deadline {
                self.timed_out(n, timeout, &mail);
            }
            std::thread::sleep(POLL);
        }
    }

    /// [`SmtpSink::wait_for`] that sleeps on the tokio timer, letting the runtime's other
    /// tasks (the service's mailer) run meanwhile.
    pub async fn wait_for_async(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        loop {
            let mail = self.messages();
            if mail.len() >= n {
                return mail;
            }
            if Instant::now() >= deadline {
                self.timed_out(n, timeout, &mail);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn timed_out(&self, n: usize, timeout: Duration, mail: &[Mail]) -> ! {
        let arrived: Vec<String> = mail
            .iter()
            .enumerate()
            .map(|(i, m)| {
                format!(
                    "\n  #{}: to {:?}, subject {:?}, message id {:?}",
                    i + 1,
                    m.envelope_to,
                    m.subject,
                    m.message_id
                )
            })
            .collect();
        panic!(
            "the SMTP sink on port {} expected at least {n} message(s) within {timeout:?}; \
             {} arrived:{}",
            self.port,
            mail.len(),
            if arrived.is_empty() {
                " none".to_owned()
            } else {
                arrived.concat()
            }
        );
    }

    /// Kills the server at once (SIGKILL), as a mail server that goes down: connections
    /// are refused from now on. What it accepted stays readable.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdin = None;
    }

    /// Stops the server gracefully (closing its stdin) and removes its directory.
    pub fn stop(mut self) {
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(POLL);
        }
        // Still running: Drop kills it.
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
