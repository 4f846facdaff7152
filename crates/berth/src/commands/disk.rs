//! `image prune` and `system df`.

use berth_api::container::ContainerSummary;
use berth_api::image::{ImageDeleteResponseItem, ImageSummary};
use serde::Deserialize;
use serde_json::Value;

use crate::cli_groups::DfArgs;
use crate::cli_groups::PruneArgs;
use crate::client::{Client, query};
use crate::format::units::{human_size, human_size_prec};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct PruneResponse {
    images_deleted: Option<Vec<ImageDeleteResponseItem>>,
    space_reclaimed: i64,
}

/// `/system/df`'s answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct DiskUsage {
    pub layers_size: i64,
    pub images: Vec<ImageSummary>,
    pub containers: Vec<ContainerSummary>,
    pub volumes: Vec<Value>,
    pub build_cache: Vec<Value>,
}

/// `berth image prune [-a] [-f]`.
pub async fn image_prune(client: &Client, args: &PruneArgs) -> anyhow::Result<i32> {
    if !args.force {
        let what = if args.all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        };
        if !super::groups::confirm(&format!(
            "WARNING! This will remove {what}.\nAre you sure you want to continue?"
        ))? {
            return Ok(0);
        }
    }
    let dangling = if args.all { "false" } else { "true" };
    let mut filters = args.filter.clone();
    filters.push(format!("dangling={dangling}"));
    let q = query(&[("filters", super::filters_json(&filters)?)]);
    let r: PruneResponse = client
        .post_json(&format!("/images/prune{q}"), &serde_json::json!({}))
        .await?;
    let deleted = r.images_deleted.unwrap_or_default();
    if !deleted.is_empty() {
        println!("Deleted Images:");
        for d in &deleted {
            if let Some(u) = &d.untagged {
                println!("untagged: {u}");
            }
            if let Some(x) = &d.deleted {
                println!("deleted: {x}");
            }
        }
        println!();
    }
    println!("Total reclaimed space: {}", human_size(r.space_reclaimed));
    Ok(0)
}

fn pct(part: i64, total: i64) -> String {
    if total <= 0 {
        return human_size_prec(part, 4);
    }
    format!("{} ({}%)", human_size_prec(part, 4), part * 100 / total)
}

impl DiskUsage {
    /// The build cache's size as docker counts it: records not shared with images.
    pub(super) fn build_cache_size(&self) -> i64 {
        self.build_cache
            .iter()
            .filter(|b| !b["Shared"].as_bool().unwrap_or(false))
            .map(|b| b["Size"].as_i64().unwrap_or(0))
            .sum()
    }
}

/// `berth system df`: docker's four rows (images, containers, local volumes, build cache).
pub async fn system_df(client: &Client, args: &DfArgs) -> anyhow::Result<i32> {
    let d: DiskUsage = client.get("/system/df").await?;
    if args.verbose && args.format.is_none() {
        super::disk_verbose::print(&d)?;
        return Ok(0);
    }
    if args.verbose {
        anyhow::bail!("berth system df: --verbose with --format is not supported yet");
    }
    let active_images = d.images.iter().filter(|i| i.containers > 0).count();
    let used: i64 = d
        .images
        .iter()
        .filter(|i| i.containers != 0 && i.size >= 0 && i.shared_size >= 0)
        .map(|i| i.size - i.shared_size)
        .sum();
    let active =
        |c: &&ContainerSummary| matches!(c.state.as_str(), "running" | "paused" | "restarting");
    let c_size: i64 = d.containers.iter().filter_map(|c| c.size_rw).sum();
    let c_idle: i64 = d
        .containers
        .iter()
        .filter(|c| !active(c))
        .filter_map(|c| c.size_rw)
        .sum();
    let usage = |v: &Value, k: &str| v["UsageData"][k].as_i64().unwrap_or(-1);
    let v_active = d
        .volumes
        .iter()
        .filter(|v| usage(v, "RefCount") > 0)
        .count();
    let v_size: i64 = d.volumes.iter().map(|v| usage(v, "Size").max(0)).sum();
    let v_idle: i64 = d
        .volumes
        .iter()
        .filter(|v| usage(v, "RefCount") == 0)
        .map(|v| usage(v, "Size").max(0))
        .sum();
    let b_in_use = |b: &Value| b["InUse"].as_bool().unwrap_or(false);
    let b_size = d.build_cache_size();
    let b_idle: i64 = d
        .build_cache
        .iter()
        .filter(|b| !b_in_use(b) && !b["Shared"].as_bool().unwrap_or(false))
        .map(|b| b["Size"].as_i64().unwrap_or(0))
        .sum();
    let row = |t: &str, total: usize, active: usize, size: i64, reclaimable: String| {
        serde_json::json!({
            "Type": t, "TotalCount": total.to_string(), "Active": active.to_string(),
            "Size": human_size_prec(size, 4), "Reclaimable": reclaimable,
        })
    };
    let rows = vec![
        row(
            "Images",
            d.images.len(),
            active_images,
            d.layers_size,
            pct(d.layers_size - used, d.layers_size),
        ),
        row(
            "Containers",
            d.containers.len(),
            d.containers.iter().filter(active).count(),
            c_size,
            pct(c_idle, c_size),
        ),
        row(
            "Local Volumes",
            d.volumes.len(),
            v_active,
            v_size,
            pct(v_idle, v_size),
        ),
        row(
            "Build Cache",
            d.build_cache.len(),
            d.build_cache.iter().filter(|b| b_in_use(b)).count(),
            b_size,
            human_size_prec(b_idle, 4),
        ),
    ];
    super::print_rows(
        &rows,
        args.format.as_deref(),
        "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
        |f| {
            Some(match f {
                "Type" => "TYPE",
                "TotalCount" => "TOTAL",
                "Active" => "ACTIVE",
                "Size" => "SIZE",
                "Reclaimable" => "RECLAIMABLE",
                _ => return None,
            })
        },
    )?;
    Ok(0)
}
