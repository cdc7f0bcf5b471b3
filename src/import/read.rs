//! Reading an import file whole before anything is written: CSV with a header row (each
//! kind's columns, typed cells) or a JSON array of objects, split into rows that know their
//! line numbers; and a row's JSON object as a typed input whose errors name the field.

use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header row naming the columns, then one record per row.
    Csv,
    /// A JSON array of objects.
    Json,
}

impl Format {
    /// JSON when forced or when the file name ends in `.json`; CSV otherwise.
    pub fn detect(path: &Path, force_json: bool) -> Format {
        let json_ext = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if force_json || json_ext {
            Format::Json
        } else {
            Format::Csv
        }
    }
}

/// A row (or the file, at line 1) that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file where the row starts.
    pub line: u64,
    /// What is wrong, naming the field where there is one.
    pub reason: String,
}

/// The columns one kind of CSV file may have, and how cells become JSON values.
pub(super) struct Columns {
    /// Columns the header must name.
    required: &'static [&'static str],
    /// Columns it may name.
    optional: &'static [&'static str],
    /// `true`/`false` cells.
    bools: &'static [&'static str],
    /// `YYYY-MM-DD` cells.
    dates: &'static [&'static str],
    /// RFC 3339 cells (a bare date means midnight UTC).
    times: &'static [&'static str],
}

pub(super) const MENTOR_COLUMNS: Columns = Columns {
    required: &["name", "email"],
    optional: &["url"],
    bools: &[],
    dates: &[],
    times: &[],
};

pub(super) const PERSON_COLUMNS: Columns = Columns {
    required: &["name", "email", "listed_in_registry"],
    optional: &["city", "country", "url", "consent_source"],
    bools: &["listed_in_registry"],
    dates: &[],
    times: &[],
};

pub(super) const CLOSING_COLUMNS: Columns = Columns {
    required: &[
        "closer_email",
        "mentor_email",
        "mentor_cc_at",
        "partner_name",
        "closed_on",
        "summary",
    ],
    optional: &[
        "mentor_cc_ref",
        "partner_url",
        "partner_city",
        "partner_country",
        "stage_lead",
        "stage_conversation",
        "stage_shaping",
        "stage_work",
        "stage_transition",
    ],
    bools: &[],
    dates: &[
        "closed_on",
        "stage_lead",
        "stage_conversation",
        "stage_shaping",
        "stage_work",
        "stage_transition",
    ],
    times: &["mentor_cc_at"],
};

pub(super) const ISSUE_COLUMNS: Columns = Columns {
    required: &["achievement", "person_email"],
    optional: &[
        "closing_partner",
        "closing_closed_on",
        "valid_until",
        "notify",
    ],
    bools: &["notify"],
    dates: &["closing_closed_on"],
    times: &["valid_until"],
};

impl Columns {
    pub(super) fn all(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.required.iter().chain(self.optional).copied()
    }

