//! RDF Dataset Canonicalization (RDFC-1.0, W3C Recommendation) with SHA-256.
//!
//! `eddsa-rdfc-2022` proofs sign the canonical N-Quads of a credential, so this must agree
//! byte for byte with every other implementation; it is checked against the W3C test suite
//! and differentially against the `rdf-canon` crate. It is also on the hot path of issuing
//! and verifying, so it avoids the usual string-heavy shape:
//!
//! * every term is serialised (and escaped) once into one buffer; blank nodes become small
//!   integer ids, so a quad is four slots that point into that buffer or name a blank node;
//! * first-degree hashes write their lines into one reused buffer, sort ranges rather than
//!   `String`s, and feed the sorted lines straight into an incremental SHA-256;
//! * duplicate input quads (a dataset is a set) are detected for free while sorting those
//!   lines, and only then is the input deduplicated, on a slow path.
//!
//! Hash N-Degree Quads follows the Recommendation step by step (permutations, issuer copies,
//! recursion, early path pruning). Its cost is exponential on purpose-built "poison" graphs,
//! so every call, every related-node hash and every permutation is charged to a work budget
//! and recursion depth is bounded; past either, [`CanonError::TooComplex`] is returned instead
//! of burning CPU (the defence against poison graphs that RDFC-1.0 §4.4 / §7 asks for).

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::rdf::{write_literal, write_term, Quad, Term};

/// Default bound on Hash N-Degree Quads work: calls, related blank nodes hashed and
/// permutations examined, one step each.
///
/// Real credentials need none (their blank nodes have unique first-degree hashes); the
/// hardest positive W3C tests ("poison – evil", 044 to 046) need 6,156, so this leaves six
/// times that. Counting the hashes of related nodes, not just the calls, keeps the bound a
/// bound on time on dense graphs too (a 30-node blank clique posted to `POST /verify`).
pub const DEFAULT_WORK_LIMIT: usize = 40_000;

/// Deepest Hash N-Degree Quads recursion allowed. Each level is a stack frame (under 1 KiB
/// in release, a few KiB in debug builds), and servers run this on 2 MiB worker stacks, so a
/// long chain of look-alike blank nodes must fail cleanly rather than overflow the stack.
pub const MAX_RECURSION_DEPTH: usize = 256;

/// Why a dataset could not be canonicalised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonError {
    /// Hash N-Degree Quads needed more work than allowed: a poison graph, or blank-node
    /// symmetry far beyond anything a credential has.
    #[error(
        "dataset too complex to canonicalise: N-degree hashing exceeded its work limit of \
         {limit} steps or {max_depth} levels of recursion"
    )]
    TooComplex {
        /// The work limit in force.
        limit: usize,
        /// The recursion depth bound in force.
        max_depth: usize,
    },
    /// A quad is not a valid RDF quad (say, a literal subject or a non-IRI predicate).
    #[error("quad {index} is not a valid RDF quad: {reason}")]
    InvalidQuad {
        /// Position of the quad in the input.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Canonicalises `quads` with [`DEFAULT_WORK_LIMIT`] and returns the canonical N-Quads
/// document: blank nodes relabelled `_:c14n0`, `_:c14n1`, …, one line per distinct quad,
/// lines sorted by code point, each ending in `\n`.
pub fn canonicalize(quads: &[Quad]) -> Result<String, CanonError> {
    canonicalize_with_limit(quads, DEFAULT_WORK_LIMIT)
}

/// Like [`canonicalize`], with an explicit bound on Hash N-Degree Quads work (calls plus
/// permutations examined). Use a small limit for untrusted input that should be simple.
pub fn canonicalize_with_limit(quads: &[Quad], limit: usize) -> Result<String, CanonError> {
    let refs: Vec<&Quad> = quads.iter().collect();
    match run(&refs, limit, true)? {
        Outcome::Done(out) => Ok(out),
        Outcome::MayHaveDuplicates => {
            // Slow path: equal first-degree lines were seen, which may mean repeated quads.
            // Make the input a set and start again; the rerun need not check.
            let mut set = refs;
            set.sort_unstable();
            set.dedup();
            match run(&set, limit, false)? {
                Outcome::Done(out) => Ok(out),
                Outcome::MayHaveDuplicates => unreachable!("duplicate check is off"),
            }
        }
    }
}

enum Outcome {
    Done(String),
    MayHaveDuplicates,
}

/// A quad component: pre-serialised text (a byte range of the term buffer) or a blank node.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Text(usize, usize),
    Blank(u32),
}

