//! What every client command works with: the hub's client and the output mode, and the one
//! generic way to fetch and print a list or a resource.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::args::{GlobalArgs, ListArgs};
use super::auth::bearer_token;
use super::endpoints;
use super::http::{Client, Params};
use super::output::{Column, list_table, object_table};

/// A page as the API sends it; items stay raw so that `--json` prints them as they came.
#[derive(Debug, Serialize, Deserialize)]
struct RawPage {
    items: Vec<Box<RawValue>>,
    next_cursor: Option<String>,
}

pub struct Ctx {
    pub client: Client,
    pub json: bool,
}

impl Ctx {
    /// The hub `global` names, with the caller's token.
    pub async fn connect(global: &GlobalArgs) -> anyhow::Result<Self> {
        let target = endpoints::target(global)?;
        Ok(Self {
            client: Client::new(target, bearer_token(global).await?)?,
            json: global.json,
        })
    }

    /// Fetches a list (one page, or all with `--all`) and prints it as `columns` or as JSON.
    pub async fn list(
        &self,
        path: &str,
        params: Params,
        columns: &[Column],
        paging: &ListArgs,
    ) -> anyhow::Result<()> {
        let mut params = params
            .opt("limit", paging.limit)
            .opt("cursor", paging.cursor.as_deref());
        let mut items = Vec::new();
        let next_cursor = loop {
            let text = self.client.get(path, &params).await?;
            let page: RawPage = serde_json::from_str(&text)
                .with_context(|| format!("{path} did not answer a page of items"))?;
            if self.json && !paging.all {
                println!("{text}");
                return Ok(());
            }
            items.extend(page.items);
            match page.next_cursor {
                Some(cursor) if paging.all => params = params.with("cursor", &cursor),
                other => break other,
            }
        };
        if self.json {
            println!(
                "{}",
                serde_json::to_string(&RawPage { items, next_cursor })?
            );
            return Ok(());
        }
        let values = items
            .iter()
            .map(|raw| serde_json::from_str(raw.get()))
            .collect::<Result<Vec<Value>, _>>()?;
        println!("{}", list_table(&values, columns));
        if let Some(cursor) = next_cursor {
            eprintln!("more items: add --all for every page, or --cursor {cursor} for the next");
        }
        Ok(())
    }

    /// Prints one resource as the API answered it: a field table, or the JSON with `--json`.
    pub fn print(&self, text: &str) -> anyhow::Result<()> {
        if self.json {
            println!("{text}");
            return Ok(());
        }
        match serde_json::from_str(text)? {
            Value::Object(object) => println!("{}", object_table(&object)),
            other => println!("{other}"),
        }
        Ok(())
    }

    /// GETs one resource and prints it.
    pub async fn show(&self, path: &str) -> anyhow::Result<()> {
        let text = self.client.get(path, &Params::new()).await?;
        self.print(&text)
    }

    /// POSTs `body` and prints the answer.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<()> {
        let text = self.client.post(path, body).await?;
        self.print(&text)
    }
}
