//! The crate's rooms point one way: no module uses a module that uses it back, directly or
//! around a loop (ARCHITECTURE.md).
//!
//! Reads every file under `src/` (the library; `main.rs` is the binary's thin edge), finds
//! each path into the crate (`crate::a::b`, `super::c`, `self::d`, in `use` trees and inline),
//! resolves it to the deepest module that exists, and fails on any strongly connected group
//! of modules, naming the lines that close the loop. A parent declaring a child (`mod c;`)
//! is containment, not use; a child using its parent's own items is use. Comments are not
//! code and are skipped; so are `#[cfg(test)]` modules, whose imports do not shape the rooms.
//! It also holds the credential room to its promise: pure code that uses nothing outside
//! `credential/` and does no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One module: its path (`credential::jsonld`, `` for the crate root) and source file.
struct Module {
    path: Vec<String>,
    file: PathBuf,
}

fn modules(src: &Path) -> Vec<Module> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap();
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_str().unwrap().trim_end_matches(".rs").to_owned())
                .collect();
            match parts.last().map(String::as_str) {
                Some("main") if parts.len() == 1 => continue,
                Some("lib") if parts.len() == 1 => parts.clear(),
                Some("mod") => {
                    parts.pop();
                }
                _ => {}
            }
            out.push(Module {
                path: parts,
                file: path,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The source without comments, string contents and `#[cfg(test)]` modules, line by line
/// (line numbers kept).
fn code_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block_comment = false;
    let mut skip_depth: Option<i32> = None;
    let mut depth = 0i32;
    let mut pending_cfg_test = false;
    // Strings may span lines (`"…\` continuations, long messages).
    let mut in_str = false;
    for line in text.lines() {
        let mut code = String::new();
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if in_block_comment {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    in_block_comment = false;
                }
                continue;
            }
            if in_str {
                if c == '\\' {
                    chars.next();
                } else if c == '"' {
                    in_str = false;
                    code.push('"');
                }
                continue;
            }
            match c {
                '/' if chars.peek() == Some(&'/') => break,
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    in_block_comment = true;
                }
                '"' => {
                    in_str = true;
                    code.push('"');
                }
                _ => code.push(c),
            }
        }
        let trimmed = code.trim();
        if trimmed.starts_with("#[cfg(test)]") {
            pending_cfg_test = true;
        } else if pending_cfg_test && trimmed.starts_with("mod ") && trimmed.ends_with('{') {
            skip_depth = Some(depth);
            pending_cfg_test = false;
        } else if !trimmed.is_empty() && !trimmed.starts_with("#[") {
            pending_cfg_test = false;
        }
        let skipping = skip_depth.is_some();
        for c in code.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
        }
        if let Some(d) = skip_depth {
            if depth <= d && code.contains('}') {
                skip_depth = None;
            }
        }
        out.push(if skipping { String::new() } else { code });
    }
    out
}

/// Every path into the crate that `code` names, as segment lists relative to the crate
/// root, resolved against `module` (the file's own module path). `children` are the names of
/// `module`'s child modules, which its code may name without a prefix (`sqlite::Store`).
fn crate_paths(code: &str, module: &[String], children: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let child_prefixes: Vec<String> = children.iter().map(|c| format!("{c}::")).collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let boundary = i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != b':';
        let start = ["crate::", "super::", "self::"]
            .iter()
            .map(|p| p.to_string())
            .chain(child_prefixes.iter().cloned())
            .find(|p| boundary && rest.starts_with(p.as_bytes()));
        let Some(prefix) = start else {
            i += 1;
            continue;
        };
        let mut base: Vec<String> = match prefix.as_str() {
            "crate::" => Vec::new(),
            "self::" => module.to_vec(),
            "super::" => module[..module.len().saturating_sub(1)].to_vec(),
            child => {
                let mut b = module.to_vec();
                b.push(child.trim_end_matches("::").to_owned());
                b
            }
        };
        let mut j = i + prefix.len();
        // `super::super::…`
        while bytes[j..].starts_with(b"super::") {
            base.pop();
            j += "super::".len();
        }
        let (trees, end) = use_tree(code, j);
        for t in trees {
            let mut p = base.clone();
            p.extend(t);
            out.push(p);
        }
        i = end.max(i + 1);
    }
    out
}

/// Parses a path or `use` tree at `code[at..]`: `a::b`, `a::{b, c::{d, self}}`. Returns the
/// leaf paths and the end offset.
fn use_tree(code: &str, at: usize) -> (Vec<Vec<String>>, usize) {
    let bytes = code.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut segs = Vec::new();
    let mut i = at;
    loop {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'{' {
            let mut out = Vec::new();
            i += 1;
            loop {
                while i < bytes.len() && matches!(bytes[i], b' ' | b',') {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    return (if out.is_empty() { vec![segs] } else { out }, i + 1);
                }
                let (inner, end) = use_tree(code, i);
                for t in inner {
                    let mut p = segs.clone();
                    if t.first().map(String::as_str) != Some("self") {
                        p.extend(t);
                    }
                    out.push(p);
                }
                if end <= i {
                    return (out, i + 1);
                }
                i = end;
            }
        }
        let s = i;
        while i < bytes.len() && is_ident(bytes[i]) {
            i += 1;
        }
        if i == s {
            return (vec![segs], i);
        }
        segs.push(code[s..i].to_owned());
        if code[i..].starts_with("::") {
            i += 2;
        } else {
            return (vec![segs], i);
        }
    }
}

