//! The inventory file: a versioned list of services, in YAML or JSON, read by import and written
//! by export (the format is documented in docs/ops.md).

use hub_core::api::page::PageRequest;
use hub_core::auth::Principal;
use hub_core::{Ctx, HubError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::api::ServiceInput;
use super::service::{self, Change, ServiceFilter};

/// The only file version this hub reads and writes.
pub const VERSION: u32 = 1;

/// The file as a whole.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryFile {
    pub version: u32,
    pub services: Vec<ServiceInput>,
}

/// The serialization of an exported file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Yaml => "application/yaml",
            Format::Json => "application/json",
        }
    }
}

/// What an import did, by service id.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

/// Reads an inventory file; JSON is read as the YAML it also is. A malformed file is a 400
/// naming `file` with the parser's position.
pub fn parse(text: &str) -> Result<Vec<ServiceInput>, HubError> {
    let file: InventoryFile =
        serde_norway::from_str(text).map_err(|e| HubError::bad_request("file", e.to_string()))?;
    if file.version != VERSION {
        return Err(HubError::bad_request(
            "version",
            format!("must be {VERSION}"),
        ));
    }
    Ok(file.services)
}

/// Creates or replaces every service of the file, all or nothing.
pub async fn import(ctx: &Ctx, who: &Principal, text: &str) -> Result<ImportReport, HubError> {
    let specs = parse(text)?.into_iter().map(Into::into).collect();
    let mut report = ImportReport::default();
    for (id, change) in service::upsert_all(ctx, who, specs).await? {
        match change {
            Change::Created => report.created.push(id),
            Change::Updated => report.updated.push(id),
            Change::Unchanged => report.unchanged.push(id),
        }
    }
    Ok(report)
}

/// Every service the caller may see, as a file of `format`.
pub async fn export(ctx: &Ctx, who: &Principal, format: Format) -> Result<String, HubError> {
    let mut services = Vec::new();
    let mut page = PageRequest::first(500);
    loop {
        let got = service::list(ctx, who, &ServiceFilter::default(), &page).await?;
        services.extend(got.items.iter().map(|s| ServiceInput::from(s.spec())));
        match got.next_cursor {
            Some(_) => page.after = services.last().map(|s| s.id.clone()),
            None => break,
        }
    }
    let file = InventoryFile {
        version: VERSION,
        services,
    };
    let text = match format {
        Format::Yaml => serde_norway::to_string(&file).map_err(|e| e.to_string()),
        Format::Json => serde_json::to_string_pretty(&file).map_err(|e| e.to_string()),
    };
    text.map_err(|e| HubError::Internal(format!("export: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_read_alike_and_bad_files_name_the_problem() {
        let yaml = "version: 1\nservices:\n  - id: api\n    name: API\n    kind: api\n    domain: infotech\n    environment: prod\n    location: eu-1\n    lifecycle: active\n";
        let json = r#"{"version": 1, "services": [{"id": "api", "name": "API", "kind": "api",
            "domain": "infotech", "environment": "prod", "location": "eu-1", "lifecycle": "active"}]}"#;
        let (a, b) = (parse(yaml).unwrap(), parse(json).unwrap());
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&b).unwrap()
        );
        for bad in [
            "version: 1\nservices: 3",
            "version: 2\nservices: []",
            "::: not yaml",
            "version: 1\nservices: []\nextra: 1",
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad}");
        }
    }
}
