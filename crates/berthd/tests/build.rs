//! `docker build` (the CLI's classic builder, no buildx here), `berth build`, docker-py's
//! and compose's builds against berthd: the image each build makes is run or inspected to
//! prove what it holds; the caches, failures and refusals are checked by their effects.

mod engine_harness;

use std::path::Path;

use engine_harness::{Daemon, ok, stderr, stdout};

/// Writes `files` (path, content) under a fresh directory of the daemon's temp dir.
fn context(d: &Daemon, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let root = d.dir.path().join(name);
    for (p, content) in files {
        let f = root.join(p);
        std::fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
        std::fs::write(&f, content).expect("write");
    }
    root
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Containers of the daemon (all states): a build must leave none behind.
fn containers(d: &Daemon) -> Vec<String> {
    ok(&d.docker(&["ps", "-aq"]), "ps")
        .lines()
        .map(str::to_owned)
        .collect()
}

const MULTI: &str = r#"ARG BASE=busybox
FROM $BASE AS build
ARG GREETING=hi
RUN mkdir -p /out && echo "$GREETING" > /out/greeting
COPY app/ /out/app/
FROM busybox
COPY --from=build /out /opt
WORKDIR /opt/app
HEALTHCHECK --interval=5s --retries=2 CMD test -f /opt/greeting
USER 1234:1234
ENTRYPOINT ["/bin/sh", "/opt/app/main.sh"]
CMD ["arg1"]
"#;

#[test]
fn multi_stage_build_runs_and_caches_through_the_docker_cli() {
    let d = Daemon::start();
    let ctx = context(
        &d,
        "multi",
        &[
            ("Dockerfile", MULTI),
            (
                "app/main.sh",
                "echo \"main $(cat /opt/greeting) in $(pwd) as $(id -u):$(id -g) with $1\"\n",
            ),
            ("app/skip.log", "excluded\n"),
            ("app/keep.log", "kept by the exception\n"),
            ("secret.txt", "excluded\n"),
            (".dockerignore", "*.txt\napp/*.log\n!app/keep.log\n"),
        ],
    );
    let out = ok(
        &d.docker(&[
            "build",
            "-t",
            "acc:1",
            "--build-arg",
            "GREETING=hey",
            s(&ctx),
        ]),
        "docker build",
    );
    // dockerd's classic stream, as the CLI prints it.
    assert!(out.contains("Step 1/12 : ARG BASE=busybox"), "{out}");
    assert!(out.contains("Step 2/12 : FROM $BASE AS build"), "{out}");
    assert!(out.contains(" ---> Running in "), "{out}");
    assert!(
        out.contains(" ---> Removed intermediate container "),
        "{out}"
    );
    assert!(out.contains("Successfully built "), "{out}");
    assert!(out.contains("Successfully tagged acc:1"), "{out}");
    assert!(containers(&d).is_empty(), "build containers left behind");
    // `docker images` hides the intermediate images (as dockerd); `-a` shows them.
    let shown = ok(&d.docker(&["images", "-q"]), "images");
    let all = ok(&d.docker(&["images", "-aq"]), "images -a");
    assert_eq!(
        shown.lines().count(),
        3,
        "busybox, acc:1, the build stage: {shown}"
    );
    assert_eq!(all.lines().count(), 10, "{all}");

    // The image runs: the entrypoint, the stage's ARG, WORKDIR, USER and CMD.
    let run = ok(&d.docker(&["run", "--rm", "acc:1"]), "run acc:1");
    assert_eq!(run.trim(), "main hey in /opt/app as 1234:1234 with arg1");
    // .dockerignore with an exception: keep.log came, skip.log and secret.txt did not.
    let ls = ok(
        &d.docker(&[
            "run",
            "--rm",
            "--entrypoint",
            "ls",
            "acc:1",
            "-A",
            "/opt/app",
            "/opt",
        ]),
        "ls",
    );
    assert!(ls.contains("keep.log") && ls.contains("main.sh"), "{ls}");
    assert!(
        !ls.contains("skip.log") && !ls.contains("secret.txt"),
        "{ls}"
    );
    let cfg = ok(
        &d.docker(&[
            "inspect",
            "-f",
            "{{json .Config.Healthcheck}}|{{.Config.User}}|{{.Config.WorkingDir}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}",
            "acc:1",
        ]),
        "inspect",
    );
    assert_eq!(
        cfg.trim(),
        r#"{"Test":["CMD-SHELL","test -f /opt/greeting"],"Interval":5000000000,"Retries":2}|1234:1234|/opt/app|["/bin/sh","/opt/app/main.sh"]|["arg1"]"#
    );
    // One history entry per instruction of the last stage, on top of busybox's.
    let history = ok(
        &d.docker(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}",
            "acc:1",
        ]),
        "history",
    );
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 1 + 6, "{history}");
    assert_eq!(lines[0], r#"/bin/sh -c #(nop)  CMD ["arg1"]"#);
    assert!(
        lines[5].starts_with("/bin/sh -c #(nop)  COPY --from="),
        "{history}"
    );

    // A rebuild takes every step below a FROM from the cache (9), and gives the same image.
    let id1 = ok(&d.docker(&["inspect", "-f", "{{.Id}}", "acc:1"]), "id");
    let again = ok(
        &d.docker(&[
            "build",
            "-t",
            "acc:1",
            "--build-arg",
            "GREETING=hey",
            s(&ctx),
        ]),
        "rebuild",
    );
    assert_eq!(again.matches(" ---> Using cache").count(), 9, "{again}");
    assert!(!again.contains("Running in"), "{again}");
    let id2 = ok(&d.docker(&["inspect", "-f", "{{.Id}}", "acc:1"]), "id");
    assert_eq!(id1, id2);

    // Changing one copied file rebuilds from its COPY on, and only from there.
    std::fs::write(ctx.join("app/main.sh"), "echo changed\n").expect("edit");
    let changed = ok(
        &d.docker(&[
            "build",
            "-t",
            "acc:1",
            "--build-arg",
            "GREETING=hey",
            s(&ctx),
        ]),
        "build after a change",
    );
    let copy_at = changed.find("COPY app/ /out/app/").expect("copy step");
    let (before, after) = changed.split_at(copy_at);
    assert_eq!(before.matches("Using cache").count(), 2, "{changed}");
    assert_eq!(after.matches("Using cache").count(), 0, "{changed}");
    assert_eq!(
        ok(&d.docker(&["run", "--rm", "acc:1"]), "run").trim(),
        "changed"
    );
    assert!(containers(&d).is_empty());
}

