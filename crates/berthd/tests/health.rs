//! Health checks through the docker CLI: status transitions in inspect and ps, events,
//! `--filter health=`, timeouts, the start period, the image's HEALTHCHECK and berth's
//! restart-on-unhealthy label.

mod engine_harness;

use engine_harness::{Daemon, eventually, ok, stdout};

fn health(d: &Daemon, name: &str) -> serde_json::Value {
    let out = d.docker(&["inspect", "-f", "{{json .State.Health}}", name]);
    serde_json::from_str(stdout(&out).trim()).unwrap_or(serde_json::Value::Null)
}

fn status(d: &Daemon, name: &str) -> String {
    health(d, name)["Status"].as_str().unwrap_or("").to_owned()
}

fn actions(d: &Daemon, name: &str) -> Vec<String> {
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.as_secs() + 1)
        .unwrap_or(0)
        .to_string();
    let out = d.docker(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        &format!("container={name}"),
        "--format",
        "{{.Action}}",
    ]);
    stdout(&out).lines().map(str::to_owned).collect()
}

#[test]
fn unhealthy_then_healthy_with_events_ps_and_filters() {
    let d = Daemon::start();
    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "hc",
            "--health-cmd",
            "cat /tmp/ok",
            "--health-interval",
            "1s",
            "--health-retries",
            "2",
            "busybox",
            "sleep",
            "1000",
        ]),
        "run",
    );
    assert!(
        stdout(&d.docker(&["ps", "--format", "{{.Status}}"])).contains("(health: starting)")
            || status(&d, "hc") != "starting"
    );
    eventually("unhealthy", || status(&d, "hc") == "unhealthy");
    let h = health(&d, "hc");
    assert!(h["FailingStreak"].as_i64().is_some_and(|n| n >= 2), "{h}");
    assert!(stdout(&d.docker(&["ps", "--format", "{{.Status}}"])).contains("(unhealthy)"));
    let names = |f: &str| stdout(&d.docker(&["ps", "--filter", f, "--format", "{{.Names}}"]));
    assert_eq!(names("health=unhealthy").trim(), "hc");
    assert_eq!(names("health=healthy").trim(), "");
    // the probe's output is kept
    ok(
        &d.docker(&["exec", "hc", "sh", "-c", "echo fine > /tmp/ok"]),
        "exec",
    );
    eventually("healthy", || status(&d, "hc") == "healthy");
    let h = health(&d, "hc");
    assert_eq!(h["FailingStreak"], 0);
    let log = h["Log"].as_array().cloned().unwrap_or_default();
    assert!(!log.is_empty() && log.len() <= 5, "{h}");
    let last = &log[log.len() - 1];
    assert_eq!(last["ExitCode"], 0);
    assert_eq!(last["Output"], "fine\n");
    assert!(stdout(&d.docker(&["ps", "--format", "{{.Status}}"])).contains("(healthy)"));
    assert_eq!(names("health=healthy").trim(), "hc");
    eventually("five results at most", || {
        health(&d, "hc")["Log"]
            .as_array()
            .is_some_and(|l| l.len() == 5)
    });
    let a = actions(&d, "hc");
    assert!(a.contains(&"health_status: unhealthy".to_owned()), "{a:?}");
    assert!(a.contains(&"health_status: healthy".to_owned()), "{a:?}");
    // a container without a check
    ok(
        &d.docker(&["run", "-d", "--name", "plain", "busybox", "sleep", "1000"]),
        "run",
    );
    assert_eq!(names("health=none").trim(), "plain");
    assert!(health(&d, "plain").is_null());
}

