//! A SQLite batch's writes as few statements: inserts of the same text by the batch's writers
//! become one multi-row insert. SQLite prepares each statement of a batch anew (the batch's text
//! differs from batch to batch) and sqlx answers each with a message from its thread, so a batch
//! of 32 message sends ran 96 inserts where 3 do the same.

use std::collections::HashMap;

use sea_orm::{Statement, Value};

/// Most bind parameters one merged insert takes (SQLite allows 32,766 a statement).
const PARAMETERS: usize = super::PARAMETERS_PER_INSERT;

/// One statement to run: a run of inserts of one text as one, or any other statement as it is.
#[derive(Debug, PartialEq)]
pub(super) struct Merged<'s> {
    sql: &'s str,
    /// Where an insert's row tuples start in `sql`; `None` for a statement that is not merged.
    rows_at: Option<usize>,
    /// How many statements of text `sql` this one runs.
    count: usize,
    pub(super) values: Vec<Value>,
}

impl Merged<'_> {
    /// The statement's text: `sql` with its row tuples repeated for each merged insert.
    pub(super) fn write_sql(&self, out: &mut String) {
        out.push_str(self.sql);
        if let Some(at) = self.rows_at {
            for _ in 1..self.count {
                out.push_str(", ");
                out.push_str(&self.sql[at..]);
            }
        }
    }
}

/// `writers`: each writer's statements in its order. Returns statements that run each writer's
/// statements in its order; an insert joins an earlier insert of the same text when that one
/// runs after the writer's previous statement. Writers of a batch read nothing of each other's
/// uncommitted writes, so the order between writers is free, as it is between their arrivals.
pub(super) fn coalesce<'s>(writers: impl IntoIterator<Item = &'s [Statement]>) -> Vec<Merged<'s>> {
    let mut out: Vec<Merged<'s>> = Vec::new();
    // The last merged insert of each text, by position in `out`.
    let mut open: HashMap<&'s str, usize> = HashMap::new();
    for statements in writers {
        // Where this writer's previous statement runs: its next one may not run before.
        let mut after = 0;
        for statement in statements {
            let values = statement.values.as_ref().map_or(&[][..], |v| &v.0[..]);
            let rows_at = rows_at(&statement.sql);
            let joins = rows_at
                .and_then(|_| open.get(statement.sql.as_str()).copied())
                .filter(|&i| i >= after && out[i].values.len() + values.len() <= PARAMETERS);
            if let Some(i) = joins {
                out[i].count += 1;
                out[i].values.extend(values.iter().cloned());
                after = i;
                continue;
            }
            after = out.len();
            if rows_at.is_some() {
                open.insert(&statement.sql, after);
            }
            out.push(Merged {
                sql: &statement.sql,
                rows_at,
                count: 1,
                values: values.to_vec(),
            });
        }
    }
    out
}

