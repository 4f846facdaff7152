//! Layer unpack throughput: builds a 512 MiB layer of large files (plain and gzip) in the
//! temp dir, applies each twice with [`berth_image::layer::apply`] and prints MB/s of
//! uncompressed tar. Run with `cargo run --release -p berth-image --example unpack_bench`.

use std::error::Error;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::time::Instant;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("berth-unpack-bench-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    let result = run(&dir);
    fs::remove_dir_all(&dir)?;
    result
}

fn run(dir: &std::path::Path) -> Result<(), Box<dyn Error>> {
    let tar_path = dir.join("layer.tar");
    let mut b = tar::Builder::new(BufWriter::new(File::create(&tar_path)?));
    // Poorly compressible data, so gzip is measured doing real work.
    let data: Vec<u8> = (0..64u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for i in 0..8 {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, format!("big{i}"), &data[..])?;
    }
    b.into_inner()?;
    let size = fs::metadata(&tar_path)?.len();
    let gz_path = dir.join("layer.tar.gz");
    let mut enc =
        flate2::write::GzEncoder::new(File::create(&gz_path)?, flate2::Compression::fast());
    io::copy(&mut File::open(&tar_path)?, &mut enc)?;
    enc.finish()?;

    for (name, path) in [("plain", &tar_path), ("gzip", &gz_path)] {
        for _ in 0..2 {
            let out = dir.join("out");
            if out.exists() {
                fs::remove_dir_all(&out)?;
            }
            fs::create_dir(&out)?;
            let t = Instant::now();
            let applied = berth_image::layer::apply(File::open(path)?, &out)?;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{name}: {} MiB in {secs:.2}s = {:.0} MB/s (diff_id {})",
                size >> 20,
                size as f64 / 1e6 / secs,
                applied.diff_id
            );
        }
    }
    Ok(())
}