#[test]
fn modules_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    let known: BTreeSet<Vec<String>> = mods.iter().map(|m| m.path.clone()).collect();
    // Edges: module -> used module, with one line that shows it.
    let mut edges: BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>> = BTreeMap::new();
    for m in &mods {
        let text = std::fs::read_to_string(&m.file).unwrap();
        let children: Vec<String> = known
            .iter()
            .filter(|k| k.len() == m.path.len() + 1 && k.starts_with(&m.path))
            .map(|k| k.last().unwrap().clone())
            .collect();
        for (n, line) in code_lines(&text).iter().enumerate() {
            for path in crate_paths(line, &m.path, &children) {
                // The deepest module the path names (the rest is an item in it).
                let target = (0..=path.len())
                    .rev()
                    .map(|k| path[..k].to_vec())
                    .find(|p| known.contains(p))
                    .unwrap_or_default();
                if target == m.path
                    || m.path.starts_with(&target)
                        && target.len() < m.path.len()
                        && !uses_parent_item(&path, &target)
                {
                    continue;
                }
                let rel = m.file.strip_prefix(&src).unwrap().display();
                edges
                    .entry(m.path.clone())
                    .or_default()
                    .entry(target)
                    .or_insert_with(|| format!("src/{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    // The credential room is pure: it uses nothing outside itself, and no I/O.
    for (from, to) in &edges {
        if from.first().map(String::as_str) == Some("credential") {
            for (target, why) in to {
                assert!(
                    target.first().map(String::as_str) == Some("credential"),
                    "credential/ must use nothing outside itself: {why}"
                );
            }
        }
    }
    for m in mods
        .iter()
        .filter(|m| m.path.first().map(String::as_str) == Some("credential"))
    {
        let text = std::fs::read_to_string(&m.file).unwrap();
        for (n, line) in code_lines(&text).iter().enumerate() {
            for io in [
                "std::fs",
                "std::net",
                "tokio::",
                "sqlx::",
                "reqwest::",
                "std::process",
            ] {
                assert!(
                    !line.contains(io),
                    "credential/ does no I/O: {}:{}: {}",
                    m.file.display(),
                    n + 1,
                    line.trim()
                );
            }
        }
    }

    let cycles = strongly_connected(&known, &edges);
    let name = |p: &Vec<String>| {
        if p.is_empty() {
            "crate".to_owned()
        } else {
            p.join("::")
        }
    };
    let mut report = String::new();
    for group in &cycles {
        report.push_str(&format!(
            "\ncycle among {}:\n",
            group.iter().map(name).collect::<Vec<_>>().join(", ")
        ));
        for a in group {
            for (b, why) in edges.get(a).into_iter().flatten() {
                if group.contains(b) {
                    report.push_str(&format!("  {} -> {}   ({why})\n", name(a), name(b)));
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "{} import cycle(s) among the modules:{report}",
        cycles.len()
    );
    assert!(
        edges.values().map(BTreeMap::len).sum::<usize>() > 50,
        "too few uses found: the scan is broken"
    );
}

/// A path that resolves to an ancestor module names an item of that ancestor (`super::X`,
/// `crate::db::Store` from `db::sqlite`) rather than merely passing through it.
fn uses_parent_item(path: &[String], target: &[String]) -> bool {
    path.len() > target.len()
}

/// Tarjan's algorithm; returns the groups of more than one module (and single modules that
/// use themselves, which the edge filter rules out).
fn strongly_connected(
    nodes: &BTreeSet<Vec<String>>,
    edges: &BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>,
) -> Vec<Vec<Vec<String>>> {
    struct State<'a> {
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        next: usize,
        out: Vec<Vec<Vec<String>>>,
    }
    fn visit<'a>(
        v: &'a Vec<String>,
        edges: &'a BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>,
        s: &mut State<'a>,
    ) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in edges.get(v).into_iter().flat_map(BTreeMap::keys) {
            if !s.index.contains_key(w) {
                visit(w, edges, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w.clone());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.out.push(group);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in nodes {
        if !s.index.contains_key(v) {
            visit(v, edges, &mut s);
        }
    }
    s.out
}

#[test]
fn the_scan_reads_use_trees() {
    let m = vec!["credential".to_owned(), "proof".to_owned()];
    let paths = crate_paths(
        "use crate::{db::{self, Store}, error::AppError}; let x = super::rdf::Quad::new();",
        &m,
        &[],
    );
    let s: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        s,
        [
            "db",
            "db::Store",
            "error::AppError",
            "credential::rdf::Quad::new"
        ]
    );
    let db = vec!["db".to_owned()];
    let paths = crate_paths(
        "let s = sqlite::SqliteStore::connect();",
        &db,
        &["sqlite".into()],
    );
    assert_eq!(paths, [["db", "sqlite", "SqliteStore", "connect"]]);
    let lines = code_lines(
        "use a; // crate::x\n#[cfg(test)]\nmod tests {\n use crate::y;\n}\nuse crate::z;",
    );
    assert_eq!(lines[0].trim(), "use a;");
    assert!(lines[3].is_empty(), "{lines:?}");
    assert_eq!(lines[5], "use crate::z;");
}
