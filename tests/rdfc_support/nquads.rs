//! A small N-Quads parser for tests and benches.
//!
//! The crate itself never parses N-Quads (credentials arrive as JSON-LD), but the W3C
//! RDFC-1.0 suite and the interop vectors are N-Quads files. This covers what they use:
//! IRIs, blank nodes, literals with datatype or language tag, `\t`-style and `\uXXXX` /
//! `\UXXXXXXXX` escapes, comments and blank lines. It is strict enough to reject garbage
//! but makes no attempt to validate IRIs or language tags.

use partnership_badges::credential::rdf::{Quad, Term, RDF_LANG_STRING, XSD_STRING};

/// Parses an N-Quads document; errors name the 1-based line.
pub fn parse(doc: &str) -> Result<Vec<Quad>, String> {
    let mut quads = Vec::new();
    for (n, line) in doc.lines().enumerate() {
        let mut p = Parser {
            chars: line.chars().collect(),
            pos: 0,
        };
        p.skip_ws();
        if p.done() {
            continue;
        }
        let quad = p.quad().map_err(|e| format!("line {}: {e}", n + 1))?;
        quads.push(quad);
    }
    Ok(quads)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Result<char, String> {
        let c = self.peek().ok_or("unexpected end of line")?;
        self.pos += 1;
        Ok(c)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.pos += 1;
        }
    }

    /// True at the end of the line or at a comment.
    fn done(&self) -> bool {
        matches!(self.peek(), None | Some('#'))
    }

    fn expect(&mut self, want: char) -> Result<(), String> {
        match self.next()? {
            c if c == want => Ok(()),
            c => Err(format!(
                "expected {want:?}, found {c:?} at column {}",
                self.pos
            )),
        }
    }

    fn quad(&mut self) -> Result<Quad, String> {
        let subject = self.term()?;
        if matches!(subject, Term::Literal { .. }) {
            return Err("literal subject".into());
        }
        self.skip_ws();
        let predicate = self.term()?;
        if !matches!(predicate, Term::Iri(_)) {
            return Err("predicate is not an IRI".into());
        }
        self.skip_ws();
        let object = self.term()?;
        self.skip_ws();
        let graph = if self.peek() == Some('.') {
            None
        } else {
            let g = self.term()?;
            if matches!(g, Term::Literal { .. }) {
                return Err("literal graph name".into());
            }
            self.skip_ws();
            Some(g)
        };
        self.expect('.')?;
        self.skip_ws();
        if !self.done() {
            return Err(format!("trailing text at column {}", self.pos));
        }
        Ok(Quad {
            subject,
            predicate,
            object,
            graph,
        })
    }

    fn term(&mut self) -> Result<Term, String> {
        match self.peek() {
            Some('<') => Ok(Term::Iri(self.iri()?)),
            Some('_') => self.blank(),
            Some('"') => self.literal(),
            other => Err(format!("unexpected {other:?} at column {}", self.pos)),
        }
    }

    fn iri(&mut self) -> Result<String, String> {
        self.expect('<')?;
        let mut iri = String::new();
        loop {
            match self.next()? {
                '>' => return Ok(iri),
                '\\' => match self.next()? {
                    'u' => iri.push(self.hex(4)?),
                    'U' => iri.push(self.hex(8)?),
                    c => return Err(format!("bad IRI escape \\{c}")),
                },
                c if c <= ' ' || "<\"{}|^`".contains(c) => {
                    return Err(format!("bad IRI character {c:?}"))
                }
                c => iri.push(c),
            }
        }
    }

    fn blank(&mut self) -> Result<Term, String> {
        self.expect('_')?;
        self.expect(':')?;
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || "_-.\u{b7}".contains(c) {
                self.pos += 1;
            } else {
                break;
            }
        }
        // A label cannot end in '.': that dot ends the statement.
        while self.pos > start && self.chars[self.pos - 1] == '.' {
            self.pos -= 1;
        }
        if self.pos == start {
            return Err("empty blank node label".into());
        }
        Ok(Term::Blank(self.chars[start..self.pos].iter().collect()))
    }

    fn literal(&mut self) -> Result<Term, String> {
        self.expect('"')?;
        let mut value = String::new();
        loop {
            match self.next()? {
                '"' => break,
                '\\' => value.push(match self.next()? {
                    't' => '\t',
                    'b' => '\u{8}',
                    'n' => '\n',
                    'r' => '\r',
                    'f' => '\u{c}',
                    '"' => '"',
                    '\'' => '\'',
                    '\\' => '\\',
                    'u' => self.hex(4)?,
                    'U' => self.hex(8)?,
                    c => return Err(format!("bad string escape \\{c}")),
                }),
                '\n' | '\r' => return Err("raw line break in literal".into()),
                c => value.push(c),
            }
        }
        match self.peek() {
            Some('@') => {
                self.pos += 1;
                let start = self.pos;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '-') {
                    self.pos += 1;
                }
                if self.pos == start {
                    return Err("empty language tag".into());
                }
                Ok(Term::Literal {
                    value,
                    datatype: RDF_LANG_STRING.to_owned(),
                    language: Some(self.chars[start..self.pos].iter().collect()),
                })
            }
            Some('^') => {
                self.expect('^')?;
                self.expect('^')?;
                Ok(Term::Literal {
                    value,
                    datatype: self.iri()?,
                    language: None,
                })
            }
            _ => Ok(Term::Literal {
                value,
                datatype: XSD_STRING.to_owned(),
                language: None,
            }),
        }
    }

    fn hex(&mut self, digits: usize) -> Result<char, String> {
        let mut n = 0u32;
        for _ in 0..digits {
            let d = self.next()?.to_digit(16).ok_or("bad hex digit in escape")?;
            n = n * 16 + d;
        }
        char::from_u32(n).ok_or_else(|| format!("escape \\u{n:X} is not a character"))
    }
}
