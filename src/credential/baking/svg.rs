//! SVG baking: the `<openbadges:credential>` (or OB 2.0 `<openbadges:assertion>`) element,
//! known by its namespace, with the JSON in CDATA.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use super::error::{check_len, check_payload_size, BakeError, MAX_PAYLOAD_BYTES};

/// XML namespace of the `openbadges:` prefix in an Open Badges 3.0 baked SVG.
pub const SVG_NAMESPACE_OB3: &str = "https://purl.imsglobal.org/ob/v3p0";
/// XML namespace of the `openbadges:` prefix in an Open Badges 2.0 baked SVG.
pub const SVG_NAMESPACE_OB2: &str = "http://openbadges.org";
const OB3_ELEMENT: &str = "openbadges:credential";
const OB2_ELEMENT: &str = "openbadges:assertion";
const NS_ATTRIBUTE: &str = "xmlns:openbadges";

// ---------------------------------------------------------------------------------------------
// SVG
//
// A small scanner rather than an XML library: baking must keep the artwork byte for byte and
// only touch the root tag and the baked element. It skips comments, CDATA, processing
// instructions and quoted attribute values, so markup-like text inside them is never mistaken
// for an element.
//
// It is namespace-aware ([`baked_elements`]): it follows the element tree (each end tag must
// close the element it ends) and the namespace declarations in scope, and knows a baked
// element by its expanded name, as the spec's `xmlns:openbadges` declaration means it. It
// stays linear in the input, which a general XML library does not promise for hostile
// documents (roxmltree, say, compares each attribute with the earlier ones of its element and
// copies the namespaces in scope into every element that declares one): one hash lookup per
// declaration and per candidate element. Reading and baking find elements the same way, so
// baking removes exactly what reading would find. DTDs are skipped, never interpreted: an
// entity they declare is not expanded.

/// Bakes an Open Badges 3.0 credential (JSON with an embedded proof) into `svg`.
///
/// Declares `xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"` on the root `<svg>` and
/// makes `<openbadges:credential><![CDATA[payload]]></openbadges:credential>` its first child.
/// Any baked element already present (OB 2.0 or 3.0) is removed: one image, one credential.
/// A `]]>` inside the payload is split across two CDATA sections.
pub fn bake_svg(svg: &str, payload: &str) -> Result<String, BakeError> {
    check_payload_size(payload)?;
    check_xml_text(payload)?;
    let element = format!("<{OB3_ELEMENT}>{}</{OB3_ELEMENT}>", cdata(payload));
    bake_svg_element(svg, SVG_NAMESPACE_OB3, &element)
}

/// Bakes an Open Badges 2.0 hosted assertion into `svg`.
///
/// Declares `xmlns:openbadges="http://openbadges.org"` on the root `<svg>` and makes
/// `<openbadges:assertion verify="assertion_url"><![CDATA[payload]]></openbadges:assertion>`
/// its first child, replacing any baked element already present. An empty `payload` bakes
/// the URL alone.
pub fn bake_svg_ob2(svg: &str, assertion_url: &str, payload: &str) -> Result<String, BakeError> {
    if assertion_url.is_empty() {
        return Err(BakeError::InvalidPayload("the assertion URL is empty"));
    }
    check_len(payload.len())?;
    check_xml_text(assertion_url)?;
    check_xml_text(payload)?;
    let verify = escape_attribute(assertion_url);
    let element = if payload.is_empty() {
        format!("<{OB2_ELEMENT} verify=\"{verify}\"/>")
    } else {
        format!(
            "<{OB2_ELEMENT} verify=\"{verify}\">{}</{OB2_ELEMENT}>",
            cdata(payload)
        )
    };
    bake_svg_element(svg, SVG_NAMESPACE_OB2, &element)
}

/// Reads the baked payload of `svg`: the content (CDATA and text, trimmed) of the first
/// baked element (`credential` in the OB 3.0 namespace or `assertion` in the OB 2.0 one,
/// whatever its prefix: see the module documentation), or, when it has none, its `verify`
/// attribute (an OB 3.0 VC-JWT or OB 2.0 signed JWS). `None` if nothing is baked.
pub fn extract_svg(svg: &str) -> Result<Option<String>, BakeError> {
    let root = find_root(svg)?;
    let Some(element) = baked_elements(svg, &root, None, true)?.into_iter().next() else {
        return Ok(None);
    };
    if let Some(content) = element.content.clone() {
        if content.len() > 2 * MAX_PAYLOAD_BYTES {
            return Err(BakeError::PayloadTooLarge(content.len()));
        }
        let text = character_data(svg, content)?;
        let text = text.trim();
        if !text.is_empty() {
            check_len(text.len())?;
            return Ok(Some(text.to_owned()));
        }
    }
    if let Some(value) = element.tag.attribute(svg, "verify") {
        check_len(value.len())?;
        let value = decode_entities(svg, value)?;
        if !value.trim().is_empty() {
            return Ok(Some(value.trim().to_owned()));
        }
    }
    Err(BakeError::MalformedSvg {
        offset: element.start,
        reason: "the baked element has neither content nor a verify attribute",
    })
}