    /// Checks a header row; the column names, normalised (trimmed, lower-case).
    pub(super) fn check_header(&self, header: &csv::StringRecord) -> Result<Vec<String>, String> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase())
            .collect();
        let expected = || self.all().collect::<Vec<_>>().join(", ");
        for (i, name) in names.iter().enumerate() {
            if !self.all().any(|c| c == name) {
                return Err(format!(
                    "unknown column {name:?} in the header row (is the header row missing?); \
                     the columns are: {}",
                    expected()
                ));
            }
            if names[..i].contains(name) {
                return Err(format!("column {name:?} appears twice in the header row"));
            }
        }
        let missing: Vec<&str> = self
            .required
            .iter()
            .copied()
            .filter(|c| !names.iter().any(|n| n == c))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the header row lacks the required column(s) {}; the columns are: {}",
                missing.join(", "),
                expected()
            ));
        }
        Ok(names)
    }

    /// One CSV record as a JSON object: empty cells are absent, `stage_*` cells go into a
    /// `stages` object, and typed cells are checked here so the reason names the column.
    pub(super) fn to_json(
        &self,
        names: &[String],
        record: &csv::StringRecord,
    ) -> Result<Value, String> {
        let mut object = Map::new();
        let mut stages = Map::new();
        for (name, cell) in names.iter().zip(record.iter()) {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            let name = name.as_str();
            let value = if self.bools.contains(&name) {
                Value::Bool(parse_bool(cell).ok_or_else(|| {
                    format!("{name}: expected true or false (or yes/no, 1/0), found {cell:?}")
                })?)
            } else if self.dates.contains(&name) {
                NaiveDate::parse_from_str(cell, "%Y-%m-%d")
                    .map_err(|_| format!("{name}: not a date (expected YYYY-MM-DD): {cell:?}"))?;
                Value::String(cell.to_owned())
            } else if self.times.contains(&name) {
                Value::String(parse_time(cell).ok_or_else(|| {
                    format!(
                        "{name}: not a time (expected RFC 3339 such as 2026-10-01T09:30:00Z, \
                         or YYYY-MM-DD): {cell:?}"
                    )
                })?)
            } else {
                Value::String(cell.to_owned())
            };
            match name.strip_prefix("stage_") {
                Some(stage) => stages.insert(stage.to_owned(), value),
                None => object.insert(name.to_owned(), value),
            };
        }
        if !stages.is_empty() {
            object.insert("stages".into(), Value::Object(stages));
        }
        Ok(Value::Object(object))
    }
}

pub(super) fn parse_bool(cell: &str) -> Option<bool> {
    match cell.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

/// RFC 3339, or a bare date meaning midnight UTC; returned as RFC 3339.
pub(super) fn parse_time(cell: &str) -> Option<String> {
    if DateTime::parse_from_rfc3339(cell).is_ok() {
        return Some(cell.to_owned());
    }
    NaiveDate::parse_from_str(cell, "%Y-%m-%d")
        .ok()
        .map(|d| format!("{d}T00:00:00Z"))
}

// ---- reading files ----

/// One data row: its line, and its fields as a JSON object (or why it could not be read).
pub(super) struct Item {
    pub(super) line: u64,
    pub(super) value: Result<Value, String>,
}

/// A whole file, read and split into rows before anything is written.
pub(super) struct Parsed {
    pub(super) items: Vec<Item>,
    /// An empty file or a bad header: nothing is imported.
    pub(super) file_error: Option<RowError>,
}

pub(super) fn file_error(reason: String) -> Parsed {
    Parsed {
        items: Vec::new(),
        file_error: Some(RowError { line: 1, reason }),
    }
}

pub(super) fn read_csv(bytes: &[u8], columns: &Columns) -> Parsed {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records();
    let names = match records.next() {
        None => {
            return file_error(format!(
                "the file is empty; expected a header row naming the columns: {}",
                columns.all().collect::<Vec<_>>().join(", ")
            ))
        }
        Some(Err(e)) => return file_error(format!("unreadable header row: {}", csv_reason(&e))),
        Some(Ok(header)) => match columns.check_header(&header) {
            Ok(names) => names,
            Err(reason) => return file_error(format!("{reason}; nothing was imported")),
        },
    };
    let mut items = Vec::new();
    for record in records {
        let item = match record {
            Err(e) => Item {
                line: e.position().map_or(0, |p| p.line()),
                value: Err(csv_reason(&e)),
            },
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                let value = if record.len() != names.len() {
                    Err(format!(
                        "expected {} fields (as in the header row), found {}",
                        names.len(),
                        record.len()
                    ))
                } else {
                    columns.to_json(&names, &record)
                };
                Item { line, value }
            }
        };
        items.push(item);
    }
    Parsed {
        items,
        file_error: None,
    }
}

pub(super) fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text".to_owned(),
        other => format!("unreadable CSV: {other:?}"),
    }
}

