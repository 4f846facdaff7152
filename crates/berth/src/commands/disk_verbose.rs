//! `berth system df -v`: docker's four detail tables (images, containers, local volumes,
//! build cache) from the same `/system/df` answer the summary uses.

use serde_json::{Value, json};

use super::disk::DiskUsage;
use crate::format::units::{ago, human_size, human_size_prec};

const IMAGES: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}";
const CONTAINERS: &str = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}";
const VOLUMES: &str = "table {{.Name}}\t{{.Links}}\t{{.Size}}";
const BUILD_CACHE: &str = "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}";

fn image_label(field: &str) -> Option<&'static str> {
    match field {
        "SharedSize" => Some("SHARED SIZE"),
        "UniqueSize" => Some("UNIQUE SIZE"),
        f => super::images::label(f),
    }
}

fn container_label(field: &str) -> Option<&'static str> {
    match field {
        "LocalVolumes" => Some("LOCAL VOLUMES"),
        f => super::list::label(f),
    }
}

fn volume_label(field: &str) -> Option<&'static str> {
    Some(match field {
        "Name" => "VOLUME NAME",
        "Links" => "LINKS",
        "Size" => "SIZE",
        _ => return None,
    })
}

fn cache_label(field: &str) -> Option<&'static str> {
    Some(match field {
        "ID" => "CACHE ID",
        "CacheType" => "CACHE TYPE",
        "Size" => "SIZE",
        "CreatedSince" => "CREATED",
        "LastUsedSince" => "LAST USED",
        "UsageCount" => "USAGE",
        "Shared" => "SHARED",
        _ => return None,
    })
}

/// Seconds since the epoch of an RFC 3339 time (build cache records carry those).
fn epoch(v: &Value) -> Option<i64> {
    let t = v.as_str()?;
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.timestamp())
}

/// Prints the four tables, docker's headings and blank lines between them.
pub(super) fn print(d: &DiskUsage) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let images: Vec<Value> = d
        .images
        .iter()
        .flat_map(|img| {
            let unique = if img.shared_size < 0 {
                "N/A".to_owned()
            } else {
                human_size_prec(img.size - img.shared_size, 4)
            };
            super::images::rows(img, false, now)
                .into_iter()
                .map(move |mut r| {
                    r["UniqueSize"] = json!(unique);
                    r
                })
        })
        .collect();
    println!("Images space usage:\n");
    super::print_rows_of(&images, None, IMAGES, image_label, None)?;
    let containers: Vec<Value> = d
        .containers
        .iter()
        .map(|c| super::list::row(c, false, now))
        .collect();
    println!("\nContainers space usage:\n");
    super::print_rows_of(&containers, None, CONTAINERS, container_label, None)?;
    let usage = |v: &Value, k: &str| v["UsageData"][k].as_i64().unwrap_or(-1);
    let volumes: Vec<Value> = d
        .volumes
        .iter()
        .map(|v| {
            let size = usage(v, "Size");
            json!({
                "Name": v["Name"],
                "Links": usage(v, "RefCount").to_string(),
                "Size": if size < 0 { "N/A".to_owned() } else { human_size(size) },
            })
        })
        .collect();
    println!("\nLocal Volumes space usage:\n");
    super::print_rows_of(&volumes, None, VOLUMES, volume_label, None)?;
    let cache: Vec<Value> = d
        .build_cache
        .iter()
        .map(|b| {
            let id = b["ID"].as_str().unwrap_or_default();
            json!({
                "ID": id.get(..12).unwrap_or(id),
                "CacheType": b["Type"],
                "Size": human_size(b["Size"].as_i64().unwrap_or(0)),
                "CreatedSince": epoch(&b["CreatedAt"]).map(|t| ago(t, now)).unwrap_or_default(),
                "LastUsedSince": epoch(&b["LastUsedAt"]).map(|t| ago(t, now)).unwrap_or_default(),
                "UsageCount": b["UsageCount"].as_i64().unwrap_or(0).to_string(),
                "Shared": b["Shared"].as_bool().unwrap_or(false).to_string(),
            })
        })
        .collect();
    println!(
        "\nBuild cache usage: {}\n",
        human_size(d.build_cache_size())
    );
    super::print_rows_of(&cache, None, BUILD_CACHE, cache_label, None)?;
    Ok(())
}
