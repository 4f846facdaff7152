//! `images`, `import`, `tag`, `rmi`.

use berth_api::image::{ImageDeleteResponseItem, ImageSummary};
use berth_api::progress::ProgressMessage;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Method;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use super::{filters_json, for_each};
use crate::cli::{ImagesArgs, ImportArgs, RmiArgs, TagArgs};
use crate::client::{Body, Client, JsonLines, empty, enc, query};
use crate::format::short_id;
use crate::format::units::{ago, human_size};

/// docker's default `images` table.
pub const DEFAULT_FORMAT: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

/// Column headers of `images` fields.
pub fn label(field: &str) -> Option<&'static str> {
    Some(match field {
        "Repository" => "REPOSITORY",
        "Tag" => "TAG",
        "Digest" => "DIGEST",
        "ID" => "IMAGE ID",
        "CreatedSince" => "CREATED",
        "CreatedAt" => "CREATED AT",
        "Size" => "SIZE",
        "Containers" => "CONTAINERS",
        _ => return None,
    })
}

/// Splits `repo:tag` at the tag's colon (not a registry port's).
pub fn split_tag(reference: &str) -> (&str, Option<&str>) {
    match reference.rfind(':') {
        Some(i) if !reference[i..].contains('/') => (&reference[..i], Some(&reference[i + 1..])),
        _ => (reference, None),
    }
}

/// The rows of one image: one per tag, or one `<none>` row.
pub fn rows(img: &ImageSummary, no_trunc: bool, now: i64) -> Vec<Value> {
    let id = if no_trunc {
        img.id.clone()
    } else {
        short_id(&img.id)
    };
    let created_at = chrono::DateTime::from_timestamp(img.created, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default();
    let digest = img
        .repo_digests
        .first()
        .and_then(|d| d.split_once('@'))
        .map_or("<none>".to_string(), |(_, d)| d.to_string());
    let row = |repo: &str, tag: &str| {
        json!({
            "Repository": repo,
            "Tag": tag,
            "Digest": digest,
            "ID": id,
            "CreatedSince": ago(img.created, now),
            "CreatedAt": created_at,
            "Size": human_size(img.size),
            "VirtualSize": crate::format::units::human_size_prec(img.size, 4),
            "SharedSize": if img.shared_size < 0 { "N/A".to_string() } else { human_size(img.shared_size) },
            "UniqueSize": "N/A",
            "Containers": if img.containers < 0 { "N/A".to_string() } else { img.containers.to_string() },
        })
    };
    if img.repo_tags.is_empty() {
        return vec![row("<none>", "<none>")];
    }
    img.repo_tags
        .iter()
        .map(|rt| {
            let (repo, tag) = split_tag(rt);
            row(repo, tag.unwrap_or("<none>"))
        })
        .collect()
}

/// `berth images`.
pub async fn images(client: &Client, args: &ImagesArgs) -> anyhow::Result<i32> {
    let mut filters = args.filter.clone();
    if let Some(r) = &args.repository {
        filters.push(format!("reference={r}"));
    }
    let q = query(&[
        ("all", args.all.then(|| "1".into())),
        ("digests", args.digests.then(|| "1".into())),
        ("filters", filters_json(&filters)?),
    ]);
    let list: Vec<ImageSummary> = client.get(&format!("/images/json{q}")).await?;
    if args.quiet {
        let mut seen = std::collections::BTreeSet::new();
        for i in &list {
            let id = if args.no_trunc {
                i.id.clone()
            } else {
                short_id(&i.id)
            };
            if seen.insert(id.clone()) {
                println!("{id}");
            }
        }
        return Ok(0);
    }
    let now = chrono::Utc::now().timestamp();
    let rows: Vec<Value> = list
        .iter()
        .flat_map(|i| rows(i, args.no_trunc, now))
        .collect();
    let default = if args.digests {
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    } else {
        DEFAULT_FORMAT
    };
    let format = args
        .format
        .clone()
        .or_else(|| super::config_value("imagesFormat"));
    super::print_rows_of(
        &rows,
        format.as_deref(),
        default,
        label,
        Some("*formatter.imageContext"),
    )?;
    Ok(0)
}

/// The query of `import`: docker sends the whole reference as `repo`.
pub fn import_query(args: &ImportArgs, from_src: &str) -> String {
    let mut q = query(&[
        ("fromSrc", Some(from_src.to_string())),
        ("repo", args.reference.clone()),
        ("message", args.message.clone()),
        ("platform", args.platform.clone()),
    ]);
    for c in &args.change {
        q.push_str(&format!("&changes={}", enc(c)));
    }
    q
}

/// A request body streamed from a file, or stdin for `-`.
pub(crate) fn file_body(file: String) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let mut reader: Box<dyn tokio::io::AsyncRead + Unpin + Send> = if file == "-" {
            Box::new(tokio::io::stdin())
        } else {
            match tokio::fs::File::open(&file).await {
                Ok(f) => Box::new(f),
                Err(e) => {
                    let _ = tx
                        .send(Err(std::io::Error::new(
                            e.kind(),
                            format!("open {file}: {e}"),
                        )))
                        .await;
                    return;
                }
            }
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => return,
                Ok(n) => {
                    if tx
                        .send(Ok(Bytes::copy_from_slice(&buf[..n])))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
    });
    crate::stream_body::ChannelBody::new(rx).boxed()
}