/// Where the row tuples of `INSERT INTO … VALUES (?, …), …` start, if the text ends with them
/// (no `ON CONFLICT`, no `RETURNING`, no value written into the text): only such an insert can
/// take more rows by repeating them.
fn rows_at(sql: &str) -> Option<usize> {
    const VALUES: &str = " VALUES ";
    if !sql.starts_with("INSERT INTO ") {
        return None;
    }
    let at = sql.find(VALUES)? + VALUES.len();
    let rows = &sql[at..];
    let placeholders = rows.starts_with('(')
        && rows.ends_with(')')
        && rows
            .bytes()
            .all(|b| matches!(b, b'(' | b')' | b'?' | b',' | b' '));
    placeholders.then_some(at)
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, Values};

    use super::*;

    fn statement(sql: &str, values: &[i32]) -> Statement {
        Statement {
            sql: sql.to_owned(),
            values: Some(Values(values.iter().map(|&v| Value::from(v)).collect())),
            db_backend: DbBackend::Sqlite,
        }
    }

    const A: &str = r#"INSERT INTO "a" ("x", "y") VALUES (?, ?)"#;
    const B: &str = r#"INSERT INTO "b" ("x") VALUES (?)"#;
    const U: &str = r#"UPDATE "a" SET "y" = ? WHERE "x" = ?"#;

    fn run(writers: &[Vec<Statement>]) -> Vec<(String, Vec<Value>)> {
        coalesce(writers.iter().map(|w| &w[..]))
            .into_iter()
            .map(|m| {
                let mut sql = String::new();
                m.write_sql(&mut sql);
                (sql, m.values)
            })
            .collect()
    }

    fn values(v: &[i32]) -> Vec<Value> {
        v.iter().map(|&v| Value::from(v)).collect()
    }

    #[test]
    fn writers_inserts_of_one_text_become_one_insert_each() {
        let writers = [
            vec![statement(A, &[1, 2]), statement(B, &[3])],
            vec![statement(A, &[4, 5]), statement(B, &[6])],
        ];
        assert_eq!(
            run(&writers),
            [
                (format!("{A}, (?, ?)"), values(&[1, 2, 4, 5])),
                (format!("{B}, (?)"), values(&[3, 6])),
            ]
        );
    }

    #[test]
    fn each_writer_keeps_its_order() {
        // The second writer's insert of A comes after its update, which runs after the first
        // writer's A: it cannot join that one.
        let writers = [
            vec![statement(A, &[1, 2]), statement(U, &[3, 1])],
            vec![statement(U, &[4, 5]), statement(A, &[5, 6])],
        ];
        let out = run(&writers);
        let texts: Vec<&str> = out.iter().map(|(sql, _)| sql.as_str()).collect();
        assert_eq!(texts, [A, U, U, A]);
        // One writer's repeated inserts join, in its order.
        let one = [vec![statement(B, &[1]), statement(B, &[2])]];
        assert_eq!(run(&one), [(format!("{B}, (?)"), values(&[1, 2]))]);
    }

    #[test]
    fn inserts_that_cannot_take_rows_stay_apart() {
        let conflict = format!("{B} ON CONFLICT DO NOTHING");
        let literal = r#"INSERT INTO "b" ("x") VALUES (1)"#;
        let writers = [
            vec![statement(&conflict, &[1]), statement(literal, &[])],
            vec![statement(&conflict, &[2]), statement(literal, &[])],
        ];
        let out = run(&writers);
        assert_eq!(out.len(), 4, "{out:?}");
        assert!(out.iter().all(|(sql, _)| !sql.contains("), (")));
    }

    /// The inserts sea-orm builds for SQLite, of one row or many, are what merging recognizes.
    #[test]
    fn sea_orm_inserts_can_take_rows() {
        use sea_orm::{EntityTrait, QueryTrait, Set};

        use crate::domain::model as domain;
        let row = |slug: &str| domain::ActiveModel {
            slug: Set(slug.to_owned()),
            name: Set(slug.to_owned()),
            description: Set(String::new()),
            owner: Set(None),
            created_at: Set(chrono::Utc::now()),
        };
        let one = domain::Entity::insert(row("a")).build(DbBackend::Sqlite);
        let many = domain::Entity::insert_many([row("b"), row("c")]).build(DbBackend::Sqlite);
        let (one, many) = ([one], [many]);
        let out = coalesce([&one[..], &many[..]]);
        assert_eq!(out.len(), 2, "one row and two rows are two texts");
        let again = domain::Entity::insert(row("d")).build(DbBackend::Sqlite);
        let twice = [
            domain::Entity::insert(row("e")).build(DbBackend::Sqlite),
            again,
        ];
        let out = coalesce(twice.iter().map(std::slice::from_ref));
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].count, 2);
        assert_eq!(out[0].values.len(), 10);
    }

    #[test]
    fn a_merged_insert_stays_within_the_parameter_limit() {
        let row: Vec<i32> = (0..1000).collect();
        let wide = format!(
            r#"INSERT INTO "w" ({}) VALUES ({})"#,
            vec!["\"c\""; 1000].join(", "),
            vec!["?"; 1000].join(", ")
        );
        let writers: Vec<Vec<Statement>> = (0..45).map(|_| vec![statement(&wide, &row)]).collect();
        let out = run(&writers);
        assert_eq!(out.len(), 2, "45,000 parameters need two statements");
        assert_eq!(out[0].1.len(), PARAMETERS);
        assert_eq!(out[1].1.len(), 45_000 - PARAMETERS);
    }
}
