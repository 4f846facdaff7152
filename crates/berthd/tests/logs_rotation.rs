//! json-file rotation done by the shim (`max-size`, `max-file`, `compress`), `logs` across
//! rotated and gzipped files, the `none` and `local` drivers, berth's default rotation and
//! dockerd's refusals.

mod engine_harness;

use std::path::PathBuf;

use engine_harness::{Daemon, eventually, ok, stderr, stdout};

fn log_dir(d: &Daemon, id: &str) -> PathBuf {
    d.data_root().join("containers").join(id)
}

fn log_files(d: &Daemon, id: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(log_dir(d, id))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains("-json.log"))
                .map(|n| n.replace(id, "c"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `line<first>` to `line<last>` one a line.
fn numbered(text: &str) -> Vec<u32> {
    text.lines()
        .map(|l| {
            l.strip_prefix("line")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected line {l:?}"))
        })
        .collect()
}

fn assert_consecutive(n: &[u32], last: u32) {
    assert_eq!(n.last(), Some(&last), "{n:?}");
    let first = n[0];
    assert_eq!(n, (first..=last).collect::<Vec<_>>().as_slice());
}

#[test]
fn rotated_gzipped_files_read_back_in_order() {
    let d = Daemon::start();
    let out = ok(
        &d.docker(&[
            "run",
            "-d",
            "--log-opt",
            "max-size=10k",
            "--log-opt",
            "max-file=3",
            "--log-opt",
            "compress=true",
            "busybox",
            "sh",
            "-c",
            "i=0; while [ $i -lt 500 ]; do echo line$i; i=$((i+1)); done",
        ]),
        "run",
    );
    let id = out.trim().to_owned();
    ok(&d.docker(&["wait", &id]), "wait");
    assert_eq!(
        log_files(&d, &id),
        ["c-json.log", "c-json.log.1.gz", "c-json.log.2.gz"]
    );
    // each file within max-size, the rotated ones gzip
    let dir = log_dir(&d, &id);
    let live = std::fs::metadata(dir.join(format!("{id}-json.log")))
        .map(|m| m.len())
        .ok();
    assert!(live.is_some_and(|n| n <= 10_000), "{live:?}");
    let gz = std::fs::read(dir.join(format!("{id}-json.log.1.gz"))).unwrap_or_default();
    assert_eq!(gz.get(..2), Some(&[0x1f, 0x8b][..]));
    let all = numbered(&ok(&d.docker(&["logs", &id]), "logs"));
    assert_consecutive(&all, 499);
    assert!(
        all.len() > 200 && all.len() < 500,
        "{} lines kept",
        all.len()
    );
    let tail = numbered(&ok(&d.docker(&["logs", "--tail", "3", &id]), "logs --tail"));
    assert_eq!(tail, [497, 498, 499]);
    let since = ok(&d.docker(&["logs", "--since", "0", &id]), "logs --since");
    assert_eq!(numbered(&since), all);
}

#[test]
fn follow_reads_across_rotations() {
    let d = Daemon::start();
    let out = ok(
        &d.docker(&[
            "run",
            "-d",
            "--log-opt",
            "max-size=2k",
            "--log-opt",
            "max-file=5",
            "--log-opt",
            "compress=true",
            "busybox",
            "sh",
            "-c",
            "sleep 1; i=0; while [ $i -lt 200 ]; do echo line$i; usleep 20000; i=$((i+1)); done",
        ]),
        "run",
    );
    let id = out.trim().to_owned();
    let follow = ok(&d.docker(&["logs", "-f", &id]), "logs -f");
    let n = numbered(&follow);
    assert_eq!(
        n,
        (0..200).collect::<Vec<_>>(),
        "follower missed or repeated lines"
    );
    assert!(log_files(&d, &id).len() == 5, "{:?}", log_files(&d, &id));
}

#[test]
fn default_rotation_none_local_and_refusals() {
    let d = Daemon::start();
    // berth's default: 3 files of 20 MB, passed to the shim
    let id = ok(&d.docker(&["run", "-d", "busybox", "sleep", "100"]), "run")
        .trim()
        .to_owned();
    let shim_args = || {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .find(|c| c.contains("berth-shim") && c.contains(&id))
            .unwrap_or_default()
    };
    eventually("the shim", || !shim_args().is_empty());
    let args = shim_args();
    assert!(
        args.contains("--log-max-size 20000000 --log-max-file 3"),
        "{args}"
    );

    // none: nothing written, logs refused as dockerd does
    ok(
        &d.docker(&[
            "run",
            "--name",
            "quiet",
            "--log-driver",
            "none",
            "busybox",
            "echo",
            "hi",
        ]),
        "run none",
    );
    let qid = d.inspect("quiet", "{{.Id}}");
    assert!(log_files(&d, &qid).is_empty(), "{:?}", log_files(&d, &qid));
    let out = d.docker(&["logs", "quiet"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("configured logging driver does not support reading"),
        "{}",
        stderr(&out)
    );
    let (status, _) = d.http("GET", "/containers/quiet/logs?stdout=1", "");
    assert_eq!(status, 501);

    // local: honoured (rotated json-file underneath), read back
    ok(
        &d.docker(&[
            "run",
            "--name",
            "loc",
            "--log-driver",
            "local",
            "busybox",
            "echo",
            "kept",
        ]),
        "run local",
    );
    assert_eq!(stdout(&d.docker(&["logs", "loc"])), "kept\n");

    for (args, msg) in [
        (
            vec!["--log-driver", "syslog"],
            "logger: no log driver named 'syslog' is registered",
        ),
        (
            vec!["--log-opt", "max-sise=1m"],
            "unknown log opt 'max-sise' for json-file log driver",
        ),
        (vec!["--log-opt", "max-size=1x"], "invalid size: '1x'"),
        (
            vec!["--log-opt", "max-size=1m", "--log-opt", "max-file=0"],
            "max-file cannot be less than 1",
        ),
        (
            vec!["--log-opt", "tag=web"],
            "--log-opt tag is not supported by berth",
        ),
    ] {
        let mut a = vec!["create"];
        a.extend(args);
        a.extend(["busybox", "true"]);
        let out = d.docker(&a);
        assert!(!out.status.success(), "{a:?} was accepted");
        assert!(stderr(&out).contains(msg), "{a:?}: {}", stderr(&out));
    }
    // nothing was left behind by the refusals
    let all = ok(&d.docker(&["ps", "-aq"]), "ps");
    assert_eq!(all.lines().count(), 3, "{all}");
}