const HEREDOCS: &str = r#"FROM busybox
ARG X=val
RUN <<EOF
set -e
echo "run $X" > /h1
EOF
COPY <<EOF /conf.txt
conf ${X}
EOF
COPY --chown=1:2 --chmod=700 unused /u
RUN --mount=type=cache,target=/cache sh -c 'echo x >> /cache/count; wc -l < /cache/count > /seen'
RUN --network=none sh -c 'wc -l < /proc/net/dev > /links'
CMD cat /h1 /conf.txt /seen /links
"#;

#[test]
fn berth_build_heredocs_cache_mount_network_none_and_flags() {
    let d = Daemon::start();
    let ctx = context(&d, "hd", &[("unused", "x")]);
    let iid = d.dir.path().join("iid");
    // The Dockerfile from stdin (`-f -`), a label, an iidfile.
    let out = ok(
        &d.berth_in(
            &[
                "build",
                "-t",
                "hd:1",
                "-f",
                "-",
                "--label",
                "team=a b",
                "--iidfile",
                s(&iid),
                s(&ctx),
            ],
            HEREDOCS.as_bytes(),
        ),
        "berth build",
    );
    assert!(out.contains("Step 1/9 : FROM busybox"), "{out}");
    assert!(out.contains("Step 9/9 : LABEL \"team\"=\"a b\""), "{out}");
    assert!(out.contains("Successfully tagged hd:1"), "{out}");
    let id = ok(&d.docker(&["inspect", "-f", "{{.Id}}", "hd:1"]), "id");
    assert_eq!(std::fs::read_to_string(&iid).expect("iidfile"), id.trim());
    // Heredoc RUN and COPY (expanded), the cache mount's first use, and only `lo` in a
    // --network=none step (two header lines of /proc/net/dev and one interface).
    let run = ok(&d.docker(&["run", "--rm", "hd:1"]), "run hd:1");
    assert_eq!(run, "run val\nconf val\n1\n3\n");
    assert_eq!(
        d.inspect("hd:1", "{{index .Config.Labels \"team\"}}"),
        "a b"
    );
    // COPY --chown --chmod.
    let perm = ok(
        &d.docker(&["run", "--rm", "hd:1", "stat", "-c", "%u:%g %a", "/u"]),
        "stat /u",
    );
    assert_eq!(perm.trim(), "1:2 700");
    // A fresh build (--no-cache) finds what the cache mount kept.
    ok(
        &d.berth_in(
            &[
                "build",
                "--no-cache",
                "-q",
                "-t",
                "hd:2",
                "-f",
                "-",
                s(&ctx),
            ],
            HEREDOCS.as_bytes(),
        ),
        "berth build --no-cache",
    );
    let run = ok(&d.docker(&["run", "--rm", "hd:2"]), "run hd:2");
    assert_eq!(run, "run val\nconf val\n2\n3\n");
    // The cache mount is not in the image.
    let ls = ok(
        &d.docker(&["run", "--rm", "hd:2", "ls", "-A", "/cache"]),
        "ls /cache",
    );
    assert_eq!(ls, "");
    // -q prints the ID alone.
    let q = ok(
        &d.berth_in(&["build", "-q", "-f", "-", s(&ctx)], HEREDOCS.as_bytes()),
        "berth build -q",
    );
    assert!(
        q.trim().starts_with("sha256:") && q.trim().len() == 71,
        "{q}"
    );
    // build/prune drops the cache mounts: the next build counts from 1 again.
    let (code, body) = d.http("POST", "/build/prune", "");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("SpaceReclaimed"), "{body}");
    ok(
        &d.berth_in(
            &["build", "--no-cache", "-t", "hd:3", "-f", "-", s(&ctx)],
            HEREDOCS.as_bytes(),
        ),
        "build after prune",
    );
    assert_eq!(
        ok(&d.docker(&["run", "--rm", "hd:3"]), "run hd:3"),
        "run val\nconf val\n1\n3\n"
    );
    assert!(containers(&d).is_empty());
}

