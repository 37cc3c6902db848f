//! Writing a workplan back as a document, in the format `parse` reads: importing the result
//! changes nothing.

use chrono::{DateTime, Timelike, Utc};
use serde_json::Value;
use serde_norway::{Mapping, Value as Yaml};

use crate::decision::model as decision;
use crate::scope::wire_name;
use crate::task::service::TaskWithDeps;
use crate::workplan::model as workplan;
use crate::workplan::service::sections;

pub fn render(
    wp: &workplan::Model,
    tasks: &[TaskWithDeps],
    decisions: &[decision::Model],
) -> String {
    let mut front = Mapping::new();
    put(&mut front, "id", Some(&wp.id));
    put(&mut front, "title", Some(&wp.title));
    put(&mut front, "status", Some(wire_name(&wp.status).as_str()));
    put(&mut front, "owner", wp.owner.as_deref());
    put(&mut front, "domain", Some(&wp.domain));
    put(&mut front, "topic", wp.topic.as_deref());
    put(&mut front, "created", Some(&day_or_time(wp.created_at)));
    put(&mut front, "updated", Some(&day_or_time(wp.updated_at)));
    extend(&mut front, &wp.extra);
    let mut blocks = vec![format!("---\n{}---", yaml(front))];

    // Sections in stored order, then any a task or decision names that the document lacked.
    let mut headings: Vec<Option<String>> = vec![None];
    let stored = sections(wp);
    headings.extend(stored.iter().map(|s| Some(s.heading.clone())));
    for h in tasks
        .iter()
        .map(|t| &t.task.phase)
        .chain(decisions.iter().map(|d| &d.section))
    {
        if !headings.contains(h) {
            headings.push(h.clone());
        }
    }
    for heading in headings {
        let body = match &heading {
            None => wp.body.clone(),
            Some(h) => {
                blocks.push(format!("## {h}"));
                stored
                    .iter()
                    .find(|s| s.heading == *h)
                    .map(|s| s.body.clone())
                    .unwrap_or_default()
            }
        };
        if !body.is_empty() {
            blocks.push(body);
        }
        let rows: Vec<&decision::Model> =
            decisions.iter().filter(|d| d.section == heading).collect();
        if !rows.is_empty() {
            blocks.push(decision_table(&rows));
        }
        for t in tasks.iter().filter(|t| t.task.phase == heading) {
            blocks.extend(task_blocks(&wp.id, t));
        }
    }
    let mut out = blocks.join("\n\n");
    out.push('\n');
    out
}

fn task_blocks(wp_id: &str, t: &TaskWithDeps) -> Vec<String> {
    let task = &t.task;
    let code = task
        .id
        .strip_prefix(&format!("{wp_id}-"))
        .unwrap_or(&task.id);
    let mut block = Mapping::new();
    put(&mut block, "id", Some(&task.id));
    put(&mut block, "status", Some(task.status.as_str()));
    put(&mut block, "priority", Some(task.priority.as_str()));
    put(&mut block, "assignee", task.assignee.as_deref());
    put(&mut block, "workstream", task.workstream.as_deref());
    if !t.depends_on.is_empty() {
        block.insert(
            "depends_on".into(),
            Yaml::Sequence(
                t.depends_on
                    .iter()
                    .map(|d| Yaml::String(d.clone()))
                    .collect(),
            ),
        );
    }
    extend(&mut block, &task.extra);
    let mut out = vec![
        format!("### {code} — {}", task.title),
        format!("```task\n{}```", yaml(block)),
    ];
    if !task.body.is_empty() {
        out.push(task.body.clone());
    }
    out
}

fn decision_table(rows: &[&decision::Model]) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::from("| Decision | Choice | Rationale |\n|---|---|---|");
    for d in rows {
        out.push_str(&format!(
            "\n| {} | {} | {} |",
            cell(&d.title),
            cell(&d.choice),
            cell(&d.rationale)
        ));
    }
    out
}

fn put(map: &mut Mapping, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        map.insert(key.into(), Yaml::String(v.to_owned()));
    }
}

/// Adds kept keys (a JSON object) after the known ones.
fn extend(map: &mut Mapping, extra: &Value) {
    if let Value::Object(obj) = extra {
        for (k, v) in obj {
            if let Ok(y) = serde_norway::to_value(v) {
                map.insert(k.as_str().into(), y);
            }
        }
    }
}

fn yaml(map: Mapping) -> String {
    serde_norway::to_string(&Yaml::Mapping(map)).unwrap_or_default()
}

/// A date when the time is midnight UTC, else an RFC 3339 time.
fn day_or_time(t: DateTime<Utc>) -> String {
    if t.num_seconds_from_midnight() == 0 && t.nanosecond() == 0 {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}