/// A quad with its terms serialised; `p` is the `<iri>` range of the predicate.
#[derive(Debug)]
struct PQuad {
    s: Slot,
    p: (usize, usize),
    o: Slot,
    g: Option<Slot>,
}

const NONE: u32 = u32::MAX;

/// An identifier issuer (Recommendation §4.5): issued numbers are positions in `order`,
/// `index[bnode]` is the issued number or `NONE`.
#[derive(Clone)]
struct Issuer {
    index: Vec<u32>,
    order: Vec<u32>,
}

impl Issuer {
    fn new(blank_nodes: usize) -> Self {
        Issuer {
            index: vec![NONE; blank_nodes],
            order: Vec::new(),
        }
    }

    fn get(&self, bnode: u32) -> Option<u32> {
        let i = self.index[bnode as usize];
        (i != NONE).then_some(i)
    }

    fn issue(&mut self, bnode: u32) -> u32 {
        match self.get(bnode) {
            Some(i) => i,
            None => {
                let i = self.order.len() as u32;
                self.index[bnode as usize] = i;
                self.order.push(bnode);
                i
            }
        }
    }
}

/// Everything Hash N-Degree Quads reads, plus its work counter.
struct State<'a> {
    terms: &'a str,
    quads: &'a [PQuad],
    /// Per blank node, the indices of the quads that mention it, each once.
    mentions: Vec<Vec<u32>>,
    /// Per blank node, its first-degree hash as lowercase hex.
    first_degree: Vec<[u8; 64]>,
    canonical: Issuer,
    work: usize,
    limit: usize,
}

impl State<'_> {
    fn too_complex(&self) -> CanonError {
        CanonError::TooComplex {
            limit: self.limit,
            max_depth: MAX_RECURSION_DEPTH,
        }
    }

    fn charge(&mut self) -> Result<(), CanonError> {
        self.charge_n(1)
    }

    fn charge_n(&mut self, steps: usize) -> Result<(), CanonError> {
        self.work = self.work.saturating_add(steps);
        if self.work > self.limit {
            Err(self.too_complex())
        } else {
            Ok(())
        }
    }

    fn text(&self, (start, end): (usize, usize)) -> &str {
        &self.terms[start..end]
    }
}

fn run(quads: &[&Quad], limit: usize, check_duplicates: bool) -> Result<Outcome, CanonError> {
    // Serialise every non-blank term once and give blank nodes dense ids.
    let mut prep = Prepared {
        terms: String::with_capacity(quads.len() * 96),
        ids: BlankIds::Few(Vec::new()),
        mentions: Vec::new(),
    };
    let mut pquads = Vec::with_capacity(quads.len());
    for (qi, quad) in quads.iter().enumerate() {
        let invalid = |reason| CanonError::InvalidQuad { index: qi, reason };
        if matches!(quad.subject, Term::Literal { .. }) {
            return Err(invalid("the subject is a literal"));
        }
        if !matches!(quad.predicate, Term::Iri(_)) {
            return Err(invalid("the predicate is not an IRI"));
        }
        if matches!(quad.graph, Some(Term::Literal { .. })) {
            return Err(invalid("the graph name is a literal"));
        }
        let qi = qi as u32;
        let s = prep.slot(&quad.subject, qi);
        let Slot::Text(ps, pe) = prep.slot(&quad.predicate, qi) else {
            unreachable!("predicate checked to be an IRI")
        };
        let o = prep.slot(&quad.object, qi);
        let g = quad.graph.as_ref().map(|g| prep.slot(g, qi));
        pquads.push(PQuad {
            s,
            p: (ps, pe),
            o,
            g,
        });
    }
    let Prepared {
        terms, mentions, ..
    } = prep;
    label(&terms, &pquads, mentions, limit, check_duplicates)
}

