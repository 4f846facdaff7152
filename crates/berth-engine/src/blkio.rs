//! Per-device block IO settings (`--blkio-weight-device`, `--device-read-bps`,
//! `--device-write-bps`, `--device-read-iops`, `--device-write-iops`): each names a host block
//! device, which becomes the `major:minor` of the spec's `linux.resources.blockIO` lists.

use std::os::unix::fs::{FileTypeExt, MetadataExt};

use berth_api::container::{HostConfig, ThrottleDevice};
use oci_spec::runtime::{
    LinuxBlockIo, LinuxThrottleDevice, LinuxThrottleDeviceBuilder, LinuxWeightDeviceBuilder,
};

use crate::error::{EngineError, Result};

/// The `(major, minor)` of the block device at `path`.
fn numbers(flag: &str, path: &str) -> Result<(i64, i64)> {
    let meta = std::fs::metadata(path)
        .map_err(|e| EngineError::Invalid(format!("{flag}: {path}: {e}")))?;
    if !meta.file_type().is_block_device() {
        return Err(EngineError::Invalid(format!(
            "{flag}: {path} is not a block device"
        )));
    }
    let rdev = meta.rdev();
    Ok((
        nix::sys::stat::major(rdev) as i64,
        nix::sys::stat::minor(rdev) as i64,
    ))
}

fn throttles(
    flag: &str,
    list: &Option<Vec<ThrottleDevice>>,
) -> Result<Option<Vec<LinuxThrottleDevice>>> {
    let Some(list) = list.as_ref().filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    list.iter()
        .map(|t| {
            let (major, minor) = numbers(flag, &t.path)?;
            LinuxThrottleDeviceBuilder::default()
                .major(major)
                .minor(minor)
                .rate(t.rate)
                .build()
                .map_err(|e| EngineError::Invalid(format!("{flag}: {e}")))
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The block IO settings of `hc`, or `None` when it sets none.
pub fn block_io(hc: &HostConfig) -> Result<Option<LinuxBlockIo>> {
    let mut b = LinuxBlockIo::default();
    let mut any = false;
    if hc.blkio_weight > 0 {
        b.set_weight(Some(hc.blkio_weight));
        any = true;
    }
    if let Some(list) = hc.blkio_weight_device.as_ref().filter(|l| !l.is_empty()) {
        let mut out = Vec::new();
        for w in list {
            if !(10..=1000).contains(&w.weight) {
                return Err(EngineError::Invalid(
                    "Range of blkio weight is from 10 to 1000".into(),
                ));
            }
            let (major, minor) = numbers("--blkio-weight-device", &w.path)?;
            let d = LinuxWeightDeviceBuilder::default()
                .major(major)
                .minor(minor)
                .weight(w.weight)
                .build()
                .map_err(|e| EngineError::Invalid(format!("--blkio-weight-device: {e}")))?;
            out.push(d);
        }
        b.set_weight_device(Some(out));
        any = true;
    }
    for (flag, list, set) in [
        (
            "--device-read-bps",
            &hc.blkio_device_read_bps,
            LinuxBlockIo::set_throttle_read_bps_device as fn(&mut LinuxBlockIo, _) -> &mut _,
        ),
        (
            "--device-write-bps",
            &hc.blkio_device_write_bps,
            LinuxBlockIo::set_throttle_write_bps_device,
        ),
        (
            "--device-read-iops",
            &hc.blkio_device_read_iops,
            LinuxBlockIo::set_throttle_read_iops_device,
        ),
        (
            "--device-write-iops",
            &hc.blkio_device_write_iops,
            LinuxBlockIo::set_throttle_write_iops_device,
        ),
    ] {
        if let Some(t) = throttles(flag, list)? {
            set(&mut b, Some(t));
            any = true;
        }
    }
    Ok(any.then_some(b))
}
