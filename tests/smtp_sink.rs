//! The SMTP sink of the test suite (`tests/common/smtp.rs`, `tests/mail/smtp_sink.py`)
//! tested on its own, so that a mail test that fails points at the service, not at the
//! harness: a raw SMTP conversation written here (no mail library on either side of the
//! check) sends messages, and the sink must store and parse them right, fail the first
//! transactions with 451 when asked, refuse the listed recipients with 550, and advertise
//! plain SMTP.
//!
//! Needs Python 3.11: outside CI a missing interpreter skips with a printed reason; under
//! `CI=true` it fails.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine as _;
use common::smtp::{SinkOptions, SmtpSink};

/// A minimal SMTP client: one line out, one (possibly multi-line) reply back.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    /// Connects and reads the 220 greeting.
    fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the sink");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut client = Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        let (code, text) = client.reply();
        assert_eq!(code, 220, "greeting: {text}");
        client
    }

    /// Reads one reply: its code and its lines' text joined with `\n`.
    fn reply(&mut self) -> (u16, String) {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("read a reply");
            assert!(
                n > 0,
                "the sink closed the connection; replies so far: {lines:?}"
            );
            let line = line.trim_end_matches(['\r', '\n']);
            assert!(line.len() >= 3, "short reply line {line:?}");
            let code: u16 = line[..3].parse().expect("a reply code");
            lines.push(line.get(4..).unwrap_or("").to_owned());
            // `250-…` continues, `250 …` (or a bare `250`) is the last line.
            if line.as_bytes().get(3) != Some(&b'-') {
                return (code, lines.join("\n"));
            }
        }
    }

    /// Sends one command line and reads its reply.
    fn cmd(&mut self, line: &str) -> (u16, String) {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        self.reply()
    }

    /// MAIL FROM, every RCPT TO (each must be accepted), DATA with `message` (CRLF lines,
    /// dot-stuffed here); the reply to the end of DATA.
    fn send(&mut self, from: &str, to: &[&str], message: &str) -> (u16, String) {
        let (code, text) = self.cmd(&format!("MAIL FROM:<{from}>"));
        assert_eq!(code, 250, "MAIL FROM: {text}");
        for rcpt in to {
            let (code, text) = self.cmd(&format!("RCPT TO:<{rcpt}>"));
            assert_eq!(code, 250, "RCPT TO:<{rcpt}>: {text}");
        }
        self.data(message)
    }

    /// DATA (must get 354), the dot-stuffed message and its end; the final reply.
    fn data(&mut self, message: &str) -> (u16, String) {
        let (code, text) = self.cmd("DATA");
        assert_eq!(code, 354, "DATA: {text}");
        assert!(message.ends_with("\r\n"), "a message ends with CRLF");
        let mut wire = String::new();
        for line in message.split_inclusive("\r\n") {
            if line.starts_with('.') {
                wire.push('.');
            }
            wire.push_str(line);
        }
        wire.push_str(".\r\n");
        self.writer.write_all(wire.as_bytes()).unwrap();
        self.reply()
    }
}

/// CRLF-terminated lines.
fn crlf(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

const SUBJECT: &str = "Your badge — Partnership Closed";
const LINK: &str =
    "https://badges.test/credentials/0123456789abcdef0123456789abcdef0123456789abcdef/badge.png";
const HTML: &str = "<p>Hello Ada,</p><p><a href=\"https://badges.test/c/1\">Your badge</a></p>";

/// A multipart/alternative message as a mailer writes one: an encoded-word subject, a
/// quoted-printable text part (with a soft line break inside the link, a UTF-8 dash and a
/// line that starts with a dot) and a base64 HTML part.
fn alternative_message() -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let subject = format!("=?UTF-8?B?{}?=", b64.encode(SUBJECT));
    let html = b64.encode(HTML);
    crlf(&[
        "From: Partnership Badges <badges@example.org>",
        "To: Ada Holder <ada@example.org>, bob@example.org",
        &format!("Subject: {subject}"),
        "Message-ID: <first.1@badges.test>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/alternative; boundary=\"b1\"",
        "",
        "--b1",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Hello Ada,",
        "Your badge: https://badges.test/credentials/0123456789abcdef0123456789abcdef012=",
        "3456789abcdef/badge.png",
        ".well-known things start with a dot",
        "=E2=80=94 the team, code=3D42",
        "--b1",
        "Content-Type: text/html; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        &html,
        "--b1--",
    ])
}

