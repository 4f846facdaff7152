//! `image prune` and `system df`.

use std::io::{IsTerminal, Write};

use berth_api::container::ContainerSummary;
use berth_api::image::{ImageDeleteResponseItem, ImageSummary};
use serde::Deserialize;

use crate::cli_groups::PruneArgs;
use crate::client::{Client, query};
use crate::format::units::human_size;
use crate::format::write_table;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct PruneResponse {
    images_deleted: Option<Vec<ImageDeleteResponseItem>>,
    space_reclaimed: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct DiskUsage {
    layers_size: i64,
    images: Vec<ImageSummary>,
    containers: Vec<ContainerSummary>,
}

/// `berth image prune [-a] [-f]`.
pub async fn image_prune(client: &Client, args: &PruneArgs) -> anyhow::Result<i32> {
    if !args.force {
        let what = if args.all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        };
        print!("WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        if !std::io::stdin().is_terminal() || std::io::stdin().read_line(&mut answer).is_ok() {
            let a = answer.trim().to_lowercase();
            if a != "y" && a != "yes" {
                println!();
                return Ok(0);
            }
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
        return human_size(part);
    }
    format!("{} ({}%)", human_size(part), part * 100 / total)
}

/// `berth system df`.
pub async fn system_df(client: &Client, format: Option<&str>) -> anyhow::Result<i32> {
    let d: DiskUsage = client.get("/system/df").await?;
    let active_images = d.images.iter().filter(|i| i.containers > 0).count();
    let img_size = d.layers_size;
    let unused: i64 = d
        .images
        .iter()
        .filter(|i| i.containers <= 0)
        .map(|i| i.size - i.shared_size.max(0))
        .sum();
    let running = d.containers.iter().filter(|c| c.state == "running").count();
    if format == Some("json") {
        println!(
            "{}",
            serde_json::json!({
                "Images": d.images.len(), "ActiveImages": active_images,
                "LayersSize": d.layers_size, "Reclaimable": unused,
                "Containers": d.containers.len(), "RunningContainers": running,
            })
        );
        return Ok(0);
    }
    let lines = vec![
        "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE".to_owned(),
        format!(
            "Images\t{}\t{active_images}\t{}\t{}",
            d.images.len(),
            human_size(img_size),
            pct(unused, img_size)
        ),
        format!("Containers\t{}\t{running}\t0B\t0B", d.containers.len()),
        "Local Volumes\t0\t0\t0B\t0B".to_owned(),
        "Build Cache\t0\t0\t0B\t0B".to_owned(),
    ];
    write_table(&mut std::io::stdout().lock(), &lines)?;
    Ok(0)
}
