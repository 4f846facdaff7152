//! `start`, `stop`, `kill`, `restart`, `rm`, `wait`, `logs`.

use berth_api::container::WaitResponse;
use hyper::Method;

use super::for_each;
use crate::attach::copy_response;
use crate::cli::{KillArgs, LogsArgs, RmArgs, StartArgs, StopArgs, WaitArgs};
use crate::client::{Client, empty, enc, query};
use crate::format::units::api_timestamp;

/// `berth start`.
pub async fn start(client: &Client, args: &StartArgs) -> anyhow::Result<i32> {
    if args.attach || args.interactive {
        let [id] = args.containers.as_slice() else {
            anyhow::bail!("you cannot start and attach multiple containers at once");
        };
        return super::run::attach_start_wait(client, id, args.interactive, false).await;
    }
    Ok(for_each(&args.containers, |c| async move {
        client
            .call(Method::POST, &format!("/containers/{}/start", enc(&c)))
            .await?;
        Ok(Some(c))
    })
    .await)
}

fn stop_query(args: &StopArgs) -> String {
    query(&[
        ("signal", args.signal.clone()),
        ("t", args.time.map(|t| t.to_string())),
    ])
}

/// `berth stop`.
pub async fn stop(client: &Client, args: &StopArgs) -> anyhow::Result<i32> {
    let q = stop_query(args);
    Ok(for_each(&args.containers, |c| {
        let q = q.clone();
        async move {
            client
                .call(Method::POST, &format!("/containers/{}/stop{q}", enc(&c)))
                .await?;
            Ok(Some(c))
        }
    })
    .await)
}

/// `berth restart`.
pub async fn restart(client: &Client, args: &StopArgs) -> anyhow::Result<i32> {
    let q = stop_query(args);
    Ok(for_each(&args.containers, |c| {
        let q = q.clone();
        async move {
            client
                .call(Method::POST, &format!("/containers/{}/restart{q}", enc(&c)))
                .await?;
            Ok(Some(c))
        }
    })
    .await)
}

/// `berth kill`.
pub async fn kill(client: &Client, args: &KillArgs) -> anyhow::Result<i32> {
    let q = query(&[("signal", args.signal.clone())]);
    Ok(for_each(&args.containers, |c| {
        let q = q.clone();
        async move {
            client
                .call(Method::POST, &format!("/containers/{}/kill{q}", enc(&c)))
                .await?;
            Ok(Some(c))
        }
    })
    .await)
}

/// `berth rm`.
pub async fn rm(client: &Client, args: &RmArgs) -> anyhow::Result<i32> {
    let q = query(&[
        ("force", args.force.then(|| "1".to_string())),
        ("v", args.volumes.then(|| "1".to_string())),
    ]);
    Ok(for_each(&args.containers, |c| {
        let q = q.clone();
        async move {
            client
                .call(Method::DELETE, &format!("/containers/{}{q}", enc(&c)))
                .await?;
            Ok(Some(c))
        }
    })
    .await)
}

/// `berth wait`.
pub async fn wait(client: &Client, args: &WaitArgs) -> anyhow::Result<i32> {
    Ok(for_each(&args.containers, |c| async move {
        let resp = client
            .send(
                Method::POST,
                &format!("/containers/{}/wait", enc(&c)),
                empty(),
                None,
                false,
            )
            .await?;
        let w: WaitResponse = crate::client::decode(resp).await?;
        if let Some(e) = w.error {
            anyhow::bail!("{}", e.message);
        }
        Ok(Some(w.status_code.to_string()))
    })
    .await)
}

/// The query of `logs`.
pub fn logs_query(args: &LogsArgs, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<String> {
    let time = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<String>> {
        v.as_deref()
            .map(|s| {
                api_timestamp(s, now).ok_or_else(|| {
                    anyhow::anyhow!(
                        "invalid value for \"{flag}\": {s:?} is not a timestamp or duration"
                    )
                })
            })
            .transpose()
    };
    Ok(query(&[
        ("stdout", Some("1".into())),
        ("stderr", Some("1".into())),
        ("follow", args.follow.then(|| "1".into())),
        ("tail", args.tail.clone()),
        ("since", time("since", &args.since)?),
        ("until", time("until", &args.until)?),
        ("timestamps", args.timestamps.then(|| "1".into())),
    ]))
}

/// `berth logs`.
pub async fn logs(client: &Client, args: &LogsArgs) -> anyhow::Result<i32> {
    let q = logs_query(args, chrono::Utc::now())?;
    let resp = client
        .send(
            Method::GET,
            &format!("/containers/{}/logs{q}", enc(&args.container)),
            empty(),
            None,
            false,
        )
        .await?;
    copy_response(resp).await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_query_is_docker_shaped() {
        let args = LogsArgs {
            follow: true,
            tail: Some("10".into()),
            since: Some("1700000000".into()),
            until: None,
            timestamps: true,
            container: "c".into(),
        };
        let q = logs_query(&args, chrono::Utc::now()).unwrap();
        assert_eq!(
            q,
            "?stdout=1&stderr=1&follow=1&tail=10&since=1700000000&timestamps=1"
        );
        let bad = LogsArgs {
            since: Some("whenever".into()),
            ..args
        };
        assert!(logs_query(&bad, chrono::Utc::now()).is_err());
    }
}