pub(super) fn read_json(text: &str) -> Parsed {
    if text.trim().is_empty() {
        return file_error("the file is empty; expected a JSON array of objects".into());
    }
    let raws: Vec<&serde_json::value::RawValue> = match serde_json::from_str(text) {
        Ok(raws) => raws,
        Err(e) => {
            return Parsed {
                items: Vec::new(),
                file_error: Some(RowError {
                    line: e.line().max(1) as u64,
                    reason: format!("not a JSON array of objects: {e}; nothing was imported"),
                }),
            }
        }
    };
    // Each element borrows from `text`: its address gives its offset, hence its line.
    let base = text.as_ptr() as usize;
    let (mut line, mut scanned) = (1u64, 0usize);
    let mut items = Vec::with_capacity(raws.len());
    for raw in raws {
        let offset = raw.get().as_ptr() as usize - base;
        line += text[scanned..offset]
            .bytes()
            .filter(|b| *b == b'\n')
            .count() as u64;
        scanned = offset;
        let value = match serde_json::from_str::<Value>(raw.get()) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => Err("expected a JSON object".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        items.push(Item { line, value });
    }
    Parsed {
        items,
        file_error: None,
    }
}

pub(super) fn read(path: &Path, format: Format, columns: &Columns) -> anyhow::Result<Parsed> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(read_bytes(&bytes, format, columns))
}

/// Reads a whole file's bytes (an upload, or a file read by [`read`]).
pub(super) fn read_bytes(bytes: &[u8], format: Format, columns: &Columns) -> Parsed {
    match format {
        Format::Csv => read_csv(bytes, columns),
        Format::Json => match std::str::from_utf8(bytes) {
            Ok(text) => read_json(text),
            Err(_) => file_error("the file is not valid UTF-8 text".into()),
        },
    }
}

/// What a CSV file looks like before it is imported: its header's problem, if any, its
/// first rows as written, and how many rows it has.
#[derive(Debug, Clone, Default)]
pub struct Check {
    /// Why nothing would be imported (empty file, bad header), if so.
    pub file_error: Option<String>,
    /// The header's cells.
    pub header: Vec<String>,
    /// Up to [`CHECK_ROWS`] data rows, cell by cell.
    pub first_rows: Vec<Vec<String>>,
    /// Data rows in the file.
    pub rows: usize,
}

/// Rows a check shows.
pub const CHECK_ROWS: usize = 5;

/// Checks a CSV upload's header with the rules the import applies, and shows its start.
pub(super) fn check(bytes: &[u8], columns: &Columns) -> Check {
    let parsed = read_csv(bytes, columns);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.records().filter_map(Result::ok);
    let header = records
        .next()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    Check {
        file_error: parsed.file_error.map(|e| e.reason),
        header,
        first_rows: records
            .take(CHECK_ROWS)
            .map(|r| r.iter().map(str::to_owned).collect())
            .collect(),
        rows: parsed.items.len(),
    }
}

/// A row's JSON object as a typed input; the reason names the field at fault.
pub(super) fn typed<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner().to_string();
        if let Some(field) = inner
            .strip_prefix("missing field `")
            .and_then(|s| s.strip_suffix('`'))
        {
            format!("{field}: missing or empty")
        } else if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_rows_know_their_lines() {
        let parsed = read_json("[\n  {\"a\": 1},\n\n  {\"b\":\n 2}, 3\n]");
        let lines: Vec<u64> = parsed.items.iter().map(|i| i.line).collect();
        assert_eq!(lines, [2, 4, 5]);
        assert!(parsed.items[2].value.is_err());
    }

    #[test]
    fn csv_cells_are_typed_and_checked() {
        let parsed = read_csv(
            b"name,email,listed_in_registry\nAda,a@example.org,yes\nBo,b@example.org,maybe\n",
            &PERSON_COLUMNS,
        );
        assert!(parsed.file_error.is_none());
        assert_eq!(
            parsed.items[0].value.as_ref().unwrap()["listed_in_registry"],
            true
        );
        assert_eq!(parsed.items[1].line, 3);
        assert!(parsed.items[1]
            .value
            .as_ref()
            .unwrap_err()
            .contains("listed_in_registry"));
    }
}