/// Writes `element` as the first child of the root and points `xmlns:openbadges` at
/// `namespace`, dropping earlier baked elements: those the image has, and those that would
/// read as baked once the root binds `openbadges` to `namespace` (an `openbadges:` element
/// whose prefix was unbound, or bound on the root to another namespace).
pub(super) fn bake_svg_element(
    svg: &str,
    namespace: &str,
    element: &str,
) -> Result<String, BakeError> {
    let root = find_root(svg)?;
    let mut found = baked_elements(svg, &root, None, false)?;
    found.extend(baked_elements(svg, &root, Some(namespace), false)?);
    found.sort_by_key(|e| e.start);
    // The two walks overlap; each element goes once, and never one inside another.
    let mut old: Vec<Range<usize>> = Vec::with_capacity(found.len());
    for e in found {
        if old.last().is_none_or(|last| e.start >= last.end) {
            old.push(e.start..e.end);
        }
    }

    let mut out = String::with_capacity(svg.len() + element.len() + namespace.len() + 32);
    out.push_str(&svg[..root.start]);
    // The root start tag, without its closing `>` or `/>`.
    let tag_body_end = root.end - if root.self_closing { 2 } else { 1 };
    match root
        .attributes
        .iter()
        .find(|a| &svg[a.name.clone()] == NS_ATTRIBUTE)
    {
        Some(existing) => {
            out.push_str(&svg[root.start..existing.value.start]);
            out.push_str(namespace);
            out.push_str(&svg[existing.value.end..tag_body_end]);
        }
        None => {
            let name_end = root.start + "<svg".len();
            out.push_str(&svg[root.start..name_end]);
            out.push_str(&format!(" {NS_ATTRIBUTE}=\"{namespace}\""));
            out.push_str(&svg[name_end..tag_body_end]);
        }
    }
    out.push('>');
    out.push_str(element);
    if root.self_closing {
        out.push_str("</svg>");
    }
    let mut copied = root.end;
    for range in old {
        out.push_str(&svg[copied..range.start]);
        copied = range.end;
    }
    out.push_str(&svg[copied..]);
    Ok(out)
}

/// `payload` as CDATA; a `]]>` inside ends one section after `]]` and starts the next at `>`.
pub(super) fn cdata(payload: &str) -> String {
    format!("<![CDATA[{}]]>", payload.replace("]]>", "]]]]><![CDATA[>"))
}

pub(super) fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Attribute-value normalisation would turn raw whitespace controls into spaces.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Rejects characters that XML 1.0 cannot carry at all, even escaped.
pub(super) fn check_xml_text(text: &str) -> Result<(), BakeError> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    };
    if text.chars().all(allowed) {
        Ok(())
    } else {
        Err(BakeError::InvalidPayload(
            "it contains a control character that XML cannot carry",
        ))
    }
}

/// A parsed start tag: byte ranges into the document.
pub(super) struct StartTag {
    start: usize,
    /// Just past the closing `>`.
    end: usize,
    name: Range<usize>,
    self_closing: bool,
    attributes: Vec<Attribute>,
}

pub(super) struct Attribute {
    name: Range<usize>,
    /// Inside the quotes, still escaped.
    value: Range<usize>,
}

impl StartTag {
    fn attribute<'a>(&self, doc: &'a str, name: &str) -> Option<&'a str> {
        self.attributes
            .iter()
            .find(|a| &doc[a.name.clone()] == name)
            .map(|a| &doc[a.value.clone()])
    }
}

/// A baked element found in the document.
pub(super) struct BakedElement {
    start: usize,
    end: usize,
    tag: StartTag,
    /// Between the start and end tags; `None` when self-closing.
    content: Option<Range<usize>>,
}

pub(super) fn malformed_svg(offset: usize, reason: &'static str) -> BakeError {
    BakeError::MalformedSvg { offset, reason }
}

