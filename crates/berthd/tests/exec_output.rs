//! Exec output through docker-py and the docker CLI: every byte a quick process writes
//! reaches the client, framed exactly as dockerd frames it (by the start request's `Tty`).
//! Regression tests for issue 10's "exec output is lost".

mod engine_harness;

use engine_harness::{Daemon, ok, stdout};

/// A running container for execs.
fn sleeper(d: &Daemon, name: &str) {
    ok(
        &d.docker(&["run", "-d", "--name", name, "busybox", "sleep", "1000"]),
        "run",
    );
}

#[test]
fn docker_py_gets_every_byte_of_quick_execs() {
    let d = Daemon::start();
    sleeper(&d, "ex");
    // Many rounds: the bytes of a quick process used to arrive with the 101 reply, inside
    // the buffer http.client reads the headers with, and docker-py dropped them.
    d.python_ok(
        r#"
for i in range(40):
    e = client.exec_create('ex', ['echo', 'hello'])
    got = client.exec_start(e)
    assert got == b'hello\n', ('plain', i, got)
    e = client.exec_create('ex', ['sh', '-c', 'echo hello; echo world'])
    got = b''.join(client.exec_start(e, stream=True))
    assert got == b'hello\nworld\n', ('stream', i, got)
    e = client.exec_create('ex', ['sh', '-c', 'echo hello; echo world >&2'])
    got = client.exec_start(e, demux=True)
    assert got == (b'hello\n', b'world\n'), ('demux', i, got)
    assert client.exec_inspect(e)['ExitCode'] == 0
print('ok')
"#,
    );
}

#[test]
fn tty_exec_framing_follows_the_start_request() {
    let d = Daemon::start();
    sleeper(&d, "tx");
    d.python_ok(
        r#"
from docker.utils.socket import next_frame_header, read_exactly
# a TTY exec started without Tty (docker-py's default) is read as frames, all stdout
e = client.exec_create('tx', ['sh', '-c', 'echo out; echo err >&2'], tty=True)
got = client.exec_start(e, demux=True)
assert got == (b'out\r\nerr\r\n', None), ('tty frames', got)
# started with Tty: raw bytes
e = client.exec_create('tx', ['echo', 'raw'], tty=True)
got = client.exec_start(e, tty=True)
assert got == b'raw\r\n', ('tty raw', got)
# socket=True: the first thing on the socket is a stdout frame header
line = 'yay, interactive exec!'
e = client.exec_create('tx', ['printf', line], tty=True)
sock = client.exec_start(e, socket=True)
stream, size = next_frame_header(sock)
assert (stream, size) == (1, len(line)), (stream, size)
assert read_exactly(sock, size).decode() == line
sock.close()
# a non-TTY exec: stdout and stderr in their own frames
e = client.exec_create('tx', ['sh', '-c', 'echo a; echo b >&2'])
sock = client.exec_start(e, socket=True)
frames = []
while True:
    stream, size = next_frame_header(sock)
    if size < 0:
        break
    frames.append((stream, read_exactly(sock, size)))
assert sorted(frames) == [(1, b'a\n'), (2, b'b\n')], frames
# detachKeys as docker-py spells it
e = client.exec_create('tx', 'cat', stdin=True, tty=True, detach_keys='ctrl-x')
assert client.exec_inspect(e)['DetachKeys'] == 'ctrl-x'
print('ok')
"#,
    );
}

#[test]
fn docker_cli_exec_splits_stdout_and_stderr() {
    let d = Daemon::start();
    sleeper(&d, "cx");
    for _ in 0..10 {
        let out = d.docker(&["exec", "cx", "sh", "-c", "echo a; echo b >&2"]);
        assert_eq!(ok(&out, "exec"), "a\n");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "b\n");
    }
    let out = d.docker(&["exec", "-t", "cx", "sh", "-c", "echo a; echo b >&2"]);
    assert_eq!(ok(&out, "exec -t"), "a\r\nb\r\n");
}

#[test]
fn an_exec_that_cannot_start_streams_its_error_and_exits_127() {
    let d = Daemon::start();
    sleeper(&d, "nx");
    // docker: the error is printed and the exit status is the exec's (127: not found).
    let out = d.docker(&["exec", "nx", "no-such-binary"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("no-such-binary"),
        "the error names it: {text}"
    );
    // docker-py's exec_run steps (its test_exec_run_failed): no exception, exit code 127.
    let out = d.python(
        r#"
e = client.exec_create('nx', 'no-such-binary')
client.exec_start(e)
print(client.exec_inspect(e)['ExitCode'])
"#,
    );
    assert_eq!(
        stdout(&out).trim(),
        "127",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A detached start of such an exec still answers with the error.
    let (code, body) = d.http(
        "POST",
        "/containers/nx/exec",
        r#"{"Cmd":["no-such-binary"]}"#,
    );
    assert_eq!(code, 201, "{body}");
    let exec_id = body
        .split('"')
        .nth(3)
        .expect("exec id in the create response")
        .to_string();
    let (code, body) = d.http(
        "POST",
        &format!("/exec/{exec_id}/start"),
        r#"{"Detach":true}"#,
    );
    assert!(code >= 400, "{code} {body}");
}
