//! Reading a workplan document line by line into its parts; every problem is reported with
//! its line number, and a document with problems yields nothing.

use chrono::{DateTime, NaiveDate, Utc};
use hub_core::HubError;
use hub_core::error::FieldError;
use serde_json::{Map, Value};
use serde_norway::{Mapping, Value as Yaml};

use crate::scope::{HUMAN_ID, is_human_id, parse_wire};
use crate::task::model::{Priority, TaskStatus};
use crate::workplan::model::WorkplanStatus;
use crate::workplan::service::Section;

/// The largest document accepted; larger ones are refused before they are read.
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// The most problems reported for one document.
const MAX_PROBLEMS: usize = 50;

/// A parsed document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub front: Front,
    /// The prose before the first section.
    pub body: String,
    pub sections: Vec<Section>,
    pub tasks: Vec<DocTask>,
    pub decisions: Vec<DocDecision>,
}

/// The front matter: the keys the hub knows, and the rest kept as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Front {
    pub id: String,
    pub title: String,
    pub status: WorkplanStatus,
    pub owner: Option<String>,
    pub domain: String,
    pub topic: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DocTask {
    /// The line of the task's heading.
    pub line: usize,
    pub id: String,
    pub title: String,
    pub status: TaskStatus,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub workstream: Option<String>,
    pub depends_on: Vec<String>,
    /// The heading of the section the task stands in.
    pub phase: Option<String>,
    pub body: String,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DocDecision {
    pub line: usize,
    pub title: String,
    pub choice: String,
    pub rationale: String,
    pub section: Option<String>,
}

/// Collected problems, each `line N: …`, reported as one `Invalid` on field `document`.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, line: usize, message: impl std::fmt::Display) {
        if self.0.len() < MAX_PROBLEMS {
            self.0.push(FieldError::new(
                "document",
                format!("line {line}: {message}"),
            ));
        }
    }

    fn error(self) -> HubError {
        HubError::Invalid(self.0)
    }

    fn finish<T>(self, value: T) -> Result<T, HubError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(HubError::Invalid(self.0))
        }
    }
}

/// `PayloadTooLarge` for a document over the limit: callers check before reading further.
pub fn check_size(len: usize) -> Result<(), HubError> {
    if len > MAX_DOCUMENT_BYTES {
        return Err(HubError::PayloadTooLarge {
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(())
}

/// Where the lines being read belong.
#[derive(Clone, Copy)]
enum Target {
    Intro,
    Section(usize),
    Task(usize),
}

pub fn parse(text: &str) -> Result<Document, HubError> {
    check_size(text.len())?;
    let mut problems = Problems::default();
    let lines: Vec<&str> = text.lines().collect();
    if lines.first().map(|l| l.trim_end()) != Some("---") {
        problems.add(
            1,
            "a workplan document starts with front matter between --- lines",
        );
        return Err(problems.error());
    }
    let Some(end) = lines
        .iter()
        .skip(1)
        .position(|l| l.trim_end() == "---")
        .map(|p| p + 1)
    else {
        problems.add(1, "the front matter is not closed by a --- line");
        return Err(problems.error());
    };
    let front = read_front(&lines[1..end], 2, &mut problems);

    let wp_id = front.as_ref().map(|f| f.id.clone()).unwrap_or_default();
    let mut doc = Document {
        front: front.unwrap_or_else(empty_front),
        body: String::new(),
        sections: Vec::new(),
        tasks: Vec::new(),
        decisions: Vec::new(),
    };
    let mut target = Target::Intro;
    let mut prose: Vec<(usize, &str)> = Vec::new();
    let mut in_fence = false;
    let mut i = end + 1;
    while i < lines.len() {
        let (n, line) = (i + 1, lines[i]);
        i += 1;
        if is_fence(line) {
            in_fence = !in_fence;
        }
        if in_fence || !(line.starts_with("## ") || line.starts_with("### ")) {
            prose.push((n, line));
            continue;
        }
        flush(&mut doc, target, std::mem::take(&mut prose), &mut problems);
        if let Some(heading) = line.strip_prefix("## ") {
            doc.sections.push(Section {
                heading: heading.trim().to_owned(),
                body: String::new(),
            });
            target = Target::Section(doc.sections.len() - 1);
            continue;
        }
        let phase = doc.sections.last().map(|s| s.heading.clone());
        match read_task(&lines, n, &mut i, &wp_id, phase, &mut problems) {
            Some(task) => {
                if let Some(first) = doc.tasks.iter().find(|t| t.id == task.id) {
                    problems.add(
                        n,
                        format!(
                            "duplicate task id {} (first at line {})",
                            task.id, first.line
                        ),
                    );
                }
                doc.tasks.push(task);
                target = Target::Task(doc.tasks.len() - 1);
            }
            // The task is reported; its prose is read and dropped.
            None => target = Target::Intro,
        }
    }
    if in_fence {
        problems.add(lines.len(), "a fenced block is not closed");
    }
    flush(&mut doc, target, prose, &mut problems);
    for (k, d) in doc.decisions.iter().enumerate() {
        if let Some(first) = doc.decisions[..k].iter().find(|e| e.title == d.title) {
            problems.add(
                d.line,
                format!(
                    "duplicate decision {:?} (first at line {})",
                    d.title, first.line
                ),
            );
        }
    }
    problems.finish(doc)
}

fn empty_front() -> Front {
    Front {
        id: String::new(),
        title: String::new(),
        status: WorkplanStatus::Draft,
        owner: None,
        domain: String::new(),
        topic: None,
        created: None,
        extra: Map::new(),
    }
}

fn is_fence(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("```") || t.starts_with("~~~")
}

/// Parses a YAML block that starts at line `first`, into a mapping.
fn yaml_mapping(
    lines: &[&str],
    first: usize,
    what: &str,
    problems: &mut Problems,
) -> Option<Mapping> {
    let text = lines.join("\n");
    if text.trim().is_empty() {
        return Some(Mapping::new());
    }
    match serde_norway::from_str::<Yaml>(&text) {
        Ok(Yaml::Mapping(m)) => Some(m),
        Ok(_) => {
            problems.add(first, format!("{what} must be a mapping of keys to values"));
            None
        }
        Err(e) => {
            let line = e
                .location()
                .map_or(first, |l| first + l.line().saturating_sub(1));
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg);
            problems.add(line, format!("{what} is not valid YAML: {msg}"));
            None
        }
    }
}

/// The line of `key:` within a block starting at `first`, else `first`.
fn key_line(lines: &[&str], first: usize, key: &str) -> usize {
    lines
        .iter()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map_or(first, |p| first + p)
}

/// A block's keys: each known key is taken out by `take`, the rest are kept.
struct Block<'a> {
    map: Mapping,
    lines: &'a [&'a str],
    first: usize,
    what: String,
}