/// Offset just past the first `pattern` at or after `from`.
pub(super) fn skip_past(
    doc: &str,
    from: usize,
    pattern: &str,
    reason: &'static str,
) -> Result<usize, BakeError> {
    doc.get(from..)
        .and_then(|rest| rest.find(pattern))
        .map(|at| from + at + pattern.len())
        .ok_or(malformed_svg(from, reason))
}

/// Finds the root `<svg>` start tag after the prolog (BOM, XML declaration, comments,
/// processing instructions, DOCTYPE).
pub(super) fn find_root(doc: &str) -> Result<StartTag, BakeError> {
    let bytes = doc.as_bytes();
    let mut at = if doc.starts_with('\u{feff}') { 3 } else { 0 };
    loop {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        let rest = &doc[at..];
        if rest.starts_with("<!--") {
            at = skip_past(doc, at + 4, "-->", "unterminated comment")?;
        } else if rest.starts_with("<?") {
            at = skip_past(doc, at + 2, "?>", "unterminated processing instruction")?;
        } else if rest.starts_with("<!DOCTYPE") {
            at = skip_doctype(doc, at)?;
        } else if rest.starts_with("<svg")
            && matches!(bytes.get(at + 4), Some(b) if b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
        {
            return parse_start_tag(doc, at);
        } else if rest.is_empty() {
            return Err(BakeError::NotSvg("there is no root element"));
        } else {
            return Err(BakeError::NotSvg("the root element is not <svg>"));
        }
    }
}

/// Offset just past a `<!DOCTYPE …>` starting at `start`, internal subset included.
pub(super) fn skip_doctype(doc: &str, start: usize) -> Result<usize, BakeError> {
    let mut depth = 0usize;
    for (i, b) in doc.bytes().enumerate().skip(start) {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'>' if depth == 0 => return Ok(i + 1),
            _ => {}
        }
    }
    Err(malformed_svg(start, "unterminated DOCTYPE"))
}

/// Parses the start tag whose `<` is at `start`.
pub(super) fn parse_start_tag(doc: &str, start: usize) -> Result<StartTag, BakeError> {
    let bytes = doc.as_bytes();
    let ends_name = |b: u8| b.is_ascii_whitespace() || matches!(b, b'>' | b'/' | b'=');
    let name_end = (start + 1..bytes.len())
        .find(|&i| ends_name(bytes[i]))
        .ok_or(malformed_svg(start, "unterminated start tag"))?;
    if name_end == start + 1 {
        return Err(malformed_svg(start, "start tag without a name"));
    }
    let mut attributes = Vec::new();
    let mut at = name_end;
    loop {
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        match bytes.get(at) {
            None => return Err(malformed_svg(start, "unterminated start tag")),
            Some(b'>') | Some(b'/') => {
                let self_closing = bytes[at] == b'/';
                if self_closing && bytes.get(at + 1) != Some(&b'>') {
                    return Err(malformed_svg(at, "stray '/' in start tag"));
                }
                return Ok(StartTag {
                    start,
                    end: at + if self_closing { 2 } else { 1 },
                    name: start + 1..name_end,
                    self_closing,
                    attributes,
                });
            }
            Some(_) => {
                let attr_start = at;
                while bytes.get(at).is_some_and(|&b| !ends_name(b)) {
                    at += 1;
                }
                let name = attr_start..at;
                while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                    at += 1;
                }
                if name.is_empty() || bytes.get(at) != Some(&b'=') {
                    return Err(malformed_svg(attr_start, "attribute without a value"));
                }
                at += 1;
                while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                    at += 1;
                }
                let quote = match bytes.get(at) {
                    Some(&q @ (b'"' | b'\'')) => q,
                    _ => return Err(malformed_svg(at, "attribute value is not quoted")),
                };
                let value_start = at + 1;
                let value_end = (value_start..bytes.len())
                    .find(|&i| bytes[i] == quote)
                    .ok_or(malformed_svg(at, "unterminated attribute value"))?;
                attributes.push(Attribute {
                    name,
                    value: value_start..value_end,
                });
                at = value_end + 1;
            }
        }
    }
}

/// Namespace declarations in scope while walking the element tree.
#[derive(Default)]
pub(super) struct Scope<'a> {
    /// Each prefix (`""`: the default namespace) with the namespaces it is bound to, the
    /// innermost last, each with the depth of the element that declared it.
    bindings: HashMap<&'a str, Vec<(usize, Cow<'a, str>)>>,
    /// The prefixes declared by the open elements, in order, to unbind at their end tags.
    declared: Vec<(usize, &'a str)>,
}