#[test]
fn a_failing_run_fails_the_build_with_dockerds_message_and_code() {
    let d = Daemon::start();
    let ctx = context(
        &d,
        "fail",
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo before\nRUN exit 3\nRUN echo never\n",
        )],
    );
    for cli in ["docker", "berth"] {
        let args = ["build", "--force-rm", "-t", "f:1", s(&ctx)];
        let out = if cli == "docker" {
            d.docker(&args)
        } else {
            d.berth(&args)
        };
        assert_eq!(out.status.code(), Some(3), "{cli}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("The command '/bin/sh -c exit 3' returned a non-zero code: 3"),
            "{cli}: {}",
            stderr(&out)
        );
        assert!(!stdout(&out).contains("Step 4/4"), "{cli}");
        // --force-rm: no container left; no image tagged.
        assert!(containers(&d).is_empty(), "{cli}");
        assert!(!d.docker(&["inspect", "f:1"]).status.success());
    }
    // Plain --rm keeps the failed step's container (docker's documented rule).
    let out = d.docker(&["build", s(&ctx)]);
    assert!(!out.status.success());
    assert_eq!(containers(&d).len(), 1);
}

const HOSTILE_PY: &str = r#"
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
def add(name, data=b"x"):
    i = tarfile.TarInfo(name)
    i.size = len(data)
    t.addfile(i, io.BytesIO(data))
add("Dockerfile", b"FROM busybox\nCOPY . /x\n")
add("../escape.txt")
t.close()
"#;