/// `berth import`.
pub async fn import(client: &Client, args: &ImportArgs) -> anyhow::Result<i32> {
    let remote = args.file.contains("://");
    if !remote && args.file != "-" && !std::path::Path::new(&args.file).exists() {
        anyhow::bail!("open {}: no such file or directory", args.file);
    }
    let (src, body) = if remote {
        (args.file.as_str(), empty())
    } else {
        ("-", file_body(args.file.clone()))
    };
    let path = format!("/images/create{}", import_query(args, src));
    let resp = client
        .send(Method::POST, &path, body, Some("application/x-tar"), false)
        .await?;
    let mut lines = JsonLines::new(resp);
    let mut failed = None;
    while let Some(msg) = lines.next::<ProgressMessage>().await? {
        if let Some(e) = msg.error_detail.map(|d| d.message).or(msg.error) {
            failed = Some(e);
        } else if let Some(s) = msg.status {
            println!("{s}");
        }
    }
    match failed {
        Some(e) => anyhow::bail!("{e}"),
        None => Ok(0),
    }
}

/// `berth tag`.
pub async fn tag(client: &Client, args: &TagArgs) -> anyhow::Result<i32> {
    let (repo, tag) = split_tag(&args.target);
    let q = query(&[
        ("repo", Some(repo.to_string())),
        ("tag", tag.map(str::to_string)),
    ]);
    client
        .call(Method::POST, &format!("/images/{}/tag{q}", args.source))
        .await?;
    Ok(0)
}

/// `berth rmi`.
pub async fn rmi(client: &Client, args: &RmiArgs) -> anyhow::Result<i32> {
    let q = query(&[
        ("force", args.force.then(|| "1".into())),
        ("noprune", args.no_prune.then(|| "1".into())),
    ]);
    Ok(for_each(&args.images, |name| {
        let q = q.clone();
        async move {
            let items: Vec<ImageDeleteResponseItem> = {
                let resp = client
                    .send(
                        Method::DELETE,
                        &format!("/images/{name}{q}"),
                        empty(),
                        None,
                        false,
                    )
                    .await?;
                crate::client::decode(resp).await?
            };
            let lines: Vec<String> = items
                .iter()
                .flat_map(|i| {
                    i.untagged
                        .iter()
                        .map(|u| format!("Untagged: {u}"))
                        .chain(i.deleted.iter().map(|d| format!("Deleted: {d}")))
                })
                .collect();
            Ok((!lines.is_empty()).then(|| lines.join("\n")))
        }
    })
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::template::Template;
    use crate::format::write_table;

    #[test]
    fn tags_split_like_docker() {
        assert_eq!(split_tag("busybox:1.36"), ("busybox", Some("1.36")));
        assert_eq!(
            split_tag("localhost:5000/busybox"),
            ("localhost:5000/busybox", None)
        );
        assert_eq!(
            split_tag("localhost:5000/busybox:x"),
            ("localhost:5000/busybox", Some("x"))
        );
    }

    #[test]
    fn images_table() {
        let img: ImageSummary = serde_json::from_value(json!({
            "Id": "sha256:ec3f0931a6e6b6855d76b2d7b0be30e81860baccd891b2e243280bf1cd8ad710",
            "RepoTags": ["busybox:latest", "mybox:1"],
            "Created": 0, "Size": 4_270_000, "Containers": -1
        }))
        .unwrap();
        let none: ImageSummary = serde_json::from_value(json!({
            "Id": "sha256:0000000000001111", "Created": 0, "Size": 0
        }))
        .unwrap();
        let t = Template::parse(DEFAULT_FORMAT).unwrap();
        let mut lines = vec![t.header(label).unwrap()];
        for r in rows(&img, false, 86_400 * 3)
            .iter()
            .chain(&rows(&none, false, 86_400 * 3))
        {
            lines.push(t.render(r).unwrap());
        }
        let mut out = Vec::new();
        write_table(&mut out, &lines).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "REPOSITORY   TAG       IMAGE ID       CREATED      SIZE\n\
             busybox      latest    ec3f0931a6e6   3 days ago   4.27MB\n\
             mybox        1         ec3f0931a6e6   3 days ago   4.27MB\n\
             <none>       <none>    000000000000   3 days ago   0B\n"
        );
    }

    #[test]
    fn import_query_carries_changes() {
        let a = ImportArgs {
            change: vec!["CMD [\"sh\"]".into(), "ENV K=V".into()],
            message: None,
            platform: None,
            file: "-".into(),
            reference: Some("busybox:latest".into()),
        };
        assert_eq!(
            import_query(&a, "-"),
            "?fromSrc=-&repo=busybox%3Alatest&changes=CMD%20%5B%22sh%22%5D&changes=ENV%20K%3DV"
        );
    }
}