/// A dataset written straight into the form canonicalisation works on: each term serialised
/// once as it is added, blank nodes numbered, no [`Quad`] or [`Term`] values (and none of
/// their allocations) in between. The fast path signs credentials through it.
#[derive(Debug, Default)]
pub struct Dataset {
    terms: String,
    quads: Vec<PQuad>,
    /// Per blank node, the quads that mention it.
    mentions: Vec<Vec<u32>>,
}

/// A term of a [`Dataset`]: where its text is, or which blank node it is.
#[derive(Debug, Clone, Copy)]
pub struct TermRef(Slot);

impl Dataset {
    /// An empty dataset with room for `quads` quads.
    pub fn with_capacity(quads: usize) -> Self {
        Dataset {
            terms: String::with_capacity(quads * 80),
            quads: Vec::with_capacity(quads),
            mentions: Vec::new(),
        }
    }

    /// An IRI (absolute, as N-Quads writes it between `<` and `>`).
    pub fn iri(&mut self, iri: &str) -> TermRef {
        let start = self.terms.len();
        self.terms.push('<');
        self.terms.push_str(iri);
        self.terms.push('>');
        TermRef(Slot::Text(start, self.terms.len()))
    }

    /// A fresh blank node.
    pub fn blank(&mut self) -> TermRef {
        self.mentions.push(Vec::new());
        TermRef(Slot::Blank(self.mentions.len() as u32 - 1))
    }

    /// A literal with datatype `datatype` (`xsd:string` for a plain one).
    pub fn literal(&mut self, value: &str, datatype: &str) -> TermRef {
        let start = self.terms.len();
        write_literal(&mut self.terms, value, datatype);
        TermRef(Slot::Text(start, self.terms.len()))
    }

    /// Adds the quad `subject predicate object` in the default graph. The subject must be an
    /// IRI or blank node and the predicate an IRI, as the caller's types ensure.
    pub fn push(&mut self, subject: TermRef, predicate: TermRef, object: TermRef) {
        let qi = self.quads.len() as u32;
        let TermRef(Slot::Text(ps, pe)) = predicate else {
            panic!("a predicate is an IRI, not a blank node")
        };
        for TermRef(slot) in [subject, object] {
            if let Slot::Blank(b) = slot {
                let list = &mut self.mentions[b as usize];
                if list.last() != Some(&qi) {
                    list.push(qi);
                }
            }
        }
        self.quads.push(PQuad {
            s: subject.0,
            p: (ps, pe),
            o: object.0,
            g: None,
        });
    }

    /// The canonical N-Quads ([`canonicalize`]), or `None` when the dataset may hold the same
    /// quad twice: then canonicalise it as [`Quad`]s, which removes repeats.
    pub fn canonicalize(self) -> Result<Option<String>, CanonError> {
        match label(
            &self.terms,
            &self.quads,
            self.mentions,
            DEFAULT_WORK_LIMIT,
            true,
        )? {
            Outcome::Done(out) => Ok(Some(out)),
            Outcome::MayHaveDuplicates => Ok(None),
        }
    }
}

