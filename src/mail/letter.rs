//! What a message to a holder says: the badge's name and image, the issuer, one sentence on
//! what it recognises, and the link that signs them in to their page, as a plain-text and
//! an HTML part (`multipart/alternative`). Rendered by Askama templates
//! (`html/templates/mail/`), which escape every value in the HTML part.

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

/// What the message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// A badge was issued.
    Issued,
    /// A badge was revoked.
    Revoked,
    /// The holder asked for a sign-in link.
    SignIn,
}

/// A badge a message is about.
#[derive(Debug, Clone)]
pub struct BadgeFacts {
    /// `Partnership Closed`.
    pub name: String,
    /// The sentence on what it recognises.
    pub recognises: String,
    /// The badge's page (and verification link).
    pub url: String,
    /// The baked image.
    pub image_url: String,
    /// Why it was revoked.
    pub reason: Option<String>,
}

/// Everything a message is made of.
#[derive(Debug, Clone)]
pub struct Letter {
    /// Why it is sent.
    pub occasion: Occasion,
    /// The holder's name.
    pub name: String,
    /// The issuer's name.
    pub issuer: String,
    /// The badge (issued and revoked messages).
    pub badge: Option<BadgeFacts>,
    /// The link that signs the holder in to their page.
    pub me_url: String,
    /// How many days that link works.
    pub link_days: u32,
}

#[derive(Template)]
#[template(path = "mail/letter.txt")]
struct TextPart<'a> {
    l: &'a Letter,
}

#[derive(Template)]
#[template(path = "mail/letter.html")]
struct HtmlPart<'a> {
    l: &'a Letter,
    subject: &'a str,
}

impl Letter {
    /// The subject line.
    pub fn subject(&self) -> String {
        match (&self.occasion, &self.badge) {
            (Occasion::Issued, Some(b)) => format!("You have earned the {} badge", b.name),
            (Occasion::Revoked, Some(b)) => format!("Your {} badge was revoked", b.name),
            _ => format!("Your sign-in link for your {} badges", self.issuer),
        }
    }

    /// The whole message, with a stable `Message-ID` (`<{id}@{host}>`).
    pub fn message(
        &self,
        from: &Mailbox,
        to: Mailbox,
        message_id: String,
    ) -> anyhow::Result<Message> {
        let subject = self.subject();
        let text = TextPart { l: self }.render()?;
        let html = HtmlPart {
            l: self,
            subject: &subject,
        }
        .render()?;
        Ok(Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id))
            .multipart(MultiPart::alternative_plain_html(text, html))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(occasion: Occasion) -> Letter {
        Letter {
            occasion,
            name: "Ada <Lovelace>".into(),
            issuer: "Partnership Training Program".into(),
            badge: Some(BadgeFacts {
                name: "Partnership Closed".into(),
                recognises: "Closing a real partnership.".into(),
                url: "https://b.example/credentials/1".into(),
                image_url: "https://b.example/credentials/1/badge.png".into(),
                reason: Some("issued in error & <script>".into()),
            }),
            me_url: "https://b.example/me/sign-in?token=abc".into(),
            link_days: 30,
        }
    }

    #[test]
    fn both_parts_say_it_and_the_html_one_escapes() {
        let from: Mailbox = "Program <no-reply@b.example>".parse().unwrap();
        let to: Mailbox = "ada@example.org".parse().unwrap();
        let m = letter(Occasion::Revoked)
            .message(&from, to, "<x@b.example>".into())
            .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("Message-ID: <x@b.example>"), "{raw}");
        assert!(raw.contains("Subject: Your Partnership Closed badge was revoked"));
        let html = HtmlPart {
            l: &letter(Occasion::Revoked),
            subject: "s",
        }
        .render()
        .unwrap();
        assert!(
            html.contains("Ada &#60;Lovelace&#62;") || html.contains("Ada &lt;Lovelace&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("https://b.example/credentials/1/badge.png"));
        let text = TextPart {
            l: &letter(Occasion::Issued),
        }
        .render()
        .unwrap();
        assert!(
            text.contains("https://b.example/me/sign-in?token=abc"),
            "{text}"
        );
        assert!(text.contains("Closing a real partnership."), "{text}");
    }
}