#[test]
fn a_hostile_context_is_refused_and_leaves_nothing() {
    let d = Daemon::start();
    let tar = d.dir.path().join("hostile.tar");
    let st = std::process::Command::new("python3")
        .args(["-c", HOSTILE_PY, s(&tar)])
        .status();
    assert!(
        st.is_ok_and(|s| s.success()),
        "python3 is needed to write the tar"
    );
    let body = String::from_utf8(std::fs::read(&tar).expect("tar")).expect("an ASCII tar");
    let (code, msg) = d.http_with(
        "POST",
        "/build?t=evil",
        &[("Content-Type", "application/x-tar")],
        &body,
    );
    assert_eq!(code, 400, "{msg}");
    assert!(!d.dir.path().join("escape.txt").exists());
    assert!(!d.data_root().join("build/escape.txt").exists());
    // A Dockerfile named outside the context.
    let ctx = context(&d, "ok", &[("Dockerfile", "FROM busybox\n")]);
    let (code, msg) = d.http_with(
        "POST",
        "/build?dockerfile=../../../../etc/passwd",
        &[("Content-Type", "application/x-tar")],
        &body.replace("../escape.txt", "escape.txt\0\0\0"),
    );
    assert_eq!(code, 400, "{msg}");
    // A link out of the context is not followed by COPY.
    let ctx2 = context(
        &d,
        "link",
        &[("Dockerfile", "FROM busybox\nCOPY out/passwd /stolen\n")],
    );
    std::os::unix::fs::symlink("/etc", ctx2.join("out")).expect("symlink");
    let out = d.docker(&["build", "-t", "stolen", s(&ctx2)]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("outside the build context") || stderr(&out).contains("not found"),
        "{}",
        stderr(&out)
    );
    ok(
        &d.docker(&["build", "-t", "fine", s(&ctx)]),
        "a plain build still works",
    );
    // Nothing left: no context directory, no container, no image named.
    let contexts = d.data_root().join("build/contexts");
    let left: Vec<_> = std::fs::read_dir(&contexts)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    assert!(containers(&d).is_empty());
    assert!(!d.docker(&["inspect", "evil"]).status.success());
    assert!(!d.docker(&["inspect", "stolen"]).status.success());
}

/// docker-py 7.x's `tests/integration/api_build_test.py`, its checks run against berthd
/// (the tests that need the internet or experimental mode left out: `streaming` and
/// `from_stringio` ADD a URL, `squash` needs experimental, `invalid_platform` is only
/// run with experimental).
const DOCKER_PY_BUILD: &str = r#"
import io, os, shutil, tempfile, sys
from docker.utils.proxy import ProxyConfig

def drain(stream):
    out = list(stream)
    for c in out:
        if isinstance(c, dict) and 'errorDetail' in c:
            raise SystemExit('build failed: %r' % (c,))
    return out

def run(img, cmd):
    c = client.create_container(img, cmd)
    client.start(c)
    client.wait(c)
    logs = client.logs(c)
    client.remove_container(c)
    return logs

# test_build_with_proxy / _and_buildargs
client._proxy_configs = ProxyConfig(ftp='a', http='b', https='c', no_proxy='d')
drain(client.build(fileobj=io.BytesIO(b'\n'.join([b'FROM busybox'] + [
    ('RUN env | grep "%s"' % e).encode() for e in
    ['FTP_PROXY=a', 'ftp_proxy=a', 'HTTP_PROXY=b', 'http_proxy=b', 'HTTPS_PROXY=c',
     'https_proxy=c', 'NO_PROXY=d', 'no_proxy=d']])), decode=True))
drain(client.build(fileobj=io.BytesIO(b'\n'.join([b'FROM busybox'] + [
    ('RUN env | grep "%s"' % e).encode() for e in
    ['FTP_PROXY=XXX', 'ftp_proxy=xxx', 'HTTP_PROXY=b', 'no_proxy=d']])), decode=True,
    buildargs={'FTP_PROXY': 'XXX', 'ftp_proxy': 'xxx'}))
client._proxy_configs = ProxyConfig()
print('proxy ok')

# test_build_with_dockerignore
base = tempfile.mkdtemp()
open(os.path.join(base, 'Dockerfile'), 'w').write('FROM busybox\nADD . /test')
open(os.path.join(base, '.dockerignore'), 'w').write('\n'.join([
    'ignored', 'Dockerfile', '.dockerignore', ' ignored-with-spaces ',
    '!ignored/subdir/excepted-file', '! ignored/subdir/excepted-with-spaces  ', '', '#*']))
for name in ['not-ignored', '#file.txt', 'ignored-with-spaces']:
    open(os.path.join(base, name), 'w').write('x')