/// Labels the blank nodes of prepared quads and writes the canonical N-Quads.
fn label(
    terms: &str,
    pquads: &[PQuad],
    mentions: Vec<Vec<u32>>,
    limit: usize,
    check_duplicates: bool,
) -> Result<Outcome, CanonError> {
    let blank_count = mentions.len();

    // First-degree hashes (§4.6), all through one line buffer and one range list.
    let mut lines = String::new();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut first_degree = Vec::with_capacity(blank_count);
    let mut by_hash: Vec<([u8; 32], u32)> = Vec::with_capacity(blank_count);
    for (bnode, list) in mentions.iter().enumerate() {
        lines.clear();
        ranges.clear();
        for &qi in list {
            let start = lines.len();
            write_line(&mut lines, terms, &pquads[qi as usize], |b, out| {
                out.push_str(if b as usize == bnode { "_:a" } else { "_:z" });
            });
            ranges.push((start, lines.len()));
        }
        let line = |&(s, e): &(usize, usize)| &lines[s..e];
        ranges.sort_unstable_by(|a, b| line(a).cmp(line(b)));
        if check_duplicates && ranges.windows(2).any(|w| line(&w[0]) == line(&w[1])) {
            return Ok(Outcome::MayHaveDuplicates);
        }
        let mut hasher = Sha256::new();
        for r in &ranges {
            hasher.update(line(r).as_bytes());
        }
        let digest: [u8; 32] = hasher.finalize().into();
        first_degree.push(hex(&digest));
        by_hash.push((digest, bnode as u32));
    }

    // Byte order of digests is code point order of their hex, so sort the raw bytes.
    by_hash.sort_unstable();
    let mut state = State {
        terms,
        quads: pquads,
        mentions,
        first_degree,
        canonical: Issuer::new(blank_count),
        work: 0,
        limit,
    };

    // Unique first-degree hashes get canonical identifiers in hash order (§4.4.3 step 4).
    let groups: Vec<&[([u8; 32], u32)]> = by_hash.chunk_by(|a, b| a.0 == b.0).collect();
    for group in &groups {
        if let [(_, bnode)] = group {
            state.canonical.issue(*bnode);
        }
    }

    // Shared hashes are told apart by Hash N-Degree Quads (§4.4.3 step 5).
    for group in groups.iter().filter(|g| g.len() > 1) {
        let mut results: Vec<([u8; 32], Issuer)> = Vec::with_capacity(group.len());
        for &(_, bnode) in group.iter() {
            if state.canonical.get(bnode).is_some() {
                continue;
            }
            let mut temporary = Issuer::new(blank_count);
            temporary.issue(bnode);
            results.push(hash_n_degree(&mut state, bnode, temporary, 0)?);
        }
        // Stable, so equal hashes (automorphic nodes) keep a deterministic order.
        results.sort_by_key(|r| r.0);
        for (_, issuer) in &results {
            for &bnode in &issuer.order {
                state.canonical.issue(bnode);
            }
        }
    }

    // Serialise with canonical labels, sort and drop duplicate lines (§4.4.3 step 6, §5).
    let labels: Vec<String> = (0..blank_count as u32)
        .map(|b| {
            let n = state
                .canonical
                .get(b)
                .expect("every blank node is labelled");
            format!("_:c14n{n}")
        })
        .collect();
    lines.clear();
    ranges.clear();
    for q in pquads {
        let start = lines.len();
        write_line(&mut lines, terms, q, |b, out| {
            out.push_str(&labels[b as usize])
        });
        ranges.push((start, lines.len()));
    }
    let line = |&(s, e): &(usize, usize)| &lines[s..e];
    ranges.sort_unstable_by(|a, b| line(a).cmp(line(b)));
    ranges.dedup_by(|a, b| line(a) == line(b));
    let mut out = String::with_capacity(lines.len());
    for r in &ranges {
        out.push_str(line(r));
    }
    Ok(Outcome::Done(out))
}

/// The term buffer, blank node ids and mention sets while quads are being read.
struct Prepared<'q> {
    terms: String,
    ids: BlankIds<'q>,
    mentions: Vec<Vec<u32>>,
}