#[test]
fn timeout_start_period_and_refusals() {
    let d = Daemon::start();
    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "slow",
            "--health-cmd",
            "sleep 30",
            "--health-timeout",
            "1s",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            "busybox",
            "sleep",
            "1000",
        ]),
        "run",
    );
    eventually("unhealthy by timeout", || status(&d, "slow") == "unhealthy");
    let h = health(&d, "slow");
    let r = &h["Log"][0];
    assert_eq!(r["ExitCode"], -1, "{h}");
    assert_eq!(r["Output"], "Health check exceeded timeout (1s)");
    // the killed probe is gone from the container
    eventually("the probe killed", || {
        !stdout(&d.docker(&["top", "slow"])).contains("sleep 30")
    });

    // failures during the start period do not count
    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "warm",
            "--health-cmd",
            "false",
            "--health-start-period",
            "60s",
            "--health-start-interval",
            "1s",
            "--health-retries",
            "1",
            "busybox",
            "sleep",
            "1000",
        ]),
        "run",
    );
    eventually("two failed probes", || {
        health(&d, "warm")["Log"]
            .as_array()
            .is_some_and(|l| l.len() >= 2)
    });
    let h = health(&d, "warm");
    assert_eq!(h["Status"], "starting", "{h}");
    assert_eq!(h["FailingStreak"], 0, "{h}");

    // the docker CLI checks this itself; the API refuses it as dockerd does
    let (code, body) = d.http(
        "POST",
        "/containers/create",
        r#"{"Image":"busybox","Cmd":["true"],"Healthcheck":{"Test":["CMD","true"],"Retries":-1}}"#,
    );
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("Retries in Healthcheck cannot be negative"),
        "{body}"
    );
    let (code, body) = d.http(
        "POST",
        "/containers/create",
        r#"{"Image":"busybox","Cmd":["true"],"Healthcheck":{"Test":["CMD","true"],"Interval":10}}"#,
    );
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("Interval in Healthcheck cannot be less than 1ms"),
        "{body}"
    );
}

#[test]
fn image_healthcheck_and_restart_on_unhealthy() {
    let d = Daemon::start();
    let tar = d.dir.path().join("busybox.tar");
    ok(
        &d.docker(&[
            "import",
            "--change",
            "CMD [\"sleep\", \"1000\"]",
            "--change",
            "HEALTHCHECK --interval=1s CMD true",
            tar.to_str().unwrap_or_default(),
            "hbox",
        ]),
        "import",
    );
    ok(&d.docker(&["run", "-d", "--name", "img", "hbox"]), "run");
    eventually("healthy from the image's check", || {
        status(&d, "img") == "healthy"
    });
    ok(
        &d.docker(&["run", "-d", "--name", "off", "--no-healthcheck", "hbox"]),
        "run",
    );
    assert!(health(&d, "off").is_null());

    ok(
        &d.docker(&[
            "run",
            "-d",
            "--name",
            "flaky",
            "--stop-timeout",
            "1",
            "--label",
            "berth.restart-on-unhealthy=true",
            "--health-cmd",
            "false",
            "--health-interval",
            "1s",
            "--health-retries",
            "1",
            "busybox",
            "sleep",
            "1000",
        ]),
        "run",
    );
    let first = d.inspect("flaky", "{{.State.StartedAt}}");
    eventually("restarted after turning unhealthy", || {
        actions(&d, "flaky").contains(&"restart".to_owned())
    });
    eventually("running again", || {
        d.inspect("flaky", "{{.State.Status}}") == "running"
            && d.inspect("flaky", "{{.State.StartedAt}}") != first
    });
}

#[test]
fn berth_cli_health_and_log_flags() {
    let d = Daemon::start();
    ok(
        &d.berth(&[
            "run",
            "-d",
            "--name",
            "bf",
            "--health-cmd",
            "true",
            "--health-interval",
            "1s",
            "--log-opt",
            "max-size=1k",
            "--log-opt",
            "max-file=2",
            "busybox",
            "sleep",
            "1000",
        ]),
        "berth run",
    );
    eventually("healthy", || status(&d, "bf") == "healthy");
    assert_eq!(
        d.inspect(
            "bf",
            "{{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}}"
        ),
        "[CMD-SHELL true] 1s"
    );
    assert_eq!(
        d.inspect("bf", "{{index .HostConfig.LogConfig.Config \"max-size\"}}"),
        "1k"
    );
    let out = d.berth(&["run", "--log-driver", "syslog", "busybox", "true"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no log driver named 'syslog'"));
}