impl<'a> Scope<'a> {
    /// Applies the `xmlns` and `xmlns:p` attributes of `tag`, an element at `depth`.
    fn open(&mut self, doc: &'a str, tag: &StartTag, depth: usize) -> Result<(), BakeError> {
        for attribute in &tag.attributes {
            let name = &doc[attribute.name.clone()];
            let prefix = match name.strip_prefix("xmlns") {
                Some("") => "",
                Some(rest) => match rest.strip_prefix(':') {
                    Some(p) if !p.is_empty() => p,
                    _ => continue,
                },
                None => continue,
            };
            let raw = &doc[attribute.value.clone()];
            // A value that does not decode (an entity of the DTD) names some other namespace.
            let namespace = match decode_entities(doc, raw) {
                Ok(decoded) => Cow::Owned(decoded),
                Err(_) => Cow::Borrowed(raw),
            };
            self.bind(prefix, namespace, depth, attribute.name.start)?;
        }
        Ok(())
    }

    fn bind(
        &mut self,
        prefix: &'a str,
        namespace: Cow<'a, str>,
        depth: usize,
        at: usize,
    ) -> Result<(), BakeError> {
        let stack = self.bindings.entry(prefix).or_default();
        if stack.last().is_some_and(|(d, _)| *d == depth) {
            return Err(malformed_svg(
                at,
                "a namespace prefix is declared twice on one element",
            ));
        }
        stack.push((depth, namespace));
        self.declared.push((depth, prefix));
        Ok(())
    }

    /// Reads the root's `prefix` as bound to `namespace`, whatever the root declares.
    fn rebind_root(&mut self, prefix: &'a str, namespace: &'a str) {
        let stack = self.bindings.entry(prefix).or_default();
        match stack.first_mut() {
            Some((0, bound)) => *bound = Cow::Borrowed(namespace),
            _ => {
                stack.insert(0, (0, Cow::Borrowed(namespace)));
                self.declared.insert(0, (0, prefix));
            }
        }
    }

    /// Undoes the declarations of the element at `depth`, at its end.
    fn close(&mut self, depth: usize) {
        while let Some(&(d, prefix)) = self.declared.last() {
            if d < depth {
                break;
            }
            self.declared.pop();
            if let Some(stack) = self.bindings.get_mut(prefix) {
                stack.pop();
            }
        }
    }

    /// Whether the element named `qname` is a baked one: `credential` in the OB 3.0
    /// namespace or `assertion` in the OB 2.0 one. An unbound prefix names no namespace.
    fn is_baked(&self, qname: &str) -> bool {
        let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
        if local != "credential" && local != "assertion" {
            return false;
        }
        let namespace = self
            .bindings
            .get(prefix)
            .and_then(|stack| stack.last())
            .map(|(_, ns)| ns.as_ref());
        matches!(
            (namespace, local),
            (Some(SVG_NAMESPACE_OB3), "credential") | (Some(SVG_NAMESPACE_OB2), "assertion")
        )
    }
}