impl Block<'_> {
    fn line(&self, key: &str) -> usize {
        key_line(self.lines, self.first, key)
    }

    /// The text value of `key`, if present; numbers and booleans are not text.
    fn text(&mut self, key: &str, problems: &mut Problems) -> Option<String> {
        match self.map.remove(key)? {
            Yaml::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Yaml::Null => None,
            _ => {
                problems.add(self.line(key), format!("{}: {key} must be text", self.what));
                None
            }
        }
    }

    fn wire<T: serde::de::DeserializeOwned>(
        &mut self,
        key: &str,
        names: &str,
        problems: &mut Problems,
    ) -> Option<T> {
        let value = self.text(key, problems)?;
        let parsed = parse_wire(&value);
        if parsed.is_none() {
            problems.add(
                self.line(key),
                format!("{}: unknown {key} {value:?} (expected {names})", self.what),
            );
        }
        parsed
    }

    /// The keys left over, as JSON.
    fn rest(self, problems: &mut Problems) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in self.map {
            let Yaml::String(key) = k else {
                problems.add(self.first, format!("{}: keys must be text", self.what));
                continue;
            };
            match serde_json::to_value(&v) {
                Ok(json) => {
                    out.insert(key, json);
                }
                Err(e) => problems.add(
                    key_line(self.lines, self.first, &key),
                    format!("{}: {key} cannot be kept: {e}", self.what),
                ),
            }
        }
        out
    }
}