os.makedirs(os.path.join(base, 'ignored', 'subdir'))
for name in ['file', 'excepted-file', 'excepted-with-spaces']:
    open(os.path.join(base, 'ignored', 'subdir', name), 'w').write('x')
drain(client.build(path=base, tag='dockerignore', decode=True))
found = sorted(filter(None, run('dockerignore', ['find', '/test', '-type', 'f']).decode().split('\n')))
assert found == sorted(['/test/#file.txt', '/test/ignored/subdir/excepted-with-spaces',
    '/test/ignored/subdir/excepted-file', '/test/not-ignored']), found
print('dockerignore ok')

# test_build_with_buildargs, shmsize, isolation, labels (FROM scratch)
drain(client.build(fileobj=io.BytesIO(b'FROM scratch\nARG test\nUSER $test'), tag='buildargs',
    buildargs={'test': 'OK'}, decode=True))
assert client.inspect_image('buildargs')['Config']['User'] == 'OK'
drain(client.build(fileobj=io.BytesIO(b'FROM scratch\nCMD sh -c "echo \'Hello, World!\'"'),
    tag='shmsize', shmsize=134217728, decode=True))
drain(client.build(fileobj=io.BytesIO(b'FROM scratch\nCMD sh -c "echo \'Deaf To All But The Song\''),
    tag='isolation', isolation='default', decode=True))
drain(client.build(fileobj=io.BytesIO(b'FROM scratch'), tag='labels', labels={'test': 'OK'}, decode=True))
assert client.inspect_image('labels')['Config']['Labels'] == {'test': 'OK'}
print('scratch ok')

# test_build_with_cache_from
script = io.BytesIO(b'FROM busybox\nENV FOO=bar\nRUN touch baz\nRUN touch bax')
drain(client.build(fileobj=script, tag='build1', decode=True))
n = sum('Using cache' in c.get('stream', '') for c in drain(
    client.build(fileobj=script, tag='build2', cache_from=['build1'], decode=True)))
assert n == 3, n
client.remove_image('build2')
n = sum('Using cache' in c.get('stream', '') for c in drain(
    client.build(fileobj=script, tag='build2', cache_from=['nosuchtag'], decode=True)))
assert n == 0, n
print('cache_from ok')

# test_build_container_with_target (the second stage's alpine is never needed)
drain(client.build(fileobj=io.BytesIO(b'\n'.join([b'FROM busybox as first',
    b'RUN mkdir -p /tmp/test', b'RUN touch /tmp/silence.tar.gz', b'FROM alpine:latest',
    b'WORKDIR /root/COPY --from=first /tmp/silence.tar.gz .',
    b'ONBUILD RUN echo "This should not be in the final image"'])), target='first', tag='build1', decode=True))
info = client.inspect_image('build1')
assert 'OnBuild' not in info['Config'] or not info['Config']['OnBuild']
print('target ok')

# test_build_with_network_mode (none: the RUN fails with code 1)
logs = list(client.build(fileobj=io.BytesIO(b'FROM busybox\nRUN ping -c1 -W1 10.255.255.1'),
    network_mode='none', tag='dockerpytest_nonebuild', nocache=True, decode=True))
assert 'errorDetail' in logs[-1], logs[-1]
assert logs[-1]['errorDetail']['code'] == 1, logs[-1]
try:
    client.inspect_image('dockerpytest_nonebuild')
    raise SystemExit('image made by a failed build')
except docker.errors.NotFound:
    pass
print('network none ok')

# test_build_with_extra_hosts
drain(client.build(fileobj=io.BytesIO(b'FROM busybox\nRUN ping -c1 hello.world.test\n'
    b'RUN ping -c1 extrahost.local.test\nRUN cp /etc/hosts /hosts-file'),
    tag='extrahost', extra_hosts={'extrahost.local.test': '127.0.0.1',
    'hello.world.test': '127.0.0.1'}, decode=True))
hosts = run('extrahost', 'cat /hosts-file').decode()
assert '127.0.0.1\textrahost.local.test' in hosts and '127.0.0.1\thello.world.test' in hosts, hosts
print('extra_hosts ok')