/// A plain 8-bit UTF-8 message.
fn plain_message() -> String {
    crlf(&[
        "From: badges@example.org",
        "To: dave@example.org",
        "Subject: Second",
        "Message-ID: <second.2@badges.test>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Grüße, Dave",
    ])
}

#[test]
fn two_messages_arrive_parsed() {
    let Some(sink) = SmtpSink::start(SinkOptions::default()) else {
        return;
    };
    assert_eq!(sink.url(), format!("smtp://127.0.0.1:{}", sink.port()));
    let mut smtp = Client::connect(sink.port());

    // Plain SMTP: 8BITMIME and SMTPUTF8, and nothing that asks for TLS or a login.
    let (code, ehlo) = smtp.cmd("EHLO client.test");
    assert_eq!(code, 250, "EHLO: {ehlo}");
    let extensions: Vec<&str> = ehlo.lines().skip(1).collect();
    assert!(extensions.contains(&"8BITMIME"), "EHLO: {ehlo}");
    assert!(extensions.contains(&"SMTPUTF8"), "EHLO: {ehlo}");
    assert!(
        !extensions
            .iter()
            .any(|e| e.starts_with("STARTTLS") || e.starts_with("AUTH")),
        "EHLO: {ehlo}"
    );

    let first = alternative_message();
    let to = ["ada@example.org", "bob@example.org", "carol@example.org"];
    let (code, text) = smtp.send("bounces@example.org", &to, &first);
    assert_eq!(code, 250, "first message: {text}");
    let second = plain_message();
    let (code, text) = smtp.cmd("MAIL FROM:<> BODY=8BITMIME");
    assert_eq!(code, 250, "MAIL FROM:<>: {text}");
    let (code, text) = smtp.cmd("RCPT TO:<dave@example.org>");
    assert_eq!(code, 250, "RCPT: {text}");
    let (code, text) = smtp.data(&second);
    assert_eq!(code, 250, "second message: {text}");
    assert_eq!(smtp.cmd("QUIT").0, 221);

    let mail = sink.wait_for(2, Duration::from_secs(10));
    assert_eq!(mail.len(), 2);

    let m = &mail[0];
    assert_eq!(
        m.raw,
        first.as_bytes(),
        "stored as received (dot-unstuffed)"
    );
    assert_eq!(m.message_id, "first.1@badges.test");
    assert_eq!(m.to, ["ada@example.org", "bob@example.org"]);
    assert_eq!(m.from, "badges@example.org");
    assert_eq!(m.subject, SUBJECT);
    assert_eq!(m.content_type, "multipart/alternative");
    assert_eq!(m.envelope_from, "bounces@example.org");
    assert_eq!(
        m.envelope_to, to,
        "the Bcc-like third recipient is in the envelope"
    );
    let text = m.text.as_deref().expect("a text part");
    assert!(
        text.contains(&format!("Your badge: {LINK}")),
        "text: {text:?}"
    );
    assert!(text.contains(".well-known things"), "text: {text:?}");
    assert!(text.contains("— the team, code=42"), "text: {text:?}");
    let html = m.html.as_deref().expect("an html part");
    assert!(
        html.contains("<a href=\"https://badges.test/c/1\">"),
        "html: {html:?}"
    );

    let m = &mail[1];
    assert_eq!(m.raw, second.as_bytes());
    assert_eq!(m.message_id, "second.2@badges.test");
    assert_eq!(m.to, ["dave@example.org"]);
    assert_eq!(m.subject, "Second");
    assert_eq!(m.content_type, "text/plain");
    assert_eq!(m.envelope_from, "", "the null sender");
    assert!(
        m.text.as_deref().is_some_and(|t| t.contains("Grüße, Dave")),
        "text: {:?}",
        m.text
    );
    assert_eq!(m.html, None);
    assert_eq!(
        m.header("Content-Transfer-Encoding").as_deref(),
        Some("8bit")
    );
}

