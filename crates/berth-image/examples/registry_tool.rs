//! A small driver for the registry client, used by `bench/pull.sh` until the daemon wires
//! pull and push:
//!
//! ```text
//! registry_tool gen  ROOT NAME LAYERS MB   make an image of LAYERS gzip layers, MB in all
//! registry_tool push ROOT NAME REF         push a local image
//! registry_tool pull ROOT REF              pull, printing the seconds taken
//! registry_tool save ROOT NAME FILE        docker save
//! registry_tool load ROOT FILE             docker load, printing the seconds taken
//! ```

use std::error::Error;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use berth_image::config::{ContainerConfig, ImageConfig, RootFs};
use berth_image::registry::{Client, ClientOptions, ProgressFn, PullOptions, PushOptions};
use berth_image::store::ImageStore;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a = |i: usize| -> Result<&str, Box<dyn Error>> {
        args.get(i)
            .map(String::as_str)
            .ok_or_else(|| "usage: registry_tool gen|push|pull|save|load ...".into())
    };
    let store = Arc::new(ImageStore::open(std::path::Path::new(a(1)?))?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let start = Instant::now();
    let quiet: ProgressFn = if std::env::var_os("BERTH_TRACE").is_some() {
        Arc::new(move |p| {
            if p.status.detail().is_none()
                || matches!(
                    p.status,
                    berth_image::registry::ProgressStatus::Extracting { .. }
                )
            {
                eprintln!(
                    "{:7.3} {} {}",
                    start.elapsed().as_secs_f64(),
                    p.id,
                    p.status.text()
                );
            }
        })
    } else {
        Arc::new(|_| {})
    };
    let client = Client::new(ClientOptions::default())?;
    match a(0)? {
        "gen" => generate(&store, a(2)?, a(3)?.parse()?, a(4)?.parse()?)?,
        "push" => {
            let d = rt.block_on(client.push(
                store,
                a(2)?,
                &a(3)?.parse()?,
                &PushOptions::default(),
                &quiet,
            ))?;
            println!("{d}");
        }
        "pull" => {
            let t = Instant::now();
            let r =
                rt.block_on(client.pull(store, &a(2)?.parse()?, &PullOptions::default(), &quiet))?;
            println!("{:.3} {}", t.elapsed().as_secs_f64(), r.id);
        }
        "save" => {
            let f = std::io::BufWriter::new(std::fs::File::create(a(3)?)?);
            berth_image::archive::save(&store, &[a(2)?.to_owned()], f)?;
        }
        "load" => {
            let t = Instant::now();
            let f = std::io::BufReader::new(std::fs::File::open(a(2)?)?);
            let l = berth_image::archive::load(&store, f)?;
            println!("{:.3} {}", t.elapsed().as_secs_f64(), l.len());
        }
        other => return Err(format!("unknown command {other}").into()),
    }
    Ok(())
}

/// LAYERS gzip layers of a few large files each; the data has about 4 bits of entropy
/// per byte, so gzip has real work to do.
fn generate(
    store: &ImageStore,
    name: &str,
    layers: usize,
    mb: usize,
) -> Result<(), Box<dyn Error>> {
    let per_layer = (mb << 20) / layers.max(1);
    let mut parent = None;
    let mut diff_ids = Vec::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for l in 0..layers {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        {
            let mut b = tar::Builder::new(&mut enc);
            let files = 4;
            for f in 0..files {
                let data: Vec<u8> = (0..per_layer / files)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // 16 symbols: about 4 bits of entropy per byte.
                        b'a' + (x % 16) as u8
                    })
                    .collect();
                let mut h = tar::Header::new_ustar();
                h.set_mode(0o644);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, format!("layer{l}/file{f}"), &data[..])?;
            }
            b.finish()?;
        }
        let gz = enc.finish()?;
        let info = store.add_layer_keep_blob(parent.as_ref(), &gz[..])?;
        parent = Some(info.chain_id);
        diff_ids.push(info.diff_id);
    }
    let cfg = ImageConfig {
        architecture: berth_image::config::host_architecture().into(),
        os: "linux".into(),
        config: Some(ContainerConfig::default()),
        rootfs: RootFs {
            diff_ids,
            ..Default::default()
        },
        ..Default::default()
    };
    let id = store.add_image(&cfg.to_vec()?)?;
    store.tag(&id.to_string(), &name.parse()?)?;
    writeln!(std::io::stdout(), "{id}")?;
    Ok(())
}