/// Blank node labels to dense ids. A credential has a handful of blank nodes, which a list
/// finds faster than hashing each label; a larger dataset moves to a map.
enum BlankIds<'q> {
    Few(Vec<(&'q str, u32)>),
    Many(HashMap<&'q str, u32>),
}

impl<'q> BlankIds<'q> {
    /// The id of `label`, given `next` if it is new.
    fn id(&mut self, label: &'q str, next: u32) -> u32 {
        match self {
            BlankIds::Few(list) => {
                if let Some(&(_, id)) = list.iter().find(|(l, _)| *l == label) {
                    return id;
                }
                if list.len() < 16 {
                    list.push((label, next));
                } else {
                    let mut map: HashMap<&'q str, u32> = list.drain(..).collect();
                    map.insert(label, next);
                    *self = BlankIds::Many(map);
                }
                next
            }
            BlankIds::Many(map) => *map.entry(label).or_insert(next),
        }
    }
}

impl<'q> Prepared<'q> {
    /// Serialises `term` of quad `qi` into the buffer, or records a blank node mention.
    fn slot(&mut self, term: &'q Term, qi: u32) -> Slot {
        match term {
            Term::Blank(label) => {
                let next = self.mentions.len() as u32;
                let id = self.ids.id(label, next);
                if id == next {
                    self.mentions.push(Vec::new());
                }
                let list = &mut self.mentions[id as usize];
                // A blank node twice in one quad still mentions it once.
                if list.last() != Some(&qi) {
                    list.push(qi);
                }
                Slot::Blank(id)
            }
            _ => {
                let start = self.terms.len();
                write_term(&mut self.terms, term);
                Slot::Text(start, self.terms.len())
            }
        }
    }
}

/// Writes one N-Quads line, blank nodes written by `blank`.
fn write_line(out: &mut String, terms: &str, q: &PQuad, blank: impl Fn(u32, &mut String)) {
    let slot = |out: &mut String, slot: Slot| match slot {
        Slot::Text(s, e) => out.push_str(&terms[s..e]),
        Slot::Blank(b) => blank(b, out),
    };
    slot(out, q.s);
    out.push(' ');
    out.push_str(&terms[q.p.0..q.p.1]);
    out.push(' ');
    slot(out, q.o);
    out.push(' ');
    if let Some(g) = q.g {
        slot(out, g);
        out.push(' ');
    }
    out.push_str(".\n");
}

/// Hash N-Degree Quads (§4.8): returns the hash and the issuer that produced it.
fn hash_n_degree(
    state: &mut State<'_>,
    identifier: u32,
    mut issuer: Issuer,
    depth: usize,
) -> Result<([u8; 32], Issuer), CanonError> {
    state.charge()?;
    if depth >= MAX_RECURSION_DEPTH {
        return Err(state.too_complex());
    }

    // Steps 1-3: hash every other blank node in the mention set by how it is related.
    let mut related: Vec<([u8; 32], u32)> = Vec::new();
    for &qi in &state.mentions[identifier as usize] {
        let q = &state.quads[qi as usize];
        for (slot, position) in [(Some(q.s), b's'), (Some(q.o), b'o'), (q.g, b'g')] {
            if let Some(Slot::Blank(b)) = slot {
                if b != identifier {
                    related.push((hash_related(state, b, q, &issuer, position), b));
                }
            }
        }
    }
    // Each related node cost a hash: charged too, so that the budget bounds time even where
    // every call sees many neighbours (a dense poison graph), not only the number of calls.
    state.charge_n(related.len())?;
    related.sort_unstable();

    // Steps 4-5: for each related hash, in order, the least path over all permutations.
    let mut data = Sha256::new();
    let mut chosen_path = String::new();
    let mut path = String::new();
    let mut recursion: Vec<u32> = Vec::new();
    for group in related.chunk_by(|a, b| a.0 == b.0) {
        data.update(hex(&group[0].0));
        // Sorted, so stepping to the next lexicographic permutation visits each distinct
        // ordering once (a node related twice in the same way appears twice).
        let mut list: Vec<u32> = group.iter().map(|&(_, b)| b).collect();
        chosen_path.clear();
        let mut chosen_issuer: Option<Issuer> = None;
        loop {
            state.charge()?;
            let mut copy = issuer.clone();
            path.clear();
            recursion.clear();
            let mut pruned = false;
            for &r in &list {
                if let Some(c) = state.canonical.get(r) {
                    push_label(&mut path, "_:c14n", c);
                } else {
                    if copy.get(r).is_none() {
                        recursion.push(r);
                    }
                    push_label(&mut path, "_:b", copy.issue(r));
                }
                if worse(&path, &chosen_path) {
                    pruned = true;
                    break;
                }
            }
            if !pruned {
                for &r in &recursion {
                    let (hash, result_issuer) = hash_n_degree(state, r, copy, depth + 1)?;
                    copy = result_issuer;
                    let id = copy.get(r).expect("issued before recursing");
                    push_label(&mut path, "_:b", id);
                    path.push('<');
                    path.push_str(ascii(&hex(&hash)));
                    path.push('>');
                    if worse(&path, &chosen_path) {
                        pruned = true;
                        break;
                    }
                }
            }
            if !pruned && (chosen_issuer.is_none() || path < chosen_path) {
                std::mem::swap(&mut chosen_path, &mut path);
                chosen_issuer = Some(copy);
            }
            if !next_permutation(&mut list) {
                break;
            }
        }
        data.update(chosen_path.as_bytes());
        issuer = chosen_issuer.expect("the first permutation is never pruned");
    }
    Ok((data.finalize().into(), issuer))
}

/// The early-exit test of §4.8.3 steps 5.4.4.3 and 5.4.5.5: `path` cannot beat the chosen one.
fn worse(path: &str, chosen: &str) -> bool {
    !chosen.is_empty() && path.len() >= chosen.len() && path > chosen
}

/// Hash Related Blank Node (§4.7).
fn hash_related(
    state: &State<'_>,
    related: u32,
    q: &PQuad,
    issuer: &Issuer,
    position: u8,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([position]);
    if position != b'g' {
        h.update(state.text(q.p).as_bytes());
    }
    let mut label = String::new();
    if let Some(c) = state.canonical.get(related) {
        push_label(&mut label, "_:c14n", c);
        h.update(label.as_bytes());
    } else if let Some(t) = issuer.get(related) {
        push_label(&mut label, "_:b", t);
        h.update(label.as_bytes());
    } else {
        h.update(state.first_degree[related as usize]);
    }
    h.finalize().into()
}

fn push_label(out: &mut String, prefix: &str, n: u32) {
    use std::fmt::Write as _;
    out.push_str(prefix);
    let _ = write!(out, "{n}");
}

/// Steps `list` to its next permutation in lexicographic order; false after the last.
fn next_permutation(list: &mut [u32]) -> bool {
    let Some(i) = list.windows(2).rposition(|w| w[0] < w[1]) else {
        return false;
    };
    let j = list
        .iter()
        .rposition(|&x| x > list[i])
        .expect("list[i + 1] is larger");
    list.swap(i, j);
    list[i + 1..].reverse();
    true
}

fn hex(digest: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = DIGITS[(b >> 4) as usize];
        out[2 * i + 1] = DIGITS[(b & 15) as usize];
    }
    out
}

fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Term {
        Term::blank(s)
    }
    fn i(s: &str) -> Term {
        Term::iri(s)
    }

    #[test]
    fn relabels_and_sorts() {
        let quads = vec![
            Quad::new(b("x"), i("urn:p"), Term::string("v")),
            Quad::new(i("urn:s"), i("urn:p"), b("x")),
        ];
        let out = canonicalize(&quads).unwrap();
        assert_eq!(out, "<urn:s> <urn:p> _:c14n0 .\n_:c14n0 <urn:p> \"v\" .\n");
    }

    #[test]
    fn removes_duplicate_quads() {
        let q = Quad::new(b("x"), i("urn:p"), b("y"));
        let out = canonicalize(&[q.clone(), q.clone(), q]).unwrap();
        assert_eq!(out.lines().count(), 1);
    }

    #[test]
    fn rejects_literal_subject() {
        let q = Quad::new(Term::string("s"), i("urn:p"), i("urn:o"));
        assert!(matches!(
            canonicalize(&[q]),
            Err(CanonError::InvalidQuad { index: 0, .. })
        ));
    }

    #[test]
    fn next_permutation_visits_distinct_orderings() {
        let mut list = [1, 1, 2];
        let mut n = 1;
        while next_permutation(&mut list) {
            n += 1;
        }
        assert_eq!(n, 3);
        assert_eq!(list, [2, 1, 1]);
    }

    #[test]
    fn long_chains_fail_cleanly() {
        // A ring of look-alike blank nodes: every node recurses around the whole ring.
        let n = 2 * MAX_RECURSION_DEPTH;
        let quads: Vec<Quad> = (0..n)
            .map(|k| {
                Quad::new(
                    b(&format!("n{k}")),
                    i("urn:next"),
                    b(&format!("n{}", (k + 1) % n)),
                )
            })
            .collect();
        assert!(matches!(
            canonicalize_with_limit(&quads, usize::MAX),
            Err(CanonError::TooComplex { .. })
        ));
    }
}