#[test]
fn tempfail_first_fails_the_first_data_then_accepts() {
    let Some(sink) = SmtpSink::start(SinkOptions {
        tempfail_first: 1,
        ..SinkOptions::default()
    }) else {
        return;
    };
    let mut smtp = Client::connect(sink.port());
    assert_eq!(smtp.cmd("HELO client.test").0, 250);
    let message = plain_message();

    // Counted at DATA: RCPT is accepted, the end of DATA gets the transient failure.
    let (code, text) = smtp.send("badges@example.org", &["dave@example.org"], &message);
    assert_eq!((code, text.as_str()), (451, "4.3.0 try again later"));
    // The reply comes after the sink decided, so nothing can be on its way.
    assert!(
        sink.messages().is_empty(),
        "a failed transaction is not stored"
    );

    // The retry, on the same connection, is accepted; so is the next message.
    let (code, text) = smtp.send("badges@example.org", &["dave@example.org"], &message);
    assert_eq!(code, 250, "the second attempt: {text}");
    assert_eq!(sink.messages().len(), 1, "stored before the 250");
    let (code, text) = smtp.send("badges@example.org", &["erin@example.org"], &message);
    assert_eq!(code, 250, "the third transaction: {text}");
    let mail = sink.wait_for(2, Duration::from_secs(10));
    assert_eq!(mail.len(), 2);
    assert_eq!(mail[0].envelope_to, ["dave@example.org"]);
    assert_eq!(mail[1].envelope_to, ["erin@example.org"]);
}

#[test]
fn reject_refuses_the_address_at_rcpt() {
    let Some(sink) = SmtpSink::start(SinkOptions {
        reject: vec!["gone@example.org".into()],
        ..SinkOptions::default()
    }) else {
        return;
    };
    let mut smtp = Client::connect(sink.port());
    assert_eq!(smtp.cmd("EHLO client.test").0, 250);
    assert_eq!(smtp.cmd("MAIL FROM:<badges@example.org>").0, 250);
    let refused = (550, "5.1.1 mailbox unavailable".to_owned());
    assert_eq!(smtp.cmd("RCPT TO:<gone@example.org>"), refused);
    assert_eq!(
        smtp.cmd("RCPT TO:<Gone@Example.ORG>"),
        refused,
        "case-insensitive"
    );
    let (code, text) = smtp.cmd("RCPT TO:<kept@example.org>");
    assert_eq!(code, 250, "another recipient: {text}");
    let (code, text) = smtp.data(&plain_message());
    assert_eq!(code, 250, "DATA: {text}");

    // Always: a later transaction is refused the same way.
    assert_eq!(smtp.cmd("MAIL FROM:<badges@example.org>").0, 250);
    assert_eq!(smtp.cmd("RCPT TO:<gone@example.org>"), refused);
    assert_eq!(smtp.cmd("RSET").0, 250);

    let mail = sink.wait_for(1, Duration::from_secs(10));
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].envelope_to, ["kept@example.org"]);
}

#[test]
fn wait_for_names_what_arrived_when_it_times_out() {
    let Some(sink) = SmtpSink::start(SinkOptions::default()) else {
        return;
    };
    let mut smtp = Client::connect(sink.port());
    assert_eq!(smtp.cmd("HELO client.test").0, 250);
    let (code, text) = smtp.send(
        "badges@example.org",
        &["dave@example.org"],
        &plain_message(),
    );
    assert_eq!(code, 250, "{text}");

    let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sink.wait_for(2, Duration::from_millis(300))
    }));
    let panic = waited.expect_err("only one message arrived");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("at least 2 message(s)"), "{message}");
    assert!(
        message.contains("1 arrived") && message.contains("\"Second\""),
        "{message}"
    );
}

#[test]
fn kill_stops_the_server_and_keeps_the_mail() {
    let Some(mut sink) = SmtpSink::start(SinkOptions::default()) else {
        return;
    };
    let mut smtp = Client::connect(sink.port());
    assert_eq!(smtp.cmd("HELO client.test").0, 250);
    let (code, text) = smtp.send(
        "badges@example.org",
        &["dave@example.org"],
        &plain_message(),
    );
    assert_eq!(code, 250, "{text}");
    drop(smtp);

    sink.kill();
    assert!(
        TcpStream::connect(("127.0.0.1", sink.port())).is_err(),
        "a killed sink refuses connections"
    );
    let mail = sink.messages();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].subject, "Second");
    sink.stop();
}