fn read_front(lines: &[&str], first: usize, problems: &mut Problems) -> Option<Front> {
    let map = yaml_mapping(lines, first, "the front matter", problems)?;
    let mut b = Block {
        map,
        lines,
        first,
        what: "front matter".into(),
    };
    let id = b.text("id", problems);
    match &id {
        None => problems.add(first, "front matter: id is required"),
        Some(id) if !is_human_id(id) => {
            problems.add(b.line("id"), format!("front matter: id {id} {HUMAN_ID}"))
        }
        Some(_) => {}
    }
    let title = b.text("title", problems);
    if title.is_none() {
        problems.add(first, "front matter: title is required");
    }
    let domain = b.text("domain", problems);
    if domain.is_none() {
        problems.add(first, "front matter: domain is required");
    }
    let status = b.wire("status", WorkplanStatus::NAMES, problems);
    let owner = b.text("owner", problems);
    let topic = b.text("topic", problems);
    if let Some(t) = &topic
        && !hub_core::error::is_slug(t)
    {
        problems.add(
            b.line("topic"),
            format!("front matter: topic {t:?} must be a slug (a-z, 0-9, '-', '_')"),
        );
    }
    let created = b.text("created", problems).and_then(|c| {
        let t = parse_time(&c);
        if t.is_none() {
            problems.add(
                b.line("created"),
                format!(
                    "front matter: created {c:?} must be a date (YYYY-MM-DD) or an RFC 3339 time"
                ),
            );
        }
        t
    });
    // `updated` is written from the database on export; on import it is only checked.
    if let Some(u) = b.text("updated", problems)
        && parse_time(&u).is_none()
    {
        problems.add(
            b.line("updated"),
            format!("front matter: updated {u:?} must be a date (YYYY-MM-DD) or an RFC 3339 time"),
        );
    }
    let extra = b.rest(problems);
    Some(Front {
        id: id?,
        title: title?,
        status: status.unwrap_or_default(),
        owner,
        domain: domain?,
        topic,
        created,
        extra,
    })
}

/// A date (midnight UTC) or an RFC 3339 time.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Splits `T03 — Title` into its code and title; separators: em dash, en dash, hyphen, colon.
pub fn split_heading(rest: &str) -> (Option<&str>, &str) {
    let found = [" — ", " – ", " - ", ": "]
        .iter()
        .filter_map(|sep| rest.find(sep).map(|p| (p, sep.len())))
        .min();
    match found {
        Some((p, len)) => (Some(rest[..p].trim()), rest[p + len..].trim()),
        None => (None, rest.trim()),
    }
}

/// Reads a task heading at line `n` and the fenced `task` block after it; `i` moves past it.
fn read_task(
    lines: &[&str],
    n: usize,
    i: &mut usize,
    wp_id: &str,
    phase: Option<String>,
    problems: &mut Problems,
) -> Option<DocTask> {
    let rest = lines[n - 1].trim_start_matches('#').trim();
    let (code, title) = split_heading(rest);
    if title.is_empty() {
        problems.add(n, "a task heading needs a title: ### T01 — title");
    }
    while *i < lines.len() && lines[*i].trim().is_empty() {
        *i += 1;
    }
    let open = *i + 1;
    if lines.get(*i).map(|l| l.trim()) != Some("```task") {
        problems.add(
            n,
            format!("task heading {rest:?} is not followed by a ```task block"),
        );
        return None;
    }
    let Some(close) = lines[open..]
        .iter()
        .position(|l| l.trim() == "```")
        .map(|p| p + open)
    else {
        problems.add(open, "the ```task block is not closed by ```");
        *i = lines.len();
        return None;
    };
    *i = close + 1;
    let block_lines = &lines[open..close];
    let map = yaml_mapping(block_lines, open + 1, "the task block", problems)?;
    let mut b = Block {
        map,
        lines: block_lines,
        first: open + 1,
        what: "task".into(),
    };
    let Some(id) = b.text("id", problems) else {
        problems.add(open, format!("the task block of {rest:?} has no id"));
        return None;
    };
    b.what = format!("task {id}");
    let prefix = format!("{wp_id}-");
    if !is_human_id(&id) {
        problems.add(b.line("id"), format!("task id {id} {HUMAN_ID}"));
    } else if !wp_id.is_empty() && !id.starts_with(&prefix) {
        problems.add(
            b.line("id"),
            format!("task id {id} must start with the workplan id {prefix}"),
        );
    } else if let Some(code) = code.filter(|c| Some(*c) != id.strip_prefix(&prefix)) {
        problems.add(
            n,
            format!("the heading says {code} but the task id is {id}"),
        );
    }
    let status = b.wire("status", TaskStatus::NAMES, problems);
    let priority = b.wire("priority", Priority::NAMES, problems);
    let assignee = b.text("assignee", problems);
    let workstream = b.text("workstream", problems);
    let deps_line = b.line("depends_on");
    let depends_on = match b.map.remove("depends_on") {
        None | Some(Yaml::Null) => Vec::new(),
        Some(Yaml::String(s)) => s
            .split(',')
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .collect(),
        Some(Yaml::Sequence(seq)) => seq
            .into_iter()
            .filter_map(|v| match v {
                Yaml::String(s) => Some(s.trim().to_owned()),
                _ => {
                    problems.add(
                        deps_line,
                        format!("task {id}: depends_on lists task ids as text"),
                    );
                    None
                }
            })
            .collect(),
        Some(_) => {
            problems.add(
                deps_line,
                format!("task {id}: depends_on must be a list of task ids"),
            );
            Vec::new()
        }
    };
    // Short ids (`T02`) name tasks of the same workplan.
    let depends_on = depends_on
        .into_iter()
        .map(|d| {
            if d.contains('-') {
                d
            } else {
                format!("{prefix}{d}")
            }
        })
        .collect();
    let extra = b.rest(problems);
    Some(DocTask {
        line: n,
        id,
        title: title.to_owned(),
        status: status.unwrap_or_default(),
        priority: priority.unwrap_or_default(),
        assignee,
        workstream,
        depends_on,
        phase,
        body: String::new(),
        extra,
    })
}