# test_build_stderr_data
snippet = 'Ancient Temple (Mystic Oriental Dream ~ Ancient Temple)'
lines = [c.get('stream') for c in client.build(fileobj=io.BytesIO(('FROM busybox\nRUN sh -c ">&2 echo \'%s\'"' % snippet).encode()), decode=True, nocache=True)]
assert any(l == '\x1b[91m%s\n\x1b[0m' % snippet for l in lines), lines
print('stderr ok')

# test_build_gzip_encoding, test_build_with_dockerfile_empty_lines
base = tempfile.mkdtemp()
open(os.path.join(base, 'Dockerfile'), 'w').write('FROM busybox\nADD . /test')
lines = drain(client.build(path=base, decode=True, nocache=True, gzip=True))
assert 'Successfully built' in lines[-1]['stream'], lines[-1]
base = tempfile.mkdtemp()
open(os.path.join(base, 'Dockerfile'), 'w').write('FROM busybox\n')
open(os.path.join(base, '.dockerignore'), 'w').write('\n'.join(['   ', '', '\t\t', '\t     ']))
lines = drain(client.build(path=base, decode=True, nocache=True))
assert 'Successfully built' in lines[-1]['stream'], lines[-1]
print('gzip and empty lines ok')

# test_build_out_of_context_dockerfile, in_context, nested, abs
base = tempfile.mkdtemp()
open(os.path.join(base, 'file.txt'), 'w').write('hello world')
open(os.path.join(base, '.dockerignore'), 'w').write('.dockerignore\n')
dfdir = tempfile.mkdtemp()
df = os.path.join(dfdir, 'Dockerfile')
open(df, 'w').write('FROM busybox\nCOPY . /src\nWORKDIR /src')
lines = drain(client.build(path=base, dockerfile=df, tag='outofctx', decode=True))
assert 'Successfully tagged' in lines[-1]['stream'], lines[-1]
assert sorted(run('outofctx', 'ls -a').strip().split(b'\n')) == sorted([b'.', b'..', b'file.txt'])
for name in ['custom.dockerfile', 'hello/world/custom.dockerfile']:
    base = tempfile.mkdtemp()
    open(os.path.join(base, 'file.txt'), 'w').write('hello world')
    os.makedirs(os.path.dirname(os.path.join(base, name)), exist_ok=True)
    open(os.path.join(base, name), 'w').write('FROM busybox\nCOPY . /src\nWORKDIR /src')
    for df in [name, os.path.join(base, name)]:
        lines = drain(client.build(path=base, dockerfile=df, tag='inctx', decode=True))
        assert 'Successfully tagged' in lines[-1]['stream'], lines[-1]
        got = sorted(run('inctx', 'ls -a').strip().split(b'\n'))
        top = name.split('/')[0].encode()
        assert got == sorted([b'.', b'..', b'file.txt', top]), got
print('dockerfile paths ok')

# test_prune_builds
r = client.prune_builds()
assert 'SpaceReclaimed' in r and isinstance(r['SpaceReclaimed'], int), r
print('prune ok')
"#;

#[test]
fn docker_py_build_tests_pass() {
    let d = Daemon::start();
    let out = d.python(&format!("import docker\n{DOCKER_PY_BUILD}"));
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "docker-py build checks failed:\n{text}\n{}",
        stderr(&out)
    );
    for part in [
        "proxy",
        "dockerignore",
        "scratch",
        "cache_from",
        "target",
        "network none",
        "extra_hosts",
        "stderr",
        "gzip and empty lines",
        "dockerfile paths",
        "prune",
    ] {
        assert!(text.contains(&format!("{part} ok")), "{part}: {text}");
    }
    // docker-py builds with `rm=False` by default: as with dockerd, each RUN step's
    // container stays, exited; the one of the failed `network none` step exited 1.
    let ps = ok(
        &d.docker(&["ps", "-a", "--format", "{{.Command}} {{.Status}}"]),
        "ps",
    );
    assert!(
        ps.lines()
            .all(|l| l.starts_with("\"/bin/sh -c ") && l.contains("Exited")),
        "{ps}"
    );
    assert_eq!(ps.matches("Exited (1)").count(), 1, "{ps}");
}