/// The baked elements inside the root element `root` (its start tag), outermost only, in
/// document order; with `first_only`, the first one at most. An element is baked by its
/// expanded name, as a namespace-aware XML reader sees it: `credential` in
/// [`SVG_NAMESPACE_OB3`] or `assertion` in [`SVG_NAMESPACE_OB2`], whatever the prefix (or
/// the default namespace) that names it there. With `root_openbadges`, the root's
/// `openbadges` prefix is read as bound to that namespace, as baking is about to declare.
///
/// The walk follows the element tree: an end tag that does not close the element it ends,
/// a prefix declared twice on one element or a baked element never closed is malformed.
/// It stops at the root's end tag.
pub(super) fn baked_elements<'a>(
    doc: &'a str,
    root: &StartTag,
    root_openbadges: Option<&'a str>,
    first_only: bool,
) -> Result<Vec<BakedElement>, BakeError> {
    let mut scope = Scope::default();
    scope.open(doc, root, 0)?;
    if let Some(namespace) = root_openbadges {
        scope.rebind_root("openbadges", namespace);
    }
    let mut found = Vec::new();
    if root.self_closing {
        return Ok(found);
    }
    // The names of the open elements, the root first: one's depth is its index.
    let mut open: Vec<&str> = vec![&doc[root.name.clone()]];
    // The baked element being walked through: its depth, start tag and start.
    let mut current: Option<(usize, StartTag, usize)> = None;
    let mut from = root.end;
    while let Some(found_at) = doc.get(from..).and_then(|rest| rest.find('<')) {
        let at = from + found_at;
        let rest = &doc[at..];
        if rest.starts_with("<!--") {
            from = skip_past(doc, at + 4, "-->", "unterminated comment")?;
        } else if rest.starts_with("<![CDATA[") {
            from = skip_past(doc, at + 9, "]]>", "unterminated CDATA section")?;
        } else if rest.starts_with("<?") {
            from = skip_past(doc, at + 2, "?>", "unterminated processing instruction")?;
        } else if rest.starts_with("</") {
            let (name, end) = parse_end_tag(doc, at)?;
            let depth = open.len() - 1;
            if open.pop() != Some(name) {
                return Err(malformed_svg(
                    at,
                    "an end tag does not close the element it ends",
                ));
            }
            scope.close(depth);
            if current.as_ref().is_some_and(|(d, _, _)| *d == depth) {
                let (_, tag, start) = current.take().expect("checked just above");
                found.push(BakedElement {
                    start,
                    end,
                    content: Some(tag.end..at),
                    tag,
                });
                if first_only {
                    return Ok(found);
                }
            }
            if open.is_empty() {
                return Ok(found);
            }
            from = end;
        } else if rest.starts_with("<!") {
            from = skip_past(doc, at + 2, ">", "unterminated tag")?;
        } else {
            let tag = parse_start_tag(doc, at)?;
            let depth = open.len();
            scope.open(doc, &tag, depth)?;
            // Its own declarations count for its name; inside a baked element, nothing is.
            let baked = current.is_none() && scope.is_baked(&doc[tag.name.clone()]);
            from = tag.end;
            if tag.self_closing {
                scope.close(depth);
                if baked {
                    found.push(BakedElement {
                        start: at,
                        end: tag.end,
                        content: None,
                        tag,
                    });
                    if first_only {
                        return Ok(found);
                    }
                }
            } else {
                open.push(&doc[tag.name.clone()]);
                if baked {
                    current = Some((depth, tag, at));
                }
            }
        }
    }
    match current {
        Some((_, _, start)) => Err(malformed_svg(start, "baked element is never closed")),
        None => Ok(found),
    }
}

/// The name of the end tag whose `<` is at `start`, and the offset just past its `>`.
pub(super) fn parse_end_tag(doc: &str, start: usize) -> Result<(&str, usize), BakeError> {
    let bytes = doc.as_bytes();
    let name_start = start + 2;
    let name_end = (name_start..bytes.len())
        .find(|&i| bytes[i].is_ascii_whitespace() || bytes[i] == b'>')
        .ok_or(malformed_svg(start, "unterminated end tag"))?;
    let mut at = name_end;
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    if name_end == name_start || bytes.get(at) != Some(&b'>') {
        return Err(malformed_svg(start, "malformed end tag"));
    }
    Ok((&doc[name_start..name_end], at + 1))
}

/// The character data of an element's content: CDATA verbatim, text with entities decoded.
pub(super) fn character_data(doc: &str, content: Range<usize>) -> Result<String, BakeError> {
    let mut out = String::new();
    let mut at = content.start;
    while at < content.end {
        let rest = &doc[at..content.end];
        if let Some(inner) = rest.strip_prefix("<![CDATA[") {
            let len = inner
                .find("]]>")
                .ok_or(malformed_svg(at, "unterminated CDATA section"))?;
            out.push_str(&inner[..len]);
            at += 9 + len + 3;
        } else if rest.starts_with("<!--") {
            at = skip_past(doc, at + 4, "-->", "unterminated comment")?;
        } else if rest.starts_with('<') {
            return Err(malformed_svg(
                at,
                "unexpected markup inside the baked element",
            ));
        } else {
            let len = rest.find('<').unwrap_or(rest.len());
            out.push_str(&decode_entities(doc, &rest[..len])?);
            at += len;
        }
    }
    Ok(out)
}

/// Decodes XML's predefined entities and character references in `text`.
pub(super) fn decode_entities(doc: &str, text: &str) -> Result<String, BakeError> {
    // Offset for error messages: `text` is always a slice of `doc`.
    let base = text.as_ptr() as usize - doc.as_ptr() as usize;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let offset = base + (text.len() - rest.len()) + amp;
        let semi = after
            .find(';')
            .filter(|&i| i <= 10)
            .ok_or(malformed_svg(offset, "unterminated entity reference"))?;
        let entity = &after[..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        out.push(decoded.ok_or(malformed_svg(offset, "unknown entity reference"))?);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