/// Moves `prose` into `target`, taking decision tables out of it.
fn flush(doc: &mut Document, target: Target, prose: Vec<(usize, &str)>, problems: &mut Problems) {
    let section = match target {
        Target::Intro => None,
        Target::Section(k) => Some(doc.sections[k].heading.clone()),
        Target::Task(k) => doc.tasks[k].phase.clone(),
    };
    let mut kept: Vec<&str> = Vec::new();
    let mut in_fence = false;
    let mut k = 0;
    while k < prose.len() {
        let (n, line) = prose[k];
        k += 1;
        if is_fence(line) {
            in_fence = !in_fence;
        }
        if in_fence || !is_decision_header(line) {
            kept.push(line);
            continue;
        }
        if prose.get(k).is_none_or(|(_, l)| !is_separator(l)) {
            problems.add(
                n,
                "a decision table header must be followed by a |---|---|---| line",
            );
            continue;
        }
        k += 1;
        while let Some(&(rn, row)) = prose
            .get(k)
            .filter(|(_, l)| l.trim_start().starts_with('|'))
        {
            k += 1;
            let cells = split_cells(row);
            if cells.len() != 3 {
                problems.add(
                    rn,
                    format!(
                        "a decision row needs 3 cells (decision, choice, rationale), found {}",
                        cells.len()
                    ),
                );
                continue;
            }
            if cells[0].is_empty() {
                problems.add(rn, "a decision row needs a decision title");
                continue;
            }
            let mut cells = cells.into_iter();
            doc.decisions.push(DocDecision {
                line: rn,
                title: cells.next().unwrap_or_default(),
                choice: cells.next().unwrap_or_default(),
                rationale: cells.next().unwrap_or_default(),
                section: section.clone(),
            });
        }
    }
    let text = trim_blank_lines(&kept);
    match target {
        Target::Intro => doc.body = text,
        Target::Section(k) => doc.sections[k].body = text,
        Target::Task(k) => doc.tasks[k].body = text,
    }
}

/// The lines joined, without leading and trailing blank lines or trailing spaces.
fn trim_blank_lines(lines: &[&str]) -> String {
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    match (start, end) {
        (Some(s), Some(e)) => lines[s..=e]
            .iter()
            .map(|l| l.trim_end())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The trimmed cells of a table row; `\|` is a literal bar.
pub fn split_cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let row = row.strip_prefix('|').unwrap_or(row);
    let row = row
        .strip_suffix('|')
        .filter(|r| !r.ends_with('\\'))
        .unwrap_or(row);
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            c => cell.push(c),
        }
    }
    cells.push(cell.trim().to_owned());
    cells
}

fn is_decision_header(line: &str) -> bool {
    line.trim_start().starts_with('|')
        && split_cells(line).iter().map(|c| c.to_lowercase()).eq([
            "decision",
            "choice",
            "rationale",
        ])
}

fn is_separator(line: &str) -> bool {
    let cells = split_cells(line);
    cells.len() == 3
        && cells
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_split_at_the_first_separator() {
        assert_eq!(split_heading("T03 — Use A - B"), (Some("T03"), "Use A - B"));
        assert_eq!(split_heading("T1: x"), (Some("T1"), "x"));
        assert_eq!(split_heading("Just a title"), (None, "Just a title"));
    }

    #[test]
    fn cells_keep_escaped_bars() {
        assert_eq!(split_cells("| a | b \\| c | d |"), ["a", "b | c", "d"]);
    }

    #[test]
    fn dates_and_times() {
        assert!(parse_time("2026-11-22").is_some());
        assert!(parse_time("2026-11-22T10:00:00Z").is_some());
        assert!(parse_time("22.11.2026").is_none());
    }
}