/// compose v1 (Debian's `docker-compose`) against the daemon, in `dir`.
fn compose(d: &Daemon, dir: &Path, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new("timeout")
        .arg("120")
        .arg("docker-compose")
        .args(["-p", "b2c"])
        .args(args)
        .current_dir(dir)
        .env("DOCKER_HOST", d.host())
        .env("DOCKER_CONFIG", d.dir.path().join("docker-config"))
        .env("COMPOSE_DOCKER_CLI_BUILD", "0")
        .stdin(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) => {
            assert!(
                o.status.code() != Some(127),
                "docker-compose is missing: apt-get install docker-compose"
            );
            o
        }
        Err(e) => panic!("run docker-compose ({e}): apt-get install docker-compose"),
    }
}

#[test]
fn compose_v1_builds_and_runs_a_service() {
    let d = Daemon::start();
    let dir = context(
        &d,
        "compose",
        &[
            (
                "docker-compose.yml",
                "version: '2.4'\nservices:\n  web:\n    build:\n      context: ./web\n      args:\n        WHO: compose\n    network_mode: none\n",
            ),
            (
                "web/Dockerfile",
                "FROM busybox\nARG WHO=nobody\nRUN echo \"built by $WHO\" > /who\nCMD [\"cat\", \"/who\"]\n",
            ),
        ],
    );
    let built = compose(&d, &dir, &["build"]);
    assert!(
        built.status.success(),
        "compose build: {}\n{}",
        stderr(&built),
        stdout(&built)
    );
    let text = format!("{}{}", stdout(&built), stderr(&built));
    assert!(
        text.contains("Successfully tagged b2c_web:latest"),
        "{text}"
    );
    let up = compose(
        &d,
        &dir,
        &[
            "up",
            "--no-color",
            "--abort-on-container-exit",
            "--exit-code-from",
            "web",
        ],
    );
    let text = format!("{}{}", stdout(&up), stderr(&up));
    assert!(up.status.success(), "compose up: {text}");
    assert!(text.contains("built by compose"), "{text}");
    let down = compose(&d, &dir, &["down"]);
    assert!(down.status.success(), "compose down: {}", stderr(&down));
    assert!(containers(&d).is_empty());
}

#[test]
fn a_client_that_goes_away_cancels_the_build() {
    use std::io::BufRead;
    let d = Daemon::start();
    let ctx = context(
        &d,
        "slow",
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo started && sleep 60\nRUN echo never\n",
        )],
    );
    let mut child = std::process::Command::new(engine_harness::docker_bin())
        .args(["-H", &d.host(), "build", "-t", "slow", s(&ctx)])
        .env("DOCKER_CONFIG", d.dir.path().join("docker-config"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("docker build");
    let out = child.stdout.take().expect("stdout");
    for line in std::io::BufReader::new(out).lines() {
        if line.expect("line").contains("started") {
            break;
        }
    }
    // The step runs: its container exists. Then the client goes away.
    assert_eq!(containers(&d).len(), 1);
    child.kill().expect("kill docker build");
    let _ = child.wait();
    engine_harness::eventually("the build's container removed", || {
        containers(&d).is_empty()
    });
    assert!(!d.docker(&["inspect", "slow"]).status.success());
    let contexts = d.data_root().join("build/contexts");
    engine_harness::eventually("the context directory removed", || {
        std::fs::read_dir(&contexts).is_ok_and(|mut r| r.next().is_none())
    });
}

#[test]
fn build_host_settings_are_checked_before_anything_runs() {
    let d = Daemon::start();
    // No RUN step: the settings would never reach a container, and used to be dropped.
    let dir = context(&d, "norun", &[("Dockerfile", "FROM busybox\nLABEL a=b\n")]);
    for (args, named) in [
        (&["--network", "no-such-net"][..], "no-such-net"),
        (&["--memory", "1k"][..], "Minimum memory limit"),
    ] {
        let mut all = vec!["build", "-t", "norun:x"];
        all.extend_from_slice(args);
        all.push(s(&dir));
        let out = d.docker(&all);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(stderr(&out).contains(named), "{args:?}: {}", stderr(&out));
    }
    let out = d.docker(&["image", "inspect", "norun:x"]);
    assert!(!out.status.success(), "a refused build tagged an image");
    assert!(containers(&d).is_empty());
}
